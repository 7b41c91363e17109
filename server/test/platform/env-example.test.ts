// S1: .env.example documents every variable the configuration reads, and nothing else.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { ENV_VARIABLES } from '../../src/config.js';

it('S1: .env.example lists exactly the variables config.ts reads', () => {
  const text = readFileSync(new URL('../../../.env.example', import.meta.url), 'utf8');
  const documented = [...text.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]).sort();
  expect(documented).toEqual(Object.keys(ENV_VARIABLES).sort());
});

it('S1: config.ts reads no variable that ENV_VARIABLES does not declare', () => {
  const source = readFileSync(new URL('../../src/config.ts', import.meta.url), 'utf8');
  const read = new Set([...source.matchAll(/env\.([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]));
  read.delete('NODE_ENV'); // the conventional fallback for HAVEN_ENV, documented there
  const declared = new Set(Object.keys(ENV_VARIABLES));
  expect([...read].filter((name) => !declared.has(name!))).toEqual([]);
});
