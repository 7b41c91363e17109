// Generations of the secret mixed into the keys of CSRF tokens and refresh-cookie tags (S2), so
// `haven keys rotate --csrf` replaces them without a new master key. Each row is one
// generation: a random secret sealed with the key ring (null for generation 0, the keys the
// master key alone derives, i.e. everything made before the first --csrf); nodes make tokens
// under the newest generation whose active_from has passed, and accept every generation not yet
// retired (a new one from the moment it is written, so every node knows it before any node
// issues under it).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE browser_key_generations (
      generation    integer PRIMARY KEY CHECK (generation >= 0),
      secret_sealed text CHECK ((generation = 0) = (secret_sealed IS NULL)),
      active_from   timestamptz NOT NULL DEFAULT now(),
      retires_at    timestamptz,
      created_at    timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE browser_key_generations`.execute(db);
}
