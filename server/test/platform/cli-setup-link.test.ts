// `haven setup-link` as an operator runs it (A11; issue 9, defect 6; threat: a lost first-admin
// link either blocks setup for 24 hours or stays usable beside its replacement). The link goes to
// stdout only, a new one voids the old, and once anyone has an account the command refuses.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { haven } from '../cli-process.js';
import { sha256Hex } from '../../src/platform/crypto.js';
import { openDatabase } from '../../src/platform/db/database.js';

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

const LINK = /^ {2}(http:\/\/\S+\/setup#token=([A-Za-z0-9_-]{43}))$/m;

it('A11/lost setup link: haven setup-link prints a new link on stdout only, voids the old one, and refuses once a user exists', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'haven-setup-cli-'));
  folders.push(dataDir);
  // A chatty log level: the link must still appear once, on stdout, outside any log line.
  const env = { HAVEN_DATA_DIR: dataDir, HAVEN_LOG_LEVEL: 'debug' };

  const first = await haven(['setup-link'], env);
  expect(first.code).toBe(0);
  const [, firstLink, firstToken] = LINK.exec(first.stdout) ?? [];
  expect(firstLink).toBeTruthy();
  expect(first.stdout.split(firstToken!)).toHaveLength(2);
  expect(first.stderr).not.toContain(firstToken!);

  const second = await haven(['setup-link'], env);
  expect(second.code).toBe(0);
  const secondToken = LINK.exec(second.stdout)?.[2];
  expect(secondToken).toBeTruthy();
  expect(secondToken).not.toBe(firstToken);

  const database = await openDatabase({ url: undefined, embeddedDir: path.join(dataDir, 'db') });
  try {
    const links = await database.db
      .selectFrom('one_time_tokens')
      .select(['token_hash', 'used_at'])
      .where('purpose', '=', 'setup')
      .execute();
    const live = links.filter((l) => l.used_at === null).map((l) => l.token_hash);
    expect(live).toEqual([sha256Hex(secondToken!)]);
    expect(links.map((l) => l.token_hash)).toContain(sha256Hex(firstToken!));
    await database.db
      .insertInto('users')
      .values({
        email: 'admin@example.org',
        email_normalized: 'admin@example.org',
        display_name: 'Admin',
        roles: ['admin'],
        status: 'active',
        password_hash: null,
      })
      .execute();
  } finally {
    await database.close();
  }

  const refused = await haven(['setup-link'], env);
  expect(refused.code).toBe(1);
  expect(refused.stdout).not.toMatch(/setup#token=/);
  expect(refused.stderr).toMatch(/already has users, so no setup link was issued/);
}, 300_000);

it('A11: --help lists setup-link', async () => {
  const help = await haven(['--help']);
  expect(help.stdout).toMatch(/^\s+setup-link\s+issue a new first-admin setup link/m);
}, 120_000);
