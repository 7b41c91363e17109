// Versioned migrations, applied in order and recorded by Kysely's migrator (V2).
// They are imported statically so the compiled server needs no migrations folder scan.
import { Migrator, type Kysely, type Migration, type MigrationResultSet } from 'kysely';
import type { DatabaseSchema } from './schema.js';
import * as m0001 from './migrations/0001_platform.js';
import * as m0002 from './migrations/0002_identity.js';
import * as m0003 from './migrations/0003_clinical.js';
import * as m0004 from './migrations/0004_revocation_cursor.js';
import * as m0005 from './migrations/0005_audit_sealing.js';
import * as m0006 from './migrations/0006_keyed_audit_chain.js';
import * as m0007 from './migrations/0007_reviews.js';
import * as m0008 from './migrations/0008_files.js';
import * as m0009 from './migrations/0009_buckets.js';
import * as m0010 from './migrations/0010_answer_facts.js';
import * as m0011 from './migrations/0011_patient_search.js';
import * as m0012 from './migrations/0012_organization_country.js';
import * as m0013 from './migrations/0013_oauth.js';
import * as m0014 from './migrations/0014_oauth_apps.js';
import * as m0015 from './migrations/0015_browser_key_generations.js';
import * as m0016 from './migrations/0016_session_idle_expiry_index.js';
import * as m0017 from './migrations/0017_existing_account_invitations.js';
import * as m0018 from './migrations/0018_study_participant_invitations.js';

const MIGRATIONS: Record<string, Migration> = {
  '0001_platform': m0001,
  '0002_identity': m0002,
  '0003_clinical': m0003,
  '0004_revocation_cursor': m0004,
  '0005_audit_sealing': m0005,
  '0006_keyed_audit_chain': m0006,
  '0007_reviews': m0007,
  '0008_files': m0008,
  '0009_buckets': m0009,
  '0010_answer_facts': m0010,
  '0011_patient_search': m0011,
  '0012_organization_country': m0012,
  '0013_oauth': m0013,
  '0014_oauth_apps': m0014,
  '0015_browser_key_generations': m0015,
  '0016_session_idle_expiry_index': m0016,
  '0017_existing_account_invitations': m0017,
  '0018_study_participant_invitations': m0018,
};

/** The migrator of this build's migrations, recorded in schema_migrations. */
function migratorFor(db: Kysely<DatabaseSchema>): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(MIGRATIONS) },
    migrationTableName: 'schema_migrations',
    migrationLockTableName: 'schema_migrations_lock',
  });
}

export async function migrateToLatest(db: Kysely<DatabaseSchema>): Promise<MigrationResultSet> {
  const result = await migratorFor(db).migrateToLatest();
  if (result.error) {
    throw result.error instanceof Error ? result.error : new Error('migration failed');
  }
  return result;
}

/**
 * Up or down to the named migration, with the result (its error included) left to the caller:
 * upgrade tests step back to an older schema this way and check that a `down` refuses.
 */
export function migrateTo(
  db: Kysely<DatabaseSchema>,
  migrationName: string,
): Promise<MigrationResultSet> {
  return migratorFor(db).migrateTo(migrationName);
}

/** Names of migrations this build knows and the database has not applied yet. */
export async function pendingMigrations(db: Kysely<DatabaseSchema>): Promise<string[]> {
  const known = await migratorFor(db).getMigrations();
  return known.filter((m) => m.executedAt === undefined).map((m) => m.name);
}
