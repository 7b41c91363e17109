// Research case reviews (SPEC domain 5, issue 10): studies and their teams, de-identified cases,
// versioned questionnaires, experiments with arms, assignments with a display configuration,
// one answer per assignment with its timing, attention-check results and randomizations.
//
// Research records are evidence: answers, timings, attention results and randomizations are never
// updated or deleted (triggers refuse it), and nothing in this schema is ever deleted by the
// application, so an export made later shows what was recorded at the time.
import { sql, type Kysely } from 'kysely';

const NO_DELETE_TABLES = [
  'studies',
  'study_members',
  'review_cases',
  'questionnaire_versions',
  'experiments',
  'experiment_arms',
  'randomizations',
  'review_assignments',
  'review_answers',
  'review_timings',
  'attention_results',
] as const;

/** Written once, never changed: the record of what a participant did. */
const NO_UPDATE_TABLES = ['review_answers', 'attention_results', 'randomizations'] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  // Researchers are members of the organization their studies belong to.
  await sql`ALTER TABLE organization_members DROP CONSTRAINT organization_members_role_check`.execute(
    db,
  );
  await sql`
    ALTER TABLE organization_members
      ADD CONSTRAINT organization_members_role_check
      CHECK (role IN ('org_admin', 'clinician', 'researcher'))`.execute(db);

  await sql`
    CREATE TABLE studies (
      id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id        uuid NOT NULL REFERENCES organizations (id),
      title                  text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
      description            text NOT NULL DEFAULT '' CHECK (length(description) <= 4000),
      status                 text NOT NULL DEFAULT 'draft'
                             CHECK (status IN ('draft', 'active', 'closed')),
      created_by             uuid REFERENCES users (id),
      created_at             timestamptz NOT NULL DEFAULT now(),
      updated_at             timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX studies_organization_idx ON studies (organization_id, created_at)`.execute(
    db,
  );

  // The study team: its owner and researchers, and its participants. Leaving is a timestamp.
  await sql`
    CREATE TABLE study_members (
      study_id    uuid NOT NULL REFERENCES studies (id),
      user_id     uuid NOT NULL REFERENCES users (id),
      role        text NOT NULL CHECK (role IN ('owner', 'researcher', 'participant')),
      added_by    uuid REFERENCES users (id),
      created_at  timestamptz NOT NULL DEFAULT now(),
      removed_at  timestamptz,
      PRIMARY KEY (study_id, user_id)
    )`.execute(db);
  await sql`CREATE INDEX study_members_user_idx ON study_members (user_id)`.execute(db);

  // A de-identified case: a tree of sections → features → values, stored as JSON after the
  // bounds and the de-identification guard passed.
  await sql`
    CREATE TABLE review_cases (
      id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      study_id        uuid NOT NULL REFERENCES studies (id),
      external_id     text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 100),
      tree            jsonb NOT NULL,
      node_count      integer NOT NULL CHECK (node_count >= 0),
      ai_score        double precision CHECK (ai_score >= 0 AND ai_score <= 1),
      ai_explanation  text CHECK (length(ai_explanation) <= 1000),
      created_by      uuid REFERENCES users (id),
      created_at      timestamptz NOT NULL DEFAULT now(),
      UNIQUE (study_id, external_id)
    )`.execute(db);

  // One questionnaire per study, versioned; a published version is immutable.
  await sql`
    CREATE TABLE questionnaire_versions (
      id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      study_id         uuid NOT NULL REFERENCES studies (id),
      version          integer NOT NULL CHECK (version >= 1),
      title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
      questions        jsonb NOT NULL,
      attention_check  jsonb,
      status           text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
      created_by       uuid REFERENCES users (id),
      created_at       timestamptz NOT NULL DEFAULT now(),
      published_at     timestamptz,
      UNIQUE (study_id, version)
    )`.execute(db);
  await sql`
    CREATE FUNCTION published_questionnaire_is_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF OLD.status = 'published' THEN
        RAISE EXCEPTION 'a published questionnaire version is immutable'
          USING ERRCODE = 'insufficient_privilege';
      END IF;
      RETURN NEW;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER questionnaire_versions_published_immutable
      BEFORE UPDATE ON questionnaire_versions
      FOR EACH ROW EXECUTE FUNCTION published_questionnaire_is_immutable()`.execute(db);

  await sql`
    CREATE TABLE experiments (
      id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      study_id    uuid NOT NULL REFERENCES studies (id),
      name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
      description text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
      created_by  uuid REFERENCES users (id),
      created_at  timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX experiments_name_idx ON experiments (study_id, lower(name))`.execute(
    db,
  );

  // An arm is a display-configuration template.
  await sql`
    CREATE TABLE experiment_arms (
      id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      experiment_id  uuid NOT NULL REFERENCES experiments (id),
      study_id       uuid NOT NULL REFERENCES studies (id),
      name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
      display        jsonb NOT NULL,
      created_at     timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`
    CREATE UNIQUE INDEX experiment_arms_name_idx
      ON experiment_arms (experiment_id, lower(name))`.execute(db);

  // A randomizer run, recorded so it can be reproduced from its seed and inputs.
  await sql`
    CREATE TABLE randomizations (
      id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      study_id              uuid NOT NULL REFERENCES studies (id),
      experiment_id         uuid NOT NULL REFERENCES experiments (id),
      seed                  text NOT NULL CHECK (length(seed) BETWEEN 1 AND 100),
      cases_per_participant integer NOT NULL CHECK (cases_per_participant >= 1),
      inputs                jsonb NOT NULL,
      assignment_count      integer NOT NULL CHECK (assignment_count >= 0),
      created_by            uuid REFERENCES users (id),
      created_at            timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  // Participant × case, with the display configuration the participant will see.
  await sql`
    CREATE TABLE review_assignments (
      id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      study_id          uuid NOT NULL REFERENCES studies (id),
      participant_id    uuid NOT NULL REFERENCES users (id),
      case_id           uuid NOT NULL REFERENCES review_cases (id),
      arm_id            uuid REFERENCES experiment_arms (id),
      randomization_id  uuid REFERENCES randomizations (id),
      display           jsonb NOT NULL,
      position          integer NOT NULL CHECK (position >= 1),
      source            text NOT NULL CHECK (source IN ('api', 'csv', 'randomizer')),
      created_by        uuid REFERENCES users (id),
      created_at        timestamptz NOT NULL DEFAULT now(),
      UNIQUE (study_id, participant_id, case_id)
    )`.execute(db);
  // "Next case" walks a participant's assignments in position order.
  await sql`
    CREATE UNIQUE INDEX review_assignments_order_idx
      ON review_assignments (participant_id, study_id, position)`.execute(db);
  await sql`CREATE INDEX review_assignments_case_idx ON review_assignments (case_id)`.execute(db);
  await sql`CREATE INDEX review_assignments_study_idx ON review_assignments (study_id, created_at, id)`.execute(
    db,
  );

  // Exactly one answer per assignment; what was shown is kept with it.
  await sql`
    CREATE TABLE review_answers (
      id                         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      assignment_id              uuid NOT NULL UNIQUE REFERENCES review_assignments (id),
      study_id                   uuid NOT NULL REFERENCES studies (id),
      participant_id             uuid NOT NULL REFERENCES users (id),
      questionnaire_version_id   uuid NOT NULL REFERENCES questionnaire_versions (id),
      answers                    jsonb NOT NULL,
      display_snapshot           jsonb NOT NULL,
      ai_score_shown             boolean NOT NULL,
      submission_key             text NOT NULL CHECK (length(submission_key) = 64),
      seq                        bigserial NOT NULL UNIQUE,
      submitted_at               timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX review_answers_study_idx ON review_answers (study_id, seq)`.execute(db);

  // Timing of one assignment: server stamps and what the client reported; durations derived.
  await sql`
    CREATE TABLE review_timings (
      assignment_id          uuid PRIMARY KEY REFERENCES review_assignments (id),
      study_id               uuid NOT NULL REFERENCES studies (id),
      case_opened_at         timestamptz,
      form_opened_at         timestamptz,
      submitted_at           timestamptz,
      client_case_opened_at  timestamptz,
      client_form_opened_at  timestamptz,
      client_submitted_at    timestamptz,
      reading_ms             bigint,
      answering_ms           bigint,
      total_ms               bigint,
      flags                  text[] NOT NULL DEFAULT '{}',
      seq                    bigserial NOT NULL UNIQUE,
      updated_at             timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX review_timings_study_idx ON review_timings (study_id, seq)`.execute(db);

  await sql`
    CREATE TABLE attention_results (
      id                        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      study_id                  uuid NOT NULL REFERENCES studies (id),
      participant_id            uuid NOT NULL REFERENCES users (id),
      assignment_id             uuid NOT NULL UNIQUE REFERENCES review_assignments (id),
      questionnaire_version_id  uuid NOT NULL REFERENCES questionnaire_versions (id),
      expected                  jsonb NOT NULL,
      given                     jsonb NOT NULL,
      passed                    boolean NOT NULL,
      recorded_at               timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`
    CREATE INDEX attention_results_participant_idx
      ON attention_results (study_id, participant_id)`.execute(db);

  await sql`
    CREATE FUNCTION research_records_are_kept() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'research records are never destroyed or rewritten: % on % refused',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END $$`.execute(db);
  for (const table of NO_DELETE_TABLES) {
    await sql
      .raw(
        `CREATE TRIGGER ${table}_no_delete BEFORE DELETE OR TRUNCATE ON ${table}
         FOR EACH STATEMENT EXECUTE FUNCTION research_records_are_kept()`,
      )
      .execute(db);
  }
  for (const table of NO_UPDATE_TABLES) {
    await sql
      .raw(
        `CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table}
         FOR EACH STATEMENT EXECUTE FUNCTION research_records_are_kept()`,
      )
      .execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'attention_results',
    'review_timings',
    'review_answers',
    'review_assignments',
    'randomizations',
    'experiment_arms',
    'experiments',
    'questionnaire_versions',
    'review_cases',
    'study_members',
    'studies',
  ]) {
    await sql.raw(`DROP TABLE ${table}`).execute(db);
  }
  await sql`DROP FUNCTION research_records_are_kept`.execute(db);
  await sql`DROP FUNCTION published_questionnaire_is_immutable`.execute(db);
  await sql`ALTER TABLE organization_members DROP CONSTRAINT organization_members_role_check`.execute(
    db,
  );
  await sql`
    ALTER TABLE organization_members
      ADD CONSTRAINT organization_members_role_check
      CHECK (role IN ('org_admin', 'clinician'))`.execute(db);
}
