// Server side of reviews.bench.ts, run as a forked child so the load generator (and the raw
// COPY baselines) do not share the server's event loop, and so the parent can read this process's
// RSS from /proc. It starts the real Haven app on 127.0.0.1 the way identity-server.ts does (a
// fresh PostgreSQL database beside DATABASE_URL's, migrated, dropped at the end; every rate limit
// lifted; request logs at `info` to /dev/null) and, on request over IPC, seeds each row's data
// straight into the database with set-based SQL (generate_series), then mints the sessions and
// access tokens the requests use, the way the test actors do.
//
// identity-server.ts is not imported: it starts its own server whenever it runs in a forked
// process (its `if (process.send)` guard), which would put a second app and database here.
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { Pool as PgPool } from 'pg';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../server/src/app.js';
import { loadConfig, RATE_CLASSES } from '../server/src/config.js';
import { openDatabase } from '../server/src/platform/db/database.js';
import { migrateToLatest } from '../server/src/platform/db/migrate.js';
import { bufferedLogDestination, createLogger } from '../server/src/platform/logging.js';
import { createActor, createOrganization, mintSession, type Actor } from '../server/test/actors.js';
import type { Role } from '../server/src/platform/db/schema.js';
import {
  insertPublishedQuestionnaire,
  insertStudy,
  SAMPLE_TREE,
} from '../server/test/review-actors.js';
import type { Database } from '../server/src/platform/db/database.js';

// pg is CommonJS; loaded this way it stays typed under every setting bench files are linted with.
const pg = createRequire(import.meta.url)('pg') as { Pool: typeof PgPool };

export interface ReviewsReady {
  readonly type: 'ready';
  readonly appUrl: string;
  /** The bench database itself (for psql's COPY baselines). */
  readonly databaseUrl: string;
  readonly logLevel: string;
}

export interface NextSeeded {
  readonly type: 'seeded-next';
  readonly studyId: string;
  /** `Authorization` values of the first participants, one per load connection. */
  readonly authorizations: string[];
  readonly seedMs: number;
}

export interface TokenOwner {
  readonly userId: string;
  readonly email: string;
  readonly roles: Role[];
}

export interface TokenSeeded {
  readonly type: 'seeded-token';
  readonly authorization: string;
}

export interface ExportSeeded {
  readonly type: 'seeded-export';
  readonly studyId: string;
  readonly authorization: string;
  /** Whose token that is, so the bench can ask for a fresh one (`seed-token`). */
  readonly owner: TokenOwner;
  readonly rows: number;
  readonly seedMs: number;
}

export interface ImportSeeded {
  readonly type: 'seeded-import';
  /** The study the sheet is uploaded to (through the API). */
  readonly studyId: string;
  /** A second study with the same team and its own cases: the raw COPY's target. */
  readonly baselineStudyId: string;
  readonly authorization: string;
  readonly participants: { id: string; email: string }[];
  /** External ids of the upload study's cases. */
  readonly caseExternalIds: string[];
  /** Ids of the baseline study's cases, in the same order. */
  readonly baselineCaseIds: string[];
  readonly seedMs: number;
}

export type SeedRequest =
  | {
      readonly type: 'seed-next';
      readonly cases: number;
      readonly participants: number;
      readonly perParticipant: number;
      readonly tokens: number;
    }
  | { readonly type: 'seed-export'; readonly rows: number }
  /** A fresh access token for the owner: a long seed or export outlives the 5-minute token. */
  | { readonly type: 'seed-token'; readonly owner: TokenOwner }
  | { readonly type: 'seed-import'; readonly participants: number; readonly cases: number };

/** Participants per study in the export and import data: the issue's 500. */
const PARTICIPANTS = 500;
const TREE_JSON = JSON.stringify(SAMPLE_TREE);
const NODE_COUNT = 7;
const PLAIN_DISPLAY_JSON = JSON.stringify({ showAiScore: false, features: [] });
/** An answers object for SAMPLE_QUESTIONS, varied by an integer SQL expression. */
const sampleAnswers = (n: string) =>
  sql.raw(`jsonb_build_object(
    'diagnosis', (array['pneumonia','bronchitis','other'])[1 + ${n} % 3],
    'confidence', 1 + ${n} % 5,
    'comment', 'Reviewed case ' || ${n})`);

/** BENCH_DEBUG=1: each seeding step on stderr as it finishes. */
function step(label: string): void {
  if (process.env.BENCH_DEBUG) console.error(`  [seed] ${label} ${new Date().toISOString()}`);
}

