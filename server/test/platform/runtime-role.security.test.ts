// L3 (issue 16): Haven serves PostgreSQL as a least-privileged runtime role, not as the role that
// owns the tables. The owner can drop the append-only triggers and then rewrite or cut the audit
// log; the runtime role made by `haven db runtime-role` cannot, and still runs Haven. PostgreSQL
// only (the embedded engine has one user): each run creates its own database and roles on
// DATABASE_URL's server, migrates as a non-superuser owner and connects as the runtime role.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/platform/db/database.js';
import { migrateToLatest } from '../../src/platform/db/migrate.js';
import {
  APPEND_ONLY_TABLES,
  applyRuntimeRole,
  assertRoleName,
  planRuntimeGrants,
  RuntimeRoleError,
  scramSha256Verifier,
  tablePrivileges,
} from '../../src/platform/db/roles.js';
import { describeRuntimePrivileges } from '../../src/platform/db/runtime-privileges.js';
import { recordAudit } from '../../src/platform/audit/audit.js';
import { verifyAuditChain } from '../../src/platform/audit/verify.js';
import { testEnv } from '../app-harness.js';
import { sealEverything, testChainKey } from '../audit-chain.js';
import {
  callAs,
  createActor,
  createOrganization,
  createPatientRow,
  GENEROUS_RATE_LIMITS,
} from '../actors.js';
import { haven } from '../cli-process.js';
import { captureLog } from '../log-capture.js';

const BASE_URL = process.env.DATABASE_URL;

const BAD_ROLE_NAMES = [
  '',
  'haven_app"; DROP TABLE audit_events; --',
  "haven_app' OR '1'='1",
  'Haven_App',
  'haven-app',
  '1haven',
  '_haven',
  'pg_haven',
  'postgres',
  'public',
  'current_user',
  'haven app',
  'hävén',
  'a'.repeat(64),
];

