// S1: how the configuration table's rules combine into the problem list: one problem per
// mistake, and malformed values are listed rather than thrown.
import path from 'node:path';
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { configProblems, productionEnv, useScratchDir, type Env } from '../config-env.js';

const scratch = useScratchDir('haven-config-rules-');
const problemsOf = (env: Env): readonly string[] => configProblems(env, scratch());

const production = productionEnv();

it('S1: a malformed value is one problem, not also a broken production rule', () => {
  expect(problemsOf({ ...production, HAVEN_PUBLIC_URL: 'ftp://haven.example' })).toEqual([
    'HAVEN_PUBLIC_URL: "ftp://haven.example" is not an http(s) URL',
  ]);
  const unreadable = path.join(scratch(), 'missing.key');
  expect(
    problemsOf({ ...production, HAVEN_MASTER_KEY: undefined, HAVEN_MASTER_KEY_FILE: unreadable }),
  ).toEqual([`HAVEN_MASTER_KEY_FILE: cannot read ${unreadable}`]);
});

it('S1: an HIBP URL that only looks like one is listed as a problem, not thrown', () => {
  expect(
    problemsOf({
      HAVEN_ENV: 'test',
      HAVEN_MASTER_KEY: production.HAVEN_MASTER_KEY,
      HAVEN_HIBP_URL: 'https://a b',
    }),
  ).toEqual(['HAVEN_HIBP_URL: expected an http(s) URL']);
});

it('S1: a misspelt HAVEN_ENV is refused instead of quietly running a host in development mode', () => {
  expect(problemsOf({ ...production, HAVEN_ENV: 'prod' })).toEqual([
    'HAVEN_ENV: expected development, production or test, got "prod"',
  ]);
});

it('S1/T1: an empty HOST or data folder means the default, not every interface or the cwd', () => {
  const config = loadConfig(
    {
      HAVEN_ENV: 'test',
      HAVEN_MASTER_KEY: production.HAVEN_MASTER_KEY,
      HOST: '',
      HAVEN_DATA_DIR: '',
    },
    { cwd: scratch() },
  );
  expect(config.host).toBe('127.0.0.1');
  expect(config.dataDir).toBe(path.join(scratch(), 'data'));
});