function ownerOf(team: Team): TokenOwner {
  const { userId, email, roles } = team.owner;
  return { userId, email, roles: [...roles] };
}

interface Team {
  readonly organizationId: string;
  readonly owner: Actor;
}

/** A researcher who owns studies in one organization, with a fresh MFA-verified session. */
async function createTeam(app: FastifyInstance): Promise<Team> {
  const owner = await createActor(app, ['researcher'], { displayName: 'Bench Research Owner' });
  const organizationId = await createOrganization(app.database.db, {
    members: [{ userId: owner.userId, role: 'researcher' }],
  });
  return { organizationId, owner };
}

/** An active study with a published questionnaire and `cases` cases named case-00001…. */
async function seedStudy(
  database: Database,
  team: Team,
  title: string,
  cases: number,
): Promise<{ studyId: string; versionId: string }> {
  const db = database.db;
  const studyId = await insertStudy(db, team.organizationId, team.owner.userId, { title });
  const versionId = await insertPublishedQuestionnaire(db, studyId);
  await sql`
    insert into review_cases (study_id, external_id, tree, node_count, ai_score)
    select ${studyId}::uuid, 'case-' || lpad(g::text, 5, '0'), ${TREE_JSON}::jsonb, ${NODE_COUNT},
           (g % 100) / 100.0
    from generate_series(1, ${cases}::int) g`.execute(db);
  return { studyId, versionId };
}

/** `count` participant accounts (bench-<tag>-<n>@example.org) on the study's team. */
async function seedParticipants(
  database: Database,
  studyId: string,
  tag: string,
  count: number,
): Promise<void> {
  const db = database.db;
  await sql`
    insert into users (email, email_normalized, display_name, roles, status)
    select e, e, 'Bench participant ' || g, array['participant']::text[], 'active'
    from generate_series(1, ${count}::int) g,
         lateral (select 'bench-' || ${tag} || '-' || lpad(g::text, 5, '0') || '@example.org' e) x`.execute(
    db,
  );
  await addTeam(database, studyId, tag);
}

/** Adds the participants seeded under `tag` to another study's team. */
async function addTeam(database: Database, studyId: string, tag: string): Promise<void> {
  await sql`
    insert into study_members (study_id, user_id, role)
    select ${studyId}::uuid, id, 'participant' from users
    where email_normalized like ${`bench-${tag}-%`}`.execute(database.db);
}

/**
 * Participant n (0-based, in email order) gets the cases n·k … n·k+k-1 (mod the case count) at
 * positions 1…k, and has answered the first 1 + n mod (k-1) of them, so "next" must skip a
 * different number of answered assignments for every participant.
 */
async function seedNextCase(
  app: FastifyInstance,
  database: Database,
  request: Extract<SeedRequest, { type: 'seed-next' }>,
): Promise<NextSeeded> {
  const started = performance.now();
  const db = database.db;
  const team = await createTeam(app);
  step('team');
  const { studyId, versionId } = await seedStudy(database, team, 'Bench next case', request.cases);
  step('study and cases');
  await seedParticipants(database, studyId, 'next', request.participants);
  step('participants');
  const k = request.perParticipant;
  await sql`
    with p as (
      select array_agg(id order by email_normalized) as ids from users
      where email_normalized like 'bench-next-%'),
    c as (
      select array_agg(id order by external_id) as ids from review_cases
      where study_id = ${studyId}::uuid)
    insert into review_assignments (study_id, participant_id, case_id, display, position, source)
    select ${studyId}::uuid, p.ids[1 + n], c.ids[1 + (n * ${k} + slot) % ${request.cases}::int],
           ${PLAIN_DISPLAY_JSON}::jsonb, slot + 1, 'api'
    from p, c, generate_series(0, ${request.participants - 1}::int) n,
         generate_series(0, ${k - 1}::int) slot`.execute(db);
  await sql`
    with p as (
      select id, row_number() over (order by email_normalized) - 1 as n from users
      where email_normalized like 'bench-next-%')
    insert into review_answers (assignment_id, study_id, participant_id, questionnaire_version_id,
                                answers, display_snapshot, ai_score_shown, submission_key)
    select a.id, a.study_id, a.participant_id, ${versionId}::uuid,
           ${sampleAnswers('a.position')}, a.display, false,
           md5(a.id::text) || md5(a.case_id::text)
    from review_assignments a join p on p.id = a.participant_id
    where a.study_id = ${studyId}::uuid and a.position <= 1 + p.n % ${k - 1}::int`.execute(db);
  await sql`analyze`.execute(db);
  const users = await db
    .selectFrom('users')
    .select(['id', 'email'])
    .where('email_normalized', 'like', 'bench-next-%')
    .orderBy('email_normalized')
    .limit(request.tokens)
    .execute();
  const authorizations: string[] = [];
  for (const user of users) {
    const actor = await mintSession(
      app,
      { userId: user.id, email: user.email, roles: ['participant'] },
      { mfa: false },
    );
    authorizations.push(actor.authorization);
  }
  return {
    type: 'seeded-next',
    studyId,
    authorizations,
    seedMs: performance.now() - started,
  };
}

