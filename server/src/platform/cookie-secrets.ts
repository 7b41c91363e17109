// Generations of the secret behind CSRF tokens and refresh-cookie tags (S2). Both are HMACs of
// the session id under keys derived from the master key and, mixed in as the HKDF salt, the
// current generation's random secret (generation 0 has none: the keys of the master key alone,
// as before generations existed). `haven keys rotate --csrf` adds a generation, so these keys
// rotate on their own, without a new master key.
//
// Several nodes: a new generation is written with active_from a minute ahead. Every node polls
// the table every few seconds and accepts a generation from the moment it reads it, but makes
// tokens under it only once active_from has passed (by the database's clock), so no node is
// handed a token of a generation it has not read yet. The generation it replaces is accepted
// until its retires_at (the refresh-session lifetime later: every session made before the
// rotation has ended by then) or until `keys rotate --csrf --retire` sets it to now.
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { KeyRing } from './crypto.js';
import { logBackgroundFailure } from './db/faults.js';
import type { DatabaseSchema } from './db/schema.js';
import { sealContexts } from './key-rotation.js';

export interface CookieSecret {
  readonly generation: number;
  /** Undefined for generation 0: the keys the master key alone derives. */
  readonly secret: Buffer | undefined;
}

/** What CSRF tokens and refresh-cookie tags are made and checked under. */
export interface CookieSecretGenerations {
  /** The generation new tokens and tags are made under. */
  current(): CookieSecret;
  /** Every generation a presented token or tag may have been made under (current included). */
  accepted(): readonly CookieSecret[];
}

export interface PolledCookieSecrets extends CookieSecretGenerations {
  /** Reads the table now; `start` polls it on a timer. */
  refresh(): Promise<void>;
  start(): void;
  stop(): void;
}

const GENERATION_ZERO: CookieSecret = { generation: 0, secret: undefined };
/** How often each node reads the table. */
export const COOKIE_SECRET_POLL_MS = 5_000;
/** How long after --csrf nodes start making tokens under the new generation: many polls. */
export const COOKIE_SECRET_ACTIVATION_MS = 60_000;

/** Before the first --csrf (and until the first read) there is generation 0 alone. */
export const masterKeyOnlyGenerations: CookieSecretGenerations = {
  current: () => GENERATION_ZERO,
  accepted: () => [GENERATION_ZERO],
};

export function createCookieSecretGenerations(options: {
  readonly db: Kysely<DatabaseSchema>;
  readonly ring: KeyRing;
  readonly log?: {
    warn(object: object, message: string): void;
    error(object: object, message: string): void;
  };
  readonly pollMs?: number;
}): PolledCookieSecrets {
  const { db, ring } = options;
  let current = GENERATION_ZERO;
  let accepted: readonly CookieSecret[] = [GENERATION_ZERO];
  let timer: NodeJS.Timeout | undefined;

  async function refresh(): Promise<void> {
    const result = await sql<{ generation: number; sealed: string | null; active: boolean }>`
      select generation, secret_sealed as sealed, active_from <= now() as active
      from browser_key_generations
      where retires_at is null or retires_at > now()
      order by generation`.execute(db);
    if (result.rows.length === 0) {
      // No --csrf yet (or every generation retired, which --retire never does to the current).
      current = GENERATION_ZERO;
      accepted = [GENERATION_ZERO];
      return;
    }
    const read = result.rows.map((row) => ({
      generation: row.generation,
      active: row.active,
      secret:
        row.sealed === null
          ? undefined
          : ring.open(row.sealed, sealContexts.cookieSecret(String(row.generation))),
    }));
    accepted = read.map(({ generation, secret }) => ({ generation, secret }));
    current = accepted.findLast((_, index) => read[index]!.active) ?? accepted[0]!;
  }

  return {
    current: () => current,
    accepted: () => accepted,
    refresh,
    start() {
      if (timer !== undefined) return;
      timer = setInterval(() => {
        refresh().catch((error: unknown) => {
          if (options.log) logBackgroundFailure(options.log, error, 'cookie secrets not read');
        });
      }, options.pollMs ?? COOKIE_SECRET_POLL_MS);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}

/**
 * Adds a generation, made current `activationMs` from now; the generations before it are
 * accepted for `retireAfterMs` beyond that. Returns the new generation.
 */
export async function addCookieSecretGeneration(
  db: Kysely<DatabaseSchema>,
  ring: KeyRing,
  options: { readonly activationMs: number; readonly retireAfterMs: number },
): Promise<{ generation: number; activeFrom: Date }> {
  return db.transaction().execute(async (trx) => {
    await sql`lock table browser_key_generations in share row exclusive mode`.execute(trx);
    const newest = await trx
      .selectFrom('browser_key_generations')
      .select((eb) => eb.fn.max('generation').as('generation'))
      .executeTakeFirst();
    // The tokens made so far (generation 0's) get a row of their own, so they can retire.
    if (newest?.generation === null || newest?.generation === undefined) {
      await trx
        .insertInto('browser_key_generations')
        .values({ generation: 0, secret_sealed: null, active_from: new Date(0) })
        .execute();
    }
    const generation = (newest?.generation ?? 0) + 1;
    const secret = randomBytes(32);
    const activeFrom = sql<Date>`now() + ${sql.lit(`${options.activationMs} milliseconds`)}::interval`;
    const row = await trx
      .insertInto('browser_key_generations')
      .values({
        generation,
        secret_sealed: ring.seal(secret, sealContexts.cookieSecret(String(generation))),
        active_from: activeFrom,
      })
      .returning('active_from')
      .executeTakeFirstOrThrow();
    secret.fill(0);
    await trx
      .updateTable('browser_key_generations')
      .set({
        retires_at: sql<Date>`${activeFrom} + ${sql.lit(`${options.retireAfterMs} milliseconds`)}::interval`,
      })
      .where('generation', '<', generation)
      .where('retires_at', 'is', null)
      .execute();
    return { generation, activeFrom: row.active_from };
  });
}

/** Retires now every generation older than the newest active one; returns how many. */
export async function retireCookieSecretGenerations(db: Kysely<DatabaseSchema>): Promise<number> {
  const result = await sql`
    update browser_key_generations set retires_at = now()
    where generation < (select max(generation) from browser_key_generations where active_from <= now())
      and (retires_at is null or retires_at > now())`.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}
