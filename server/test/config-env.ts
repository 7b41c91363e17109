// What the configuration tests (S1, T1, T5) stand on: a production environment that loads, a
// strong master key, a scratch folder per test as loadConfig's working directory (for key
// files and .env lookups), and the problem list of a configuration that must be refused.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

export type Env = Record<string, string | undefined>;

/** 32 random bytes, base64: a master key every strength rule accepts. */
export const strongKey = (): string => randomBytes(32).toString('base64');

/** A production environment that loads; each test breaks one thing. */
export function productionEnv(overrides: Env = {}): Env {
  return {
    HAVEN_ENV: 'production',
    HAVEN_MASTER_KEY: strongKey(),
    HAVEN_PUBLIC_URL: 'https://haven.example',
    DATABASE_URL: 'postgres://haven@db.internal:5432/haven',
    REDIS_URL: 'redis://cache.internal:6379',
    HAVEN_SMTP_URL: 'smtp://mail.internal:587',
    HAVEN_TRUSTED_PROXIES: '10.0.0.0/8',
    ...overrides,
  };
}

/** A fresh folder for each test, removed after it; call the returned function for its path. */
export function useScratchDir(prefix: string): () => string {
  let dir: string | undefined;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), prefix));
  });
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  return () => {
    if (dir === undefined) throw new Error('the scratch folder exists only during a test');
    return dir;
  };
}

/** The problems of a configuration that must be refused (fails the test if it loads). */
export function configProblems(env: Env, cwd: string): readonly string[] {
  try {
    loadConfig(env, { cwd });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected loadConfig to refuse this configuration');
}