/**
 * `rows` answered assignments: assignment g goes to participant g mod 500 and case g div 500
 * (every pair distinct), at position g div 500 + 1.
 */
async function seedExport(
  app: FastifyInstance,
  database: Database,
  bulk: Kysely<unknown>,
  rows: number,
): Promise<ExportSeeded> {
  const started = performance.now();
  const team = await createTeam(app);
  const cases = Math.ceil(rows / PARTICIPANTS);
  const { studyId, versionId } = await seedStudy(database, team, 'Bench export', cases);
  await seedParticipants(database, studyId, 'export', PARTICIPANTS);
  // Arrays indexed by position, not joins on row numbers: the planner cannot misjudge them.
  await sql`
    with p as (
      select array_agg(id order by email_normalized) as ids from users
      where email_normalized like 'bench-export-%'),
    c as (
      select array_agg(id order by external_id) as ids from review_cases
      where study_id = ${studyId}::uuid)
    insert into review_assignments (study_id, participant_id, case_id, display, position, source)
    select ${studyId}::uuid, p.ids[1 + g % ${PARTICIPANTS}], c.ids[1 + g / ${PARTICIPANTS}],
           ${PLAIN_DISPLAY_JSON}::jsonb, g / ${PARTICIPANTS} + 1, 'api'
    from p, c, generate_series(0, ${rows - 1}::int) g`.execute(bulk);
  // Answered in position order, participant by participant, as a study fills up.
  await sql`
    insert into review_answers (assignment_id, study_id, participant_id, questionnaire_version_id,
                                answers, display_snapshot, ai_score_shown, submission_key)
    select a.id, a.study_id, a.participant_id, ${versionId}::uuid,
           ${sampleAnswers('a.position')}, a.display, false,
           md5(a.id::text) || md5(a.case_id::text)
    from review_assignments a
    where a.study_id = ${studyId}::uuid
    order by a.position, a.participant_id`.execute(bulk);
  await sql`analyze`.execute(bulk);
  return {
    type: 'seeded-export',
    studyId,
    authorization: team.owner.authorization,
    owner: ownerOf(team),
    rows,
    seedMs: performance.now() - started,
  };
}

/** Two studies with the same participants and `cases` cases each, no assignments yet. */
async function seedImport(
  app: FastifyInstance,
  database: Database,
  participants: number,
  cases: number,
): Promise<ImportSeeded> {
  const started = performance.now();
  const db = database.db;
  const team = await createTeam(app);
  const upload = await seedStudy(database, team, 'Bench import', cases);
  const baseline = await seedStudy(database, team, 'Bench import baseline', cases);
  await seedParticipants(database, upload.studyId, 'import', participants);
  await addTeam(database, baseline.studyId, 'import');
  await sql`analyze`.execute(db);
  const people = await db
    .selectFrom('users')
    .select(['id', 'email'])
    .where('email_normalized', 'like', 'bench-import-%')
    .orderBy('email_normalized')
    .execute();
  const caseRows = (studyId: string) =>
    db
      .selectFrom('review_cases')
      .select(['id', 'external_id'])
      .where('study_id', '=', studyId)
      .orderBy('external_id')
      .execute();
  return {
    type: 'seeded-import',
    studyId: upload.studyId,
    baselineStudyId: baseline.studyId,
    authorization: team.owner.authorization,
    participants: people,
    caseExternalIds: (await caseRows(upload.studyId)).map((row) => row.external_id),
    baselineCaseIds: (await caseRows(baseline.studyId)).map((row) => row.id),
    seedMs: performance.now() - started,
  };
}

const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'info';
/** Huge limits: the benchmark measures the routes, not the limiter's refusals. */
const UNLIMITED = '9999999/60';

