// S1: the configuration table (server/src/config/variables.ts) is the only list of variables.
// .env.example and docs/configuration.md are generated from it and must not drift; no code
// reads the environment around it; and what the table promises (defaults, secrets) is true.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENV_VARIABLES, loadConfig } from '../../src/config.js';
import { VARIABLES } from '../../src/config/variables.js';
import { committedText, configFiles } from '../../scripts/config-docs.js';

const SRC = path.resolve(import.meta.dirname, '../../src');
const ROWS = Object.entries(VARIABLES);

describe('generated files', () => {
  it('S1: .env.example and docs/configuration.md match the configuration table', async () => {
    for (const { path: file, text } of await configFiles()) {
      expect(
        committedText(file),
        `${file} differs from server/src/config/variables.ts: run \`npm run config:docs\` ` +
          '(node --import tsx server/scripts/config-docs.ts) and commit the result',
      ).toBe(text);
    }
  });

  it('S1: .env.example lists exactly the variables of the table, secrets without a value', () => {
    const text = committedText('.env.example');
    const listed = [...text.matchAll(/^(# )?([A-Z][A-Z0-9_]*)=(.*)$/gm)];
    expect(listed.map((m) => m[2]).sort()).toEqual(Object.keys(ENV_VARIABLES).sort());
    const secrets = new Set(ROWS.filter(([, row]) => row.secret).map(([name]) => name));
    for (const [, commented, name, value] of listed) {
      if (!secrets.has(name!)) continue;
      // Commented out, holding a placeholder that says how to make one.
      expect(commented, name).toBe('# ');
      expect(value, name).toMatch(/<[^>]+>/);
    }
  });
});

describe('the table', () => {
  it('S1: every row has one meaning, and either a literal default or a note on what unset means', () => {
    for (const [name, row] of ROWS) {
      expect(row.meaning, name).toMatch(/^[A-Za-z`].*\.$/);
      expect(row.meaning.match(/\. /g), `${name}: one sentence`).toBe(null);
      expect(row.default === undefined, `${name}: default xor unset`).toBe(row.unset !== undefined);
    }
  });

  it('S1: secrets have no default and a placeholder, never a value', () => {
    const secrets = ROWS.filter(([, row]) => row.secret);
    expect(secrets.map(([name]) => name)).toContain('HAVEN_MASTER_KEY');
    for (const [name, row] of secrets) {
      expect(row.default, name).toBeUndefined();
      expect(row.example, name).toMatch(/<[^>]+>/);
    }
  });

  it('S1: config code reads the environment only through the table', () => {
    const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter(
      (file) => file.endsWith('.ts') && !file.endsWith('.test.ts'),
    );
    const readers = files.filter((file) =>
      /process\.env\b/.test(readFileSync(path.join(SRC, file), 'utf8')),
    );
    // loadConfig's default argument; everything else receives the parsed HavenConfig.
    expect(readers).toEqual([path.join('config', 'load.ts')]);
    for (const file of files.filter((f) => f.startsWith('config'))) {
      const source = readFileSync(path.join(SRC, file), 'utf8');
      expect(source.match(/\benv\.[A-Z][A-Z0-9_]*/g), file).toBe(null);
    }
  });
});

describe('defaults', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'haven-env-example-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('S1: a verbatim copy of .env.example loads the same config as an empty environment', () => {
    const live: Record<string, string> = Object.fromEntries(
      [...committedText('.env.example').matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)].map(
        (m): [string, string] => [m[1]!, m[2]!],
      ),
    );
    expect(Object.keys(live).length).toBeGreaterThan(20);
    const base = { HAVEN_ENV: 'test', HAVEN_MASTER_KEY: randomBytes(32).toString('base64') };
    const withDefaults = loadConfig({ ...live, ...base }, { cwd: dir });
    expect(withDefaults).toEqual(loadConfig(base, { cwd: dir }));
  });
});
