// S1: how the configuration table's rules combine into the problem list: one problem per
// mistake, and malformed values are listed rather than thrown.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'haven-config-rules-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function problemsOf(env: Record<string, string | undefined>): readonly string[] {
  try {
    loadConfig(env, { cwd: dir });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected loadConfig to refuse this configuration');
}

const production = {
  HAVEN_ENV: 'production',
  HAVEN_MASTER_KEY: randomBytes(32).toString('base64'),
  HAVEN_PUBLIC_URL: 'https://haven.example',
  DATABASE_URL: 'postgres://haven@db.internal:5432/haven',
  REDIS_URL: 'redis://cache.internal:6379',
  HAVEN_SMTP_URL: 'smtp://mail.internal:587',
  HAVEN_TRUSTED_PROXIES: '10.0.0.0/8',
};

it('S1: a malformed value is one problem, not also a broken production rule', () => {
  expect(problemsOf({ ...production, HAVEN_PUBLIC_URL: 'ftp://haven.example' })).toEqual([
    'HAVEN_PUBLIC_URL: "ftp://haven.example" is not an http(s) URL',
  ]);
  const unreadable = path.join(dir, 'missing.key');
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
    { cwd: dir },
  );
  expect(config.host).toBe('127.0.0.1');
  expect(config.dataDir).toBe(path.join(dir, 'data'));
});
