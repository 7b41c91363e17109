// Writes .env.example and docs/configuration.md from the configuration table
// (server/src/config/variables.ts). Run it after changing the table:
//   npm run config:docs      (node --import tsx server/scripts/config-docs.ts)
// The test server/test/platform/env-example.test.ts fails while the committed files differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as prettier from 'prettier';
import { renderConfigurationDoc, renderEnvExample } from '../src/config/docs.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Every generated file: its path from the repository root and its exact expected text. */
export async function configFiles(): Promise<readonly { path: string; text: string }[]> {
  const docPath = `${ROOT}docs/configuration.md`;
  // Formatted as `npm run format` would, so the format check and this generator agree.
  const options = await prettier.resolveConfig(docPath);
  const doc = await prettier.format(renderConfigurationDoc(), { ...options, filepath: docPath });
  return [
    { path: '.env.example', text: renderEnvExample() },
    { path: 'docs/configuration.md', text: doc },
  ];
}

/** Reads a committed file; a missing one reads as empty, so it counts as changed. */
export function committedText(path: string): string {
  try {
    return readFileSync(`${ROOT}${path}`, 'utf8');
  } catch {
    return '';
  }
}

async function main(): Promise<void> {
  for (const { path, text } of await configFiles()) {
    if (committedText(path) === text) {
      process.stdout.write(`unchanged ${path}\n`);
    } else {
      writeFileSync(`${ROOT}${path}`, text);
      process.stdout.write(`wrote     ${path}\n`);
    }
  }
}

// Imported by the drift test, run as a script by `npm run config:docs`.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
