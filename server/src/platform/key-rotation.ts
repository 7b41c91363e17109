// Data-encryption key rotation (S2). Every value sealed with the key ring lives in one of the
// columns listed here, bound to its row by a context string. `haven keys rotate --data` walks
// them and re-seals each value whose key id is not the current one, so that the previous master
// key can be removed afterwards.
//
// Safety, row by row: each value is re-read under a row lock in its own short transaction,
// opened, sealed under the current key, the new text opened again and compared with the
// plaintext, and written only if the stored text is still the one that was read. A crash
// therefore leaves every row either as it was or re-sealed, never half-written, and a rerun
// skips what is already current: the job is idempotent and resumable without bookkeeping.
import { sql, type Kysely } from 'kysely';
import type { KeyRing } from './crypto.js';
import type { DatabaseSchema } from './db/schema.js';

/** The associated data each sealed value is bound to: one place, used by sealers and the job. */
export const sealContexts = {
  totpSecret: (userId: string): string => `totp:${userId}`,
  signingKey: (kid: string): string => `signing-key:${kid}`,
  bucketCredentials: (bucketId: string): string => `bucket-credentials:${bucketId}`,
  cookieSecret: (generation: string): string => `cookie-secret:${generation}`,
} as const;

interface SealedColumn {
  readonly table: keyof DatabaseSchema;
  readonly id: string;
  readonly sealed: string;
  /** A column repeating the sealing key id beside the value, kept in step. */
  readonly keyId?: string;
  readonly context: (id: string) => string;
}

/** Every sealed column in the database. A new one belongs here, or rotation leaves it behind. */
export const SEALED_COLUMNS: readonly SealedColumn[] = [
  { table: 'users', id: 'id', sealed: 'totp_secret_enc', context: sealContexts.totpSecret },
  {
    table: 'signing_keys',
    id: 'kid',
    sealed: 'private_key_enc',
    context: sealContexts.signingKey,
  },
  {
    table: 'buckets',
    id: 'id',
    sealed: 'credentials_sealed',
    keyId: 'credentials_key_id',
    context: sealContexts.bucketCredentials,
  },
  {
    table: 'browser_key_generations',
    id: 'generation',
    sealed: 'secret_sealed',
    context: sealContexts.cookieSecret,
  },
];

export interface TableRotation {
  readonly table: string;
  /** Values re-sealed under the current key by this run. */
  resealed: number;
  /** Values found already under the current key (or re-sealed by someone else meanwhile). */
  alreadyCurrent: number;
  /** Values no configured key opens: left untouched, and the run reports failure. */
  unreadable: number;
}

export interface DataRotationOptions {
  /** Rows listed per query (default 100); each row still gets its own transaction. */
  readonly batchSize?: number;
  /** Called after each re-sealed row is committed (tests stop a run here to simulate a crash). */
  readonly afterRow?: (table: string, id: string) => void;
}

export interface DataRotation {
  readonly keyId: string;
  readonly tables: readonly TableRotation[];
  /** True when every sealed value now names the current key. */
  readonly complete: boolean;
}

type Outcome = 'resealed' | 'alreadyCurrent' | 'unreadable';

/** Re-seals every sealed value under `ring`'s current key; see the file comment. */
export async function rotateDataKeys(
  db: Kysely<DatabaseSchema>,
  ring: KeyRing,
  options: DataRotationOptions = {},
): Promise<DataRotation> {
  const batchSize = options.batchSize ?? 100;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error('batchSize must be a positive integer');
  }
  const tables: TableRotation[] = [];
  for (const column of SEALED_COLUMNS) {
    const counts: TableRotation = {
      table: column.table,
      resealed: 0,
      alreadyCurrent: 0,
      unreadable: 0,
    };
    tables.push(counts);
    let after = '';
    for (;;) {
      const ids = await staleIds(db, column, ring.currentKeyId, after, batchSize);
      for (const id of ids) {
        const outcome = await resealRow(db, ring, column, id);
        counts[outcome] += 1;
        if (outcome === 'resealed') options.afterRow?.(column.table, id);
      }
      const last = ids.at(-1);
      if (last === undefined || ids.length < batchSize) break;
      after = last;
    }
  }
  return {
    keyId: ring.currentKeyId,
    tables,
    complete: tables.every((t) => t.unreadable === 0),
  };
}

/** Ids after `after` whose value does not name the current key, in id order. */
async function staleIds(
  db: Kysely<DatabaseSchema>,
  column: SealedColumn,
  currentKeyId: string,
  after: string,
  limit: number,
): Promise<string[]> {
  const id = sql.ref(column.id);
  const sealed = sql.ref(column.sealed);
  const result = await sql<{ id: string }>`
    select ${id}::text as id from ${sql.table(column.table)}
    where ${sealed} is not null
      and ${sealed} not like ${`v1.${currentKeyId}.%`}
      and ${id}::text > ${after}
    order by ${id}::text
    limit ${limit}`.execute(db);
  return result.rows.map((row) => row.id);
}

/** One row in its own transaction: lock, open, seal, verify, compare-and-set. */
function resealRow(
  db: Kysely<DatabaseSchema>,
  ring: KeyRing,
  column: SealedColumn,
  id: string,
): Promise<Outcome> {
  const table = sql.table(column.table);
  const idRef = sql.ref(column.id);
  const sealedRef = sql.ref(column.sealed);
  return db.transaction().execute(async (trx) => {
    const read = await sql<{ sealed: string | null }>`
      select ${sealedRef} as sealed from ${table} where ${idRef}::text = ${id} for update`.execute(
      trx,
    );
    const old = read.rows[0]?.sealed;
    if (old === undefined || old === null || ring.keyIdOf(old) === ring.currentKeyId) {
      return 'alreadyCurrent';
    }
    const context = column.context(id);
    let plain: Buffer;
    try {
      plain = ring.open(old, context);
    } catch {
      return 'unreadable';
    }
    const fresh = ring.seal(plain, context);
    // Never write what cannot be read back: the new text must open to the same bytes.
    if (!ring.open(fresh, context).equals(plain)) throw new Error('re-sealed value did not verify');
    const keyIdSet =
      column.keyId === undefined ? sql`` : sql`, ${sql.ref(column.keyId)} = ${ring.currentKeyId}`;
    const written = await sql`
      update ${table} set ${sealedRef} = ${fresh}${keyIdSet}
      where ${idRef}::text = ${id} and ${sealedRef} = ${old}`.execute(trx);
    plain.fill(0);
    return Number(written.numAffectedRows ?? 0n) === 1 ? 'resealed' : 'alreadyCurrent';
  });
}
