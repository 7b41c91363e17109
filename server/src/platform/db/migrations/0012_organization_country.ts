// The country an organization works in (issue 14, details): the SPA reads and writes phone
// numbers in that country's national form and shows others internationally. Organizations made
// before it existed get 'US'; a platform administrator changes it on the organizations page.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE organizations
      ADD COLUMN country text NOT NULL DEFAULT 'US'
        CONSTRAINT organizations_country_check CHECK (country ~ '^[A-Z]{2}$')`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE organizations DROP COLUMN country`.execute(db);
}
