// A test file's private clamd (F5 against a real scanner): started before the file's tests,
// stopped after them. Kept apart from clamd-server.ts, which the scan benchmark imports
// outside the test runner.
import { afterAll, beforeAll } from 'vitest';
import { startClamd, type ClamdServer } from './clamd-server.js';

/** Registers the hooks; the returned function gives the running clamd's TCP address. */
export function usePrivateClamd(): () => { host: string; port: number } {
  let clamd: ClamdServer | undefined;
  beforeAll(async () => {
    clamd = await startClamd();
  }, 90_000);
  afterAll(async () => {
    await clamd?.stop();
  });
  return () => {
    if (!clamd) throw new Error('clamd is not running (usePrivateClamd outside a test?)');
    return { host: clamd.host, port: clamd.port };
  };
}
