// L3 (issue 16): Haven serves with a least-privileged runtime role, not with the role that ran
// the migrations. The owner of audit_events can drop or disable its append-only triggers and
// then rewrite or cut the log; the runtime role owns nothing, may only SELECT and INSERT on the
// append-only tables, and never TRUNCATE anything. `npx haven db runtime-role` applies this
// plan as the owner (docs/database-roles.md); describeRuntimePrivileges (runtime-privileges.ts)
// checks any role against it.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { pendingMigrations } from './migrate.js';
import { APPEND_ONLY_TABLES, describeRuntimePrivileges } from './runtime-privileges.js';
import type { DatabaseSchema } from './schema.js';

export { APPEND_ONLY_TABLES };

/** Tables whose triggers refuse DELETE and TRUNCATE (clinical history is kept, 0003_clinical). */
export const NO_DELETE_TABLES = [
  'patients',
  'consent_documents',
  'patient_consents',
  'clinical_notes',
  'break_glass_grants',
  // Research studies (0007_reviews): nothing of a study is ever deleted.
  'studies',
  'study_members',
  'review_cases',
  'questionnaire_versions',
  'experiments',
  'experiment_arms',
  'review_assignments',
  'review_timings',
  // Storage buckets (0009_buckets): sessions and files keep pointing at them; deletion is a mark.
  'buckets',
] as const;

/**
 * Research records written once and never changed or deleted (0007_reviews): what a participant
 * answered, attention-check results and randomizations are evidence a study is judged by.
 */
export const WRITE_ONCE_TABLES = ['review_answers', 'attention_results', 'randomizations'] as const;

/**
 * Kysely's migration bookkeeping: Haven reads it at start to refuse a database a release behind
 * (startup.ts); only `haven migrate`, run as the owner, writes it or takes its lock.
 */
export const MIGRATION_TABLES: ReadonlyMap<string, readonly TablePrivilege[]> = new Map([
  ['schema_migrations', ['SELECT']],
  ['schema_migrations_lock', []],
]);

export type TablePrivilege = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';

/** What the runtime role gets on every other table (and on tables later migrations create). */
export const ORDINARY_TABLE_PRIVILEGES: readonly TablePrivilege[] = [
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
];

/**
 * Letters, digits and underscores, starting with a letter, at most 63 bytes (PostgreSQL's limit,
 * beyond which names are silently cut). Lower case only: an unquoted name in psql or a
 * connection URL then means the same role.
 */
const ROLE_NAME = /^[a-z][a-z0-9_]{0,62}$/;
/** Names PostgreSQL reserves (pg_*) or that read as something else in GRANT and ALTER ROLE. */
const RESERVED_ROLE_NAMES = new Set([
  'postgres',
  'public',
  'none',
  'all',
  'user',
  'current_user',
  'current_role',
  'session_user',
]);

/** A refusal the operator can act on: printed as one paragraph, without a stack trace. */
export class RuntimeRoleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeRoleError';
  }
}

export function assertRoleName(role: string): void {
  if (!ROLE_NAME.test(role) || role.startsWith('pg_') || RESERVED_ROLE_NAMES.has(role)) {
    throw new RuntimeRoleError(
      `"${role.slice(0, 80)}" is not accepted as a role name: use 1-63 lower-case letters, digits ` +
        'and underscores, starting with a letter, not starting with pg_ and not a reserved name ' +
        '(e.g. haven_app).',
    );
  }
}

export function tablePrivileges(table: string): readonly TablePrivilege[] {
  if ((APPEND_ONLY_TABLES as readonly string[]).includes(table)) return ['SELECT', 'INSERT'];
  if ((WRITE_ONCE_TABLES as readonly string[]).includes(table)) return ['SELECT', 'INSERT'];
  if ((NO_DELETE_TABLES as readonly string[]).includes(table)) {
    return ['SELECT', 'INSERT', 'UPDATE'];
  }
  return MIGRATION_TABLES.get(table) ?? ORDINARY_TABLE_PRIVILEGES;
}

export interface SchemaObjects {
  readonly database: string;
  readonly schema: string;
  readonly tables: readonly string[];
  readonly sequences: readonly string[];
}

const ident = (name: string): string => pg.escapeIdentifier(name);

/**
 * The GRANT statements that give `role` exactly its privileges on the objects of one schema.
 * Each object is first stripped of whatever the role held (REVOKE ALL), so re-running the plan
 * also takes back privileges granted by hand or by default privileges on an append-only table.
 */