/** One statement on the server DATABASE_URL points at (CREATE/DROP DATABASE). */
async function adminQuery(url: string, text: string): Promise<void> {
  const admin = await openDatabase({ url, embeddedDir: undefined, poolSize: 1 });
  try {
    await sql.raw(text).execute(admin.db);
  } finally {
    await admin.close();
  }
}

interface BenchServer {
  readonly app: FastifyInstance;
  readonly database: Database;
  readonly databaseUrl: string;
  /**
   * A connection without the app's statement and query timeouts (30 and 35 s), for seeding a
   * million rows in one statement.
   */
  readonly bulk: Kysely<unknown>;
  readonly close: () => Promise<void>;
}

/** The real app over a fresh, migrated database beside DATABASE_URL's; not listening yet. */
async function createBenchServer(baseUrl: string): Promise<BenchServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'haven-bench-'));
  const name = `haven_bench_${randomBytes(6).toString('hex')}`;
  await adminQuery(baseUrl, `CREATE DATABASE ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  const drop = () => adminQuery(baseUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  try {
    const database = await openDatabase({ url: databaseUrl, embeddedDir: undefined });
    await migrateToLatest(database.db);
    const rates = Object.fromEntries(
      RATE_CLASSES.map((rateClass) => [`HAVEN_RATE_${rateClass.toUpperCase()}`, UNLIMITED]),
    );
    const config = loadConfig({
      HAVEN_ENV: 'test',
      HAVEN_MASTER_KEY: randomBytes(32).toString('base64'),
      HAVEN_LOG_LEVEL: LOG_LEVEL,
      HAVEN_DATA_DIR: dataDir,
      HAVEN_WEB_DIR: join(tmpdir(), 'haven-no-web'),
      HAVEN_EMBEDDED_WORKER: 'false',
      DATABASE_URL: databaseUrl,
      ...rates,
    });
    // As `haven serve` writes: bufferedLogDestination (here to /dev/null).
    const logger = createLogger({
      level: LOG_LEVEL,
      destination: bufferedLogDestination('/dev/null'),
    });
    const app = await buildApp(config, { database, logger });
    const bulk = new Kysely<unknown>({
      dialect: new PostgresDialect({
        pool: new pg.Pool({ connectionString: databaseUrl, max: 1 }),
      }),
    });
    const close = async (): Promise<void> => {
      await bulk.destroy();
      await app.close();
      await database.close();
      await drop();
      rmSync(dataDir, { recursive: true, force: true });
    };
    return { app, database, databaseUrl, bulk, close };
  } catch (error) {
    await drop();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

function isSeedRequest(message: unknown): message is SeedRequest {
  const type = (message as { type?: unknown } | null)?.type;
  return (
    type === 'seed-next' ||
    type === 'seed-export' ||
    type === 'seed-import' ||
    type === 'seed-token'
  );
}

async function main(): Promise<void> {
  const baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) throw new Error('reviews-server.ts needs DATABASE_URL (PostgreSQL)');
  const { app, database, databaseUrl, bulk, close } = await createBenchServer(baseUrl);
  const appUrl = await app.listen({ host: '127.0.0.1', port: 0 });

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await close();
  };
  process.on('message', (message: unknown) => {
    if (isSeedRequest(message)) {
      if (process.env.BENCH_DEBUG) console.error('seed request', message.type);
      const seeded =
        message.type === 'seed-next'
          ? seedNextCase(app, database, message)
          : message.type === 'seed-export'
            ? seedExport(app, database, bulk, message.rows)
            : message.type === 'seed-token'
              ? mintSession(app, message.owner).then(({ authorization }): TokenSeeded => ({
                  type: 'seeded-token',
                  authorization,
                }))
              : seedImport(app, database, message.participants, message.cases);
      // After the parent is gone (the run was interrupted) there is no one to answer.
      const answer = (reply: object): void => {
        if (process.connected) process.send?.(reply);
      };
      seeded.then(answer, (error: unknown) => {
        if (stopping) return;
        console.error(error);
        answer({
          type: 'seed-failed',
          message: error instanceof Error ? error.message : 'unknown error',
        });
      });
      return;
    }
    if (message !== 'stop') return;
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
  // If the parent dies, do not linger holding a port, a database and temp files.
  process.on('disconnect', () => void stop().finally(() => process.exit(0)));
  const ready: ReviewsReady = {
    type: 'ready',
    appUrl,
    databaseUrl,
    logLevel: LOG_LEVEL,
  };
  process.send?.(ready);
}

// Forked by reviews.bench.ts (with an IPC channel); imported, it only exports its types.
if (process.send) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