describe('runtime role: names, plan and engine', () => {
  it('L3/injection: role names outside [a-z][a-z0-9_]{0,62}, pg_* and reserved names are refused', () => {
    for (const name of BAD_ROLE_NAMES) {
      expect(() => assertRoleName(name), name).toThrow(RuntimeRoleError);
      expect(() => planRuntimeGrants(name, objects()), name).toThrow(RuntimeRoleError);
    }
    expect(() => assertRoleName('haven_app')).not.toThrow();
    expect(() => assertRoleName('a'.repeat(63))).not.toThrow();
  });

  it('L3/tamper: the plan grants only SELECT and INSERT on append-only tables, never TRUNCATE or TRIGGER', () => {
    const statements = planRuntimeGrants('haven_app', objects());
    for (const table of APPEND_ONLY_TABLES) {
      const grants = statements.filter((s) => s.startsWith('GRANT') && s.includes(`"${table}"`));
      expect(grants).toEqual([`GRANT SELECT, INSERT ON TABLE "public"."${table}" TO "haven_app"`]);
    }
    expect(statements.join('\n')).not.toMatch(/TRUNCATE|TRIGGER|REFERENCES|ALL PRIVILEGES|OWNER/);
    expect(tablePrivileges('patients')).not.toContain('DELETE');
    expect(tablePrivileges('schema_migrations')).toEqual(['SELECT']);
  });

  it('L3: `haven db runtime-role` refuses on the embedded engine, saying roles are for PostgreSQL', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'haven-runtime-role-'));
    try {
      const result = await haven(['db', 'runtime-role', '--role', 'haven_app'], {
        HAVEN_DATA_DIR: dataDir,
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/embedded database \(PGlite\).*PostgreSQL/s);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

function objects() {
  return {
    database: 'haven',
    schema: 'public',
    tables: ['audit_events', 'audit_seals', 'clinical_note_versions', 'patients', 'users'],
    sequences: ['audit_events_seq'],
  };
}

const roleWarnings = (lines: ReadonlyArray<Record<string, unknown>>) =>
  lines.filter((l) => l.level === 'warn' && String(l.msg).includes('npx haven db runtime-role'));

describe.skipIf(!BASE_URL)('runtime role [postgres]', () => {
  const suffix = randomBytes(5).toString('hex');
  const databaseName = `haven_rr_${suffix}`;
  const ownerRole = `haven_owner_${suffix}`;
  const runtimeRole = `haven_rt_${suffix}`;
  const extraRoles: string[] = [];
  const password = randomBytes(24).toString('base64');
  /** One chain key for the whole database: a second key would fail verification of the first's seals. */
  const chainKey = testChainKey();
  const folder = mkdtempSync(path.join(tmpdir(), 'haven-runtime-role-'));
  let ownerUrl: string;
  let runtimeUrl: string;
  let owner: Database;
  let runtime: Database;

  /** A URL on the test database as `role` (the server trusts 127.0.0.1: no password checked). */
  function urlAs(role: string, secret = ''): string {
    const url = new URL(BASE_URL!);
    url.username = role;
    url.password = secret;
    url.pathname = `/${databaseName}`;
    return url.toString();
  }

  /** Runs statements as the server's administrator, on the test database or the default one. */
  async function admin<Row = Record<string, unknown>>(
    text: string,
    onTestDatabase = false,
  ): Promise<Row[]> {
    const url = new URL(BASE_URL!);
    if (onTestDatabase) url.pathname = `/${databaseName}`;
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      return (await client.query(text)).rows as Row[];
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    // A realistic owner: not a superuser, allowed to create roles, owning the database.
    await admin(`CREATE ROLE ${ownerRole} LOGIN CREATEROLE`);
    await admin(`CREATE DATABASE ${databaseName} OWNER ${ownerRole}`);
    ownerUrl = urlAs(ownerRole);
    owner = await openDatabase({ url: ownerUrl, embeddedDir: undefined, poolSize: 2 });
    await migrateToLatest(owner.db);
    const passwordFile = path.join(folder, 'runtime.password');
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    const result = await haven(
      ['db', 'runtime-role', '--role', runtimeRole, '--password-file', passwordFile],
      { DATABASE_URL: ownerUrl, HAVEN_DATA_DIR: folder },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Role ${runtimeRole} created`);
    runtimeUrl = urlAs(runtimeRole, password);
    runtime = await openDatabase({ url: runtimeUrl, embeddedDir: undefined, poolSize: 2 });
  });

  afterAll(async () => {
    await runtime?.close();
    await owner?.close();
    await admin(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
    for (const role of [runtimeRole, ...extraRoles, ownerRole]) {
      await admin(`DROP ROLE IF EXISTS ${role}`);
    }
    rmSync(folder, { recursive: true, force: true });
  });

  const asRuntime = (text: string) => sql.raw(text).execute(runtime.db);

  it('L3/tamper: the runtime role cannot UPDATE, DELETE or TRUNCATE audit_events or audit_seals (permission denied before any trigger)', async () => {
    await recordAudit(runtime.db, {
      actor: { type: 'system' },
      action: 'test.event',
      outcome: 'success',
    });
    await sealEverything(runtime.db, { key: chainKey });
    for (const table of ['audit_events', 'audit_seals']) {
      for (const statement of [
        `UPDATE ${table} SET seq = seq`,
        `DELETE FROM ${table} WHERE seq = (SELECT max(seq) FROM ${table})`,
        `TRUNCATE ${table}`,
      ]) {
        await expect(asRuntime(statement), statement).rejects.toThrow(
          `permission denied for table ${table}`,
        );
      }
    }
  });

  it('L3/tamper: the runtime role cannot UPDATE or DELETE note versions, nor DELETE clinical history', async () => {
    for (const statement of [
      'UPDATE clinical_note_versions SET body = body',
      'DELETE FROM clinical_note_versions',
      'DELETE FROM patients',
      'TRUNCATE clinical_notes',
    ]) {
      await expect(asRuntime(statement), statement).rejects.toThrow(/permission denied for table/);
    }
  });

  it('L3/tamper: the runtime role cannot drop or disable the append-only triggers, ALTER the audit tables or become their owner', async () => {
    for (const statement of [
      'DROP TRIGGER audit_events_no_update_delete ON audit_events',
      'ALTER TABLE audit_events DISABLE TRIGGER USER',
      'ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_truncate',
      'ALTER TABLE audit_seals DISABLE TRIGGER ALL',
      'ALTER TABLE audit_events ADD COLUMN note text',
      `ALTER TABLE audit_events OWNER TO ${runtimeRole}`,
      'DROP TABLE audit_seals',
      'DROP FUNCTION audit_events_append_only() CASCADE',
    ]) {
      await expect(asRuntime(statement), statement).rejects.toThrow(/must be owner/);
    }
    await expect(
      asRuntime(
        'CREATE TRIGGER t BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_stamp()',
      ),
    ).rejects.toThrow('permission denied for table audit_events');
    await expect(
      asRuntime(
        'CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$',
      ),
    ).rejects.toThrow(/permission denied for schema|must be owner/);
    await expect(asRuntime(`SET ROLE ${ownerRole}`)).rejects.toThrow(
      /permission denied to set role/,
    );
    await expect(asRuntime('CREATE TABLE audit_events_copy (id int)')).rejects.toThrow(
      /permission denied for schema/,
    );
  });

  it('L3: every table whose triggers refuse UPDATE or DELETE is granted neither to the runtime role', async () => {
    const triggers = await admin<{ table: string; tgtype: number }>(
      `SELECT c.relname AS table, t.tgtype::int AS tgtype
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid
        WHERE NOT t.tgisinternal AND p.prosrc ILIKE '%raise exception%'
          -- A row rule, not a table rule: drafts are edited, only published versions refuse.
          AND p.proname <> 'published_questionnaire_is_immutable'`,
      true,
    );
    expect(triggers.length).toBeGreaterThan(0);
    const TRIGGER_ON = { DELETE: 1 << 3, UPDATE: 1 << 4 } as const;
    for (const { table, tgtype } of triggers) {
      for (const [operation, bit] of Object.entries(TRIGGER_ON)) {
        if ((tgtype & bit) === 0) continue;
        expect(tablePrivileges(table), `${operation} on ${table}`).not.toContain(operation);
        const [held] = await admin<{ held: boolean }>(
          `SELECT has_table_privilege('${runtimeRole}', '${table}', '${operation}') AS held`,
          true,
        );
        expect(held?.held, `${operation} on ${table}`).toBe(false);
      }
    }
  });

  it('L3: describeRuntimePrivileges reports the migration role as unsafe and the runtime role as safe', async () => {
    const asOwner = await describeRuntimePrivileges(owner.db);
    expect(asOwner).toMatchObject({
      role: ownerRole,
      isSuperuser: false,
      ownsAuditTables: true,
      canUpdateOrDeleteAudit: true,
      canDisableTriggers: true,
      safe: false,
    });
    expect(asOwner.problems.join('; ')).toContain('owns or can act as the owner on audit_events');

    const asRuntimeRole = await describeRuntimePrivileges(runtime.db);
    expect(asRuntimeRole).toMatchObject({
      role: runtimeRole,
      isSuperuser: false,
      canCreateRoles: false,
      bypassesRowSecurity: false,
      ownsAuditTables: false,
      canUpdateOrDeleteAudit: false,
      canDisableTriggers: false,
      canRecordAudit: true,
      canCreateInSchema: false,
      missingTables: [],
      problems: [],
      safe: true,
    });
    // The owner can check the runtime role without its password, as the command itself does.
    expect(await describeRuntimePrivileges(owner.db, runtimeRole)).toEqual(asRuntimeRole);
  });

  it('L3: Haven serves as the runtime role: it records, seals and verifies audit events, with no role warning', async () => {
    const { lines, logger } = captureLog();
    const config = loadConfig(
      testEnv({ DATABASE_URL: runtimeUrl, HAVEN_DATA_DIR: folder, ...GENEROUS_RATE_LIMITS }),
    );
    const app = await buildApp(config, { logger });
    try {
      await app.ready();
      const clinician = await createActor(app, ['clinician']);
      const organizationId = await createOrganization(app.database.db, {
        members: [{ userId: clinician.userId, role: 'clinician' }],
      });
      const patientId = await createPatientRow(app.database.db, organizationId);
      const created = await callAs(app, clinician, 'POST', `/api/patients/${patientId}/notes`, {
        body: 'Seen today.',
        shareable: false,
      });
      expect(created.statusCode, created.body).toBe(201);
      const noteId = created.json<{ note: { id: string } }>().note.id;
      const corrected = await callAs(
        app,
        clinician,
        'POST',
        `/api/patients/${patientId}/notes/${noteId}/versions`,
        { body: 'Seen today, fever.', shareable: false, reason: 'Added finding' },
      );
      expect(corrected.statusCode, corrected.body).toBe(201);
      const { rows } = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM audit_events WHERE target_id = ${patientId}`.execute(
        app.database.db,
      );
      expect(rows[0]?.n).toBeGreaterThanOrEqual(2);
      expect(await sealEverything(app.database.db, { key: chainKey })).toBeGreaterThan(0);
      const verification = await verifyAuditChain(app.database.db, { key: chainKey });
      expect(verification.ok, JSON.stringify(verification)).toBe(true);
    } finally {
      await app.close();
    }
    expect(roleWarnings(lines)).toEqual([]);
  });

  it('L3: serving as the migration role logs one warning naming `npx haven db runtime-role` and docs/database-roles.md', async () => {
    const { lines, logger } = captureLog();
    const config = loadConfig(testEnv({ DATABASE_URL: ownerUrl, HAVEN_DATA_DIR: folder }));
    const app = await buildApp(config, { logger });
    await app.close();
    const warnings = roleWarnings(lines);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.msg).toContain('docs/database-roles.md');
    expect(warnings[0]?.msg).toContain(ownerRole);
  });

  it('L3: `haven worker` as the migration role logs the same warning', async () => {
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', path.resolve(import.meta.dirname, '../cli-entry.ts'), 'worker'],
        {
          env: {
            PATH: process.env.PATH ?? '',
            HAVEN_ENV: 'development',
            HAVEN_LOG_LEVEL: 'info',
            HAVEN_DATA_DIR: folder,
            DATABASE_URL: ownerUrl,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        if (out.includes('worker started')) child.kill('SIGTERM');
      });
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
      child.once('error', reject);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(out);
      });
    });
    expect(output).toContain('worker started');
    expect(output).toContain('npx haven db runtime-role');
  });

  it('L3: tables made by later migrations reach the runtime role through default privileges; re-running keeps the password', async () => {
    const [before] = await admin<{ rolpassword: string }>(
      `SELECT rolpassword FROM pg_authid WHERE rolname = '${runtimeRole}'`,
    );
    await sql`CREATE TABLE later_table (id serial PRIMARY KEY, value text)`.execute(owner.db);
    try {
      await asRuntime(`INSERT INTO later_table (value) VALUES ('a')`);
      await asRuntime(`UPDATE later_table SET value = 'b'`);
      await asRuntime('DELETE FROM later_table');
      await expect(asRuntime('DROP TABLE later_table')).rejects.toThrow(/must be owner/);
      const again = await applyRuntimeRole(owner.db, { role: runtimeRole });
      expect(again).toMatchObject({ role: runtimeRole, created: false });
      const [after] = await admin<{ rolpassword: string }>(
        `SELECT rolpassword FROM pg_authid WHERE rolname = '${runtimeRole}'`,
      );
      expect(after?.rolpassword).toBe(before?.rolpassword);
    } finally {
      await sql`DROP TABLE later_table`.execute(owner.db);
    }
  });

  it('L3/credentials: the password from the file is stored as a SCRAM-SHA-256 verifier PostgreSQL computes the same way', async () => {
    const verifierOf = async (role: string) => {
      const [row] = await admin<{ rolpassword: string }>(
        `SELECT rolpassword FROM pg_authid WHERE rolname = '${role}'`,
      );
      const match = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(row?.rolpassword ?? '');
      if (!match) throw new Error(`no SCRAM verifier for ${role}`);
      return { stored: row!.rolpassword, iterations: Number(match[1]), salt: match[2]! };
    };
    const runtimeVerifier = await verifierOf(runtimeRole);
    expect(
      scramSha256Verifier(
        password,
        Buffer.from(runtimeVerifier.salt, 'base64'),
        runtimeVerifier.iterations,
      ),
    ).toBe(runtimeVerifier.stored);
    // PostgreSQL's own hashing of a plain password, recomputed from its salt.
    const probe = `haven_probe_${suffix}`;
    extraRoles.push(probe);
    const plain = randomBytes(18).toString('base64');
    await admin(
      `SET password_encryption = 'scram-sha-256'; CREATE ROLE ${probe} PASSWORD '${plain}'`,
    );
    const server = await verifierOf(probe);
    expect(scramSha256Verifier(plain, Buffer.from(server.salt, 'base64'), server.iterations)).toBe(
      server.stored,
    );
  });

  it('L3: refuses the migration role itself, a role that owns objects, a member of another role, and bad names', async () => {
    await expect(applyRuntimeRole(owner.db, { role: ownerRole })).rejects.toThrow(
      /the migration role/,
    );
    const member = `haven_member_${suffix}`;
    const schemaOwner = `haven_so_${suffix}`;
    extraRoles.push(member, schemaOwner);
    await admin(`CREATE ROLE ${member} LOGIN; GRANT ${ownerRole} TO ${member}`);
    await expect(applyRuntimeRole(owner.db, { role: member })).rejects.toThrow(
      new RegExp(`is a member of ${ownerRole}`),
    );
    await admin(`CREATE ROLE ${schemaOwner} LOGIN`);
    await admin(`CREATE SCHEMA so_${suffix} AUTHORIZATION ${schemaOwner}`, true);
    try {
      await expect(applyRuntimeRole(owner.db, { role: schemaOwner })).rejects.toThrow(
        /owns objects/,
      );
    } finally {
      await admin(`DROP SCHEMA so_${suffix}`, true);
    }
    for (const name of BAD_ROLE_NAMES) {
      await expect(applyRuntimeRole(owner.db, { role: name }), name).rejects.toThrow(
        RuntimeRoleError,
      );
    }
    const result = await haven(['db', 'runtime-role', '--role', 'Robert"; DROP TABLE x; --'], {
      DATABASE_URL: ownerUrl,
      HAVEN_DATA_DIR: folder,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('is not accepted as a role name');
  });
});
