// Clinical tables: organizations and their members, patients (PHI), consent documents and
// records, versioned clinical notes and break-glass grants. Clinical history is never
// destroyed: triggers refuse DELETE on every clinical table and any UPDATE of a note version.
import { sql, type Kysely } from 'kysely';

const NO_DELETE_TABLES = [
  'patients',
  'consent_documents',
  'patient_consents',
  'clinical_notes',
  'clinical_note_versions',
  'break_glass_grants',
] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE organizations (
      id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
      created_by  uuid REFERENCES users (id),
      created_at  timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX organizations_name_idx ON organizations (lower(name))`.execute(db);

  await sql`
    CREATE TABLE organization_members (
      organization_id uuid NOT NULL REFERENCES organizations (id),
      user_id         uuid NOT NULL REFERENCES users (id),
      role            text NOT NULL CHECK (role IN ('org_admin', 'clinician')),
      added_by        uuid REFERENCES users (id),
      created_at      timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (organization_id, user_id)
    )`.execute(db);
  await sql`CREATE INDEX organization_members_user_idx ON organization_members (user_id)`.execute(
    db,
  );

  // The organization a session works in; every clinical query is scoped to it.
  await sql`
    ALTER TABLE sessions
      ADD COLUMN active_organization_id uuid REFERENCES organizations (id) ON DELETE SET NULL`.execute(
    db,
  );

  await sql`
    CREATE TABLE patients (
      id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id uuid NOT NULL REFERENCES organizations (id),
      mrn             text NOT NULL CHECK (length(mrn) BETWEEN 1 AND 32),
      given_name      text NOT NULL CHECK (length(given_name) BETWEEN 1 AND 100),
      family_name     text NOT NULL CHECK (length(family_name) BETWEEN 1 AND 100),
      birth_date      date NOT NULL,
      sex             text NOT NULL CHECK (sex IN ('female', 'male', 'other', 'unknown')),
      address         jsonb,
      contact_methods jsonb NOT NULL DEFAULT '[]'::jsonb,
      portal_user_id  uuid UNIQUE REFERENCES users (id),
      created_by      uuid REFERENCES users (id),
      created_at      timestamptz NOT NULL DEFAULT now(),
      updated_at      timestamptz NOT NULL DEFAULT now(),
      archived_at     timestamptz,
      UNIQUE (organization_id, mrn)
    )`.execute(db);
  await sql`
    CREATE INDEX patients_name_idx
      ON patients (organization_id, lower(family_name), lower(given_name), id)`.execute(db);
  await sql`CREATE INDEX patients_birth_date_idx ON patients (organization_id, birth_date)`.execute(
    db,
  );

  await sql`
    CREATE TABLE consent_documents (
      id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id uuid NOT NULL REFERENCES organizations (id),
      kind            text NOT NULL CHECK (kind IN ('hipaa_notice', 'terms', 'treatment', 'research')),
      version         integer NOT NULL CHECK (version >= 1),
      title           text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
      body            text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
      required        boolean NOT NULL,
      published_by    uuid REFERENCES users (id),
      published_at    timestamptz NOT NULL DEFAULT now(),
      UNIQUE (organization_id, kind, version)
    )`.execute(db);

  await sql`
    CREATE TABLE patient_consents (
      id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      patient_id   uuid NOT NULL REFERENCES patients (id),
      document_id  uuid NOT NULL REFERENCES consent_documents (id),
      channel      text NOT NULL CHECK (channel IN ('portal', 'in_person', 'paper', 'phone')),
      given_at     timestamptz NOT NULL DEFAULT now(),
      recorded_by  uuid REFERENCES users (id),
      withdrawn_at timestamptz,
      withdrawn_by uuid REFERENCES users (id)
    )`.execute(db);
  await sql`CREATE INDEX patient_consents_patient_idx ON patient_consents (patient_id)`.execute(db);
  // At most one live consent per patient and document version.
  await sql`
    CREATE UNIQUE INDEX patient_consents_live_idx
      ON patient_consents (patient_id, document_id) WHERE withdrawn_at IS NULL`.execute(db);

  await sql`
    CREATE TABLE clinical_notes (
      id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      patient_id      uuid NOT NULL REFERENCES patients (id),
      organization_id uuid NOT NULL REFERENCES organizations (id),
      created_by      uuid REFERENCES users (id),
      created_at      timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX clinical_notes_patient_idx ON clinical_notes (patient_id, created_at)`.execute(
    db,
  );

  await sql`
    CREATE TABLE clinical_note_versions (
      id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      note_id           uuid NOT NULL REFERENCES clinical_notes (id),
      version           integer NOT NULL CHECK (version >= 1),
      body              text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
      shareable         boolean NOT NULL,
      author_id         uuid REFERENCES users (id),
      correction_reason text CHECK (length(correction_reason) <= 500),
      created_at        timestamptz NOT NULL DEFAULT now(),
      UNIQUE (note_id, version)
    )`.execute(db);

  await sql`
    CREATE TABLE break_glass_grants (
      id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      admin_id        uuid NOT NULL REFERENCES users (id),
      patient_id      uuid NOT NULL REFERENCES patients (id),
      organization_id uuid NOT NULL REFERENCES organizations (id),
      reason          text NOT NULL CHECK (length(reason) BETWEEN 10 AND 500),
      created_at      timestamptz NOT NULL DEFAULT now(),
      expires_at      timestamptz NOT NULL,
      revoked_at      timestamptz,
      revoked_by      uuid REFERENCES users (id)
    )`.execute(db);
  await sql`CREATE INDEX break_glass_grants_active_idx ON break_glass_grants (expires_at) WHERE revoked_at IS NULL`.execute(
    db,
  );

  await sql`
    CREATE FUNCTION clinical_history_is_kept() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'clinical history is never destroyed: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
    END $$`.execute(db);
  for (const table of NO_DELETE_TABLES) {
    await sql
      .raw(
        `CREATE TRIGGER ${table}_no_delete BEFORE DELETE OR TRUNCATE ON ${table}
         FOR EACH STATEMENT EXECUTE FUNCTION clinical_history_is_kept()`,
      )
      .execute(db);
  }
  await sql`
    CREATE TRIGGER clinical_note_versions_no_update BEFORE UPDATE ON clinical_note_versions
    FOR EACH STATEMENT EXECUTE FUNCTION clinical_history_is_kept()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'break_glass_grants',
    'clinical_note_versions',
    'clinical_notes',
    'patient_consents',
    'consent_documents',
    'patients',
  ]) {
    await sql.raw(`DROP TABLE ${table}`).execute(db);
  }
  await sql`DROP FUNCTION clinical_history_is_kept`.execute(db);
  await sql`ALTER TABLE sessions DROP COLUMN active_organization_id`.execute(db);
  await sql`DROP TABLE organization_members`.execute(db);
  await sql`DROP TABLE organizations`.execute(db);
}