export function planRuntimeGrants(role: string, objects: SchemaObjects): string[] {
  assertRoleName(role);
  const grantee = ident(role);
  const schema = ident(objects.schema);
  const statements = [
    `GRANT CONNECT ON DATABASE ${ident(objects.database)} TO ${grantee}`,
    `GRANT USAGE ON SCHEMA ${schema} TO ${grantee}`,
  ];
  for (const table of objects.tables) {
    const target = `${schema}.${ident(table)}`;
    statements.push(`REVOKE ALL ON TABLE ${target} FROM ${grantee}`);
    const privileges = tablePrivileges(table);
    if (privileges.length > 0) {
      statements.push(`GRANT ${privileges.join(', ')} ON TABLE ${target} TO ${grantee}`);
    }
  }
  // nextval() (audit_events.seq is stamped from a sequence by the insert trigger) needs USAGE;
  // setval() would need UPDATE, which no runtime path uses.
  for (const sequence of objects.sequences) {
    const target = `${schema}.${ident(sequence)}`;
    statements.push(`REVOKE ALL ON SEQUENCE ${target} FROM ${grantee}`);
    statements.push(`GRANT USAGE, SELECT ON SEQUENCE ${target} TO ${grantee}`);
  }
  // Tables and sequences that later migrations create (as this same owner) get the ordinary
  // grants at once, so a deploy works before the command is re-run; re-running it narrows a new
  // append-only table to SELECT, INSERT (its triggers refuse the rest meanwhile). Such a table
  // must be added to APPEND_ONLY_TABLES: runtime-role.security.test.ts fails until it is.
  statements.push(
    `ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT ${ORDINARY_TABLE_PRIVILEGES.join(', ')} ON TABLES TO ${grantee}`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT USAGE, SELECT ON SEQUENCES TO ${grantee}`,
  );
  return statements;
}

/** Attributes of an existing role, as pg_roles reports them. */
export interface ExistingRole {
  readonly canLogin: boolean;
  readonly superuser: boolean;
  readonly createDb: boolean;
  readonly createRole: boolean;
  readonly replication: boolean;
  readonly bypassRls: boolean;
}

/**
 * CREATE ROLE, or the ALTER ROLE that brings an existing role to LOGIN and no elevated
 * attribute. ALTER names only the attributes that must change: PostgreSQL requires a superuser
 * merely to mention SUPERUSER, REPLICATION or BYPASSRLS, even to turn them off.
 */
export function roleStatement(
  role: string,
  existing: ExistingRole | undefined,
  passwordVerifier: string | undefined,
): string | undefined {
  assertRoleName(role);
  const password =
    passwordVerifier === undefined ? [] : [`PASSWORD ${pg.escapeLiteral(passwordVerifier)}`];
  if (existing === undefined) {
    const attributes = ['LOGIN', 'NOSUPERUSER', 'NOCREATEDB', 'NOCREATEROLE', 'NOREPLICATION'];
    return `CREATE ROLE ${ident(role)} WITH ${[...attributes, 'NOBYPASSRLS', ...password].join(' ')}`;
  }
  const changes = [
    ...(existing.canLogin ? [] : ['LOGIN']),
    ...(existing.superuser ? ['NOSUPERUSER'] : []),
    ...(existing.createDb ? ['NOCREATEDB'] : []),
    ...(existing.createRole ? ['NOCREATEROLE'] : []),
    ...(existing.replication ? ['NOREPLICATION'] : []),
    ...(existing.bypassRls ? ['NOBYPASSRLS'] : []),
    ...password,
  ];
  return changes.length === 0 ? undefined : `ALTER ROLE ${ident(role)} WITH ${changes.join(' ')}`;
}

const SCRAM_ITERATIONS = 4096;

/**
 * The SCRAM-SHA-256 verifier PostgreSQL would store for `password` (RFC 5802, RFC 7677), built
 * here so that the plain password never reaches the server: CREATE/ALTER ROLE text can end up
 * in the server log (log_statement, or log_min_error_statement when the statement fails) and
 * in pg_stat_statements. PostgreSQL accepts a verifier in place of a password and stores it as
 * it is. Passwords are printable ASCII, on which SASLprep changes nothing, so any client
 * computes the same proof.
 */
export function scramSha256Verifier(
  password: string,
  salt: Buffer = randomBytes(16),
  iterations = SCRAM_ITERATIONS,
): string {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return (
    `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$` +
    `${storedKey.toString('base64')}:${serverKey.toString('base64')}`
  );
}

/** The password in a password file: its first line, which must be 16+ printable ASCII characters. */
export function passwordFromFile(text: string): string {
  const password = text.replace(/\r?\n$/, '');
  if (!/^[\x20-\x7e]{16,1024}$/.test(password)) {
    throw new RuntimeRoleError(
      'The password file must hold one line of 16 to 1024 printable ASCII characters ' +
        '(e.g. `openssl rand -base64 32 > haven_app.password`).',
    );
  }
  return password;
}

export interface RuntimeRoleOptions {
  readonly role: string;
  /** Set (or replace) the role's password; undefined leaves an existing password unchanged. */
  readonly password?: string;
}

export interface RuntimeRoleResult {
  readonly role: string;
  readonly created: boolean;
  readonly database: string;
  readonly schema: string;
  readonly tables: number;
  readonly sequences: number;
}

type Db = Kysely<DatabaseSchema>;

async function schemaObjects(db: Db): Promise<SchemaObjects> {
  const { rows: names } = await sql<{ database: string; schema: string }>`
    select current_database() as database, current_schema() as schema`.execute(db);
  const { database, schema } = names[0]!;
  // Tables, partitioned tables and views alike: GRANT treats them all as tables.
  const { rows } = await sql<{ name: string; kind: string }>`
    select c.relname as name, c.relkind::text as kind
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = ${schema} and c.relkind in ('r', 'p', 'v', 'm', 'S')
     order by c.relname`.execute(db);
  return {
    database,
    schema,
    tables: rows.filter((r) => r.kind !== 'S').map((r) => r.name),
    sequences: rows.filter((r) => r.kind === 'S').map((r) => r.name),
  };
}

interface RoleFacts extends ExistingRole {
  readonly ownsObjects: boolean;
  readonly memberOf: string | null;
}

async function roleFacts(db: Db, role: string): Promise<RoleFacts | undefined> {
  const { rows } = await sql<RoleFacts>`
    select r.rolcanlogin as "canLogin", r.rolsuper as superuser, r.rolcreatedb as "createDb",
           r.rolcreaterole as "createRole", r.rolreplication as replication,
           r.rolbypassrls as "bypassRls",
           exists (select 1 from pg_class where relowner = r.oid)
             or exists (select 1 from pg_namespace where nspowner = r.oid)
             or exists (select 1 from pg_proc where proowner = r.oid)
             or exists (select 1 from pg_database where datdba = r.oid) as "ownsObjects",
           (select string_agg(g.rolname, ', ' order by g.rolname)
              from pg_auth_members m join pg_roles g on g.oid = m.roleid
             where m.member = r.oid) as "memberOf"
      from pg_roles r where r.rolname = ${role}`.execute(db);
  return rows[0];
}

/** Why an existing role cannot become the runtime role as it stands; undefined when it can. */
function refusalFor(role: string, facts: RoleFacts): string | undefined {
  if (facts.ownsObjects) {
    return (
      `Role ${role} owns objects (tables, schemas, functions or a database): an owner can drop ` +
      'the audit triggers. Choose a new role name, or reassign what it owns first.'
    );
  }
  if (facts.memberOf !== null) {
    return (
      `Role ${role} is a member of ${facts.memberOf} and holds their privileges too. The runtime ` +
      'role must hold only its own grants: choose a new role name, or revoke those memberships.'
    );
  }
  return undefined;
}

/**
 * Creates or updates the runtime role and grants it its privileges, in one transaction that
 * also checks the result (describeRuntimePrivileges) and rolls back if anything is off. Run as
 * the role that owns the tables (the migration role), after `haven migrate`.
 */
export async function applyRuntimeRole(
  db: Db,
  options: RuntimeRoleOptions,
): Promise<RuntimeRoleResult> {
  const { role } = options;
  assertRoleName(role);
  const pending = await pendingMigrations(db);
  if (pending.length > 0) {
    throw new RuntimeRoleError(
      `The database is missing ${pending.length} migration(s); run \`npx haven migrate\` first.`,
    );
  }
  const verifier =
    options.password === undefined ? undefined : scramSha256Verifier(options.password);
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ me: string }>`select current_user as me`.execute(trx);
    if (rows[0]?.me === role) {
      throw new RuntimeRoleError(
        `${role} is the role this command runs as (the migration role): name a separate role.`,
      );
    }
    const facts = await roleFacts(trx, role);
    const refusal = facts && refusalFor(role, facts);
    if (refusal) throw new RuntimeRoleError(refusal);
    const objects = await schemaObjects(trx);
    const statement = roleStatement(role, facts, verifier);
    for (const text of [...(statement ? [statement] : []), ...planRuntimeGrants(role, objects)]) {
      await sql.raw(text).execute(trx);
    }
    await assertGranted(trx, role, objects);
    return {
      role,
      created: facts === undefined,
      database: objects.database,
      schema: objects.schema,
      tables: objects.tables.length,
      sequences: objects.sequences.length,
    };
  });
}

