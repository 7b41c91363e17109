// Test helpers for the audit chain (L3): seal until the log is caught up, a chain key, and
// job dependencies whose anchors are collected in memory.
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../src/platform/db/schema.js';
import type { AuditAnchor } from '../src/platform/audit/anchors.js';
import { deriveAuditChainKey, type AuditChainKey } from '../src/platform/audit/chain-key.js';
import type { AuditSealing } from '../src/platform/audit/configured.js';
import { sealAuditChain } from '../src/platform/audit/seal.js';

/** A chain key of a fresh random master key. */
export function testChainKey(): AuditChainKey {
  return deriveAuditChainKey(randomBytes(32));
}

/** What jobHandlers() needs, with a fresh chain key and the anchors kept in `published`. */
export function testAuditSealing(): AuditSealing & { published: AuditAnchor[] } {
  const published: AuditAnchor[] = [];
  return {
    auditChainKey: testChainKey(),
    anchorSink: {
      publish: (anchor) => {
        published.push(anchor);
        return Promise.resolve();
      },
    },
    published,
  };
}

/**
 * Runs the sealer until at most `leaveUnsealed` committed events remain outside the chain, and
 * returns how many it sealed. On a PostgreSQL server shared with other test files, an open
 * write transaction in any database holds sealing back for a moment (platform/audit/seal.ts),
 * so this retries for up to `timeoutMs` instead of expecting one call to seal everything.
 *
 * Without `key` it writes the plain SHA-256 seals of before migration 0006, which every test
 * that does not look at keying can verify without a key; production always seals with one.
 */
export async function sealEverything(
  db: Kysely<DatabaseSchema>,
  options: {
    leaveUnsealed?: number;
    batchSize?: number;
    timeoutMs?: number;
    key?: AuditChainKey;
  } = {},
): Promise<number> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let total = 0;
  for (;;) {
    const { sealed, busy } = await sealAuditChain(db, {
      ...(options.batchSize !== undefined && { batchSize: options.batchSize }),
      ...(options.key !== undefined && { key: options.key }),
    });
    total += sealed;
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from audit_events e
      where not exists (select 1 from audit_seals s where s.seq = e.seq)`.execute(db);
    const unsealed = rows[0]?.n ?? 0;
    if (unsealed <= (options.leaveUnsealed ?? 0)) return total;
    if (Date.now() > deadline) {
      throw new Error(
        `${unsealed} audit events are still unsealed after ${options.timeoutMs ?? 20_000} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, busy ? 10 : 50));
  }
}

/** The sealed chain in position order: each event with its seal's position, links and key id. */
export async function sealedChain(db: Kysely<DatabaseSchema>) {
  return db
    .selectFrom('audit_seals as s')
    .innerJoin('audit_events as e', 'e.seq', 's.seq')
    .selectAll('e')
    .select(['s.chain_position', 's.prev_hash as link_prev_hash', 's.hash as link_hash'])
    .select(['s.key_id'])
    .select(sql<string>`e.xid::text`.as('xid'))
    .orderBy('s.chain_position')
    .execute();
}