const CHECKED_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER'];

/**
 * The role's effective privileges must be the plan's, table by table. GRANT on a table this
 * session does not own only warns, and a role can hold privileges through PUBLIC: both show here.
 */
async function assertGranted(db: Db, role: string, objects: SchemaObjects): Promise<void> {
  const differences: string[] = [];
  for (const table of objects.tables) {
    const expected = new Set<string>(tablePrivileges(table));
    const target = `${ident(objects.schema)}.${ident(table)}`;
    for (const privilege of CHECKED_PRIVILEGES) {
      const { rows } = await sql<{ held: boolean }>`
        select has_table_privilege(${role}, ${target}, ${privilege}) as held`.execute(db);
      if (rows[0]?.held !== expected.has(privilege)) {
        differences.push(`${privilege} on ${table} ${rows[0]?.held ? 'held' : 'missing'}`);
      }
    }
  }
  const privileges = await describeRuntimePrivileges(db, role);
  differences.push(...privileges.problems);
  if (differences.length > 0) {
    throw new RuntimeRoleError(
      `Role ${role} did not end up with exactly the runtime privileges (${differences.join('; ')}). ` +
        'Run this command as the role that owns the tables (the one that ran `haven migrate`). ' +
        'Nothing was changed.',
    );
  }
}
