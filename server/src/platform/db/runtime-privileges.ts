// L3 (issue 16): what the role Haven is connected as could do to the append-only tables. A role
// that owns them (or is a superuser, or a member of their owner) can drop or disable their
// triggers and then rewrite or cut the audit log; a role with UPDATE, DELETE or TRUNCATE on
// them is stopped only by those triggers. Read by the start-up warning (startup.ts), by
// `haven db runtime-role` to check its own work (roles.ts) and by the self-audit.
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from './schema.js';

/** The audit log: events and the seals that chain them (migrations 0001 and 0005). */
export const AUDIT_TABLES = ['audit_events', 'audit_seals'] as const;

/**
 * Tables whose triggers refuse UPDATE, DELETE and TRUNCATE: the audit log, and note versions
 * (a correction is a new version, 0003_clinical). The runtime role may only SELECT and INSERT.
 */
export const APPEND_ONLY_TABLES = [...AUDIT_TABLES, 'clinical_note_versions'] as const;

export interface AppendOnlyTablePrivileges {
  readonly table: string;
  readonly owner: string;
  /** The role is the owner, a member of it, or a superuser: it can ALTER, DROP, disable triggers. */
  readonly ownedByRole: boolean;
  readonly canSelect: boolean;
  readonly canInsert: boolean;
  readonly canUpdate: boolean;
  readonly canDelete: boolean;
  readonly canTruncate: boolean;
  /** TRIGGER privilege: may add triggers of its own to the table. */
  readonly canCreateTriggers: boolean;
}

export interface RuntimePrivileges {
  readonly role: string;
  readonly isSuperuser: boolean;
  /** Before PostgreSQL 16, CREATEROLE can grant itself membership in the owner role. */
  readonly canCreateRoles: boolean;
  readonly bypassesRowSecurity: boolean;
  /** Owns audit_events or audit_seals, or can act as their owner. */
  readonly ownsAuditTables: boolean;
  /** UPDATE, DELETE or TRUNCATE on audit_events or audit_seals (only the triggers stop it). */
  readonly canUpdateOrDeleteAudit: boolean;
  /** Can drop or disable the append-only triggers: an owner of an append-only table or a superuser. */
  readonly canDisableTriggers: boolean;
  /** SELECT and INSERT on both audit tables: what recording and sealing events need. */
  readonly canRecordAudit: boolean;
  /** May create tables in the schema (not a threat to the audit log; reported for review). */
  readonly canCreateInSchema: boolean;
  readonly tables: readonly AppendOnlyTablePrivileges[];
  /** Append-only tables not found in the current schema (a database not migrated yet). */
  readonly missingTables: readonly string[];
  /** Why this role is unfit to serve Haven; empty when it is fit. */
  readonly problems: readonly string[];
  /** No problems: the role cannot change or remove what the append-only tables hold. */
  readonly safe: boolean;
}

interface RoleRow {
  role: string;
  isSuperuser: boolean;
  canCreateRoles: boolean;
  bypassesRowSecurity: boolean;
  canCreateInSchema: boolean;
}

/**
 * Describes `role` (default: the role of this connection) on the current schema's append-only
 * tables. Any role may ask about itself; asking about another role works from any role too
 * (has_table_privilege and pg_has_role read the catalogs, which are public).
 */
export async function describeRuntimePrivileges(
  db: Kysely<DatabaseSchema>,
  role?: string,
): Promise<RuntimePrivileges> {
  const { rows: roles } = await sql<RoleRow>`
    select r.rolname as role, r.rolsuper as "isSuperuser", r.rolcreaterole as "canCreateRoles",
           r.rolbypassrls as "bypassesRowSecurity",
           has_schema_privilege(r.rolname, current_schema(), 'CREATE') as "canCreateInSchema"
      from pg_roles r where r.rolname = coalesce(${role ?? null}::text, current_user::text)`.execute(
    db,
  );
  const facts = roles[0];
  if (!facts) throw new Error(`describeRuntimePrivileges: no role named ${role}`);
  const { rows: tables } = await sql<AppendOnlyTablePrivileges>`
    select c.relname as "table", pg_get_userbyid(c.relowner) as owner,
           pg_has_role(${facts.role}, c.relowner, 'MEMBER') as "ownedByRole",
           has_table_privilege(${facts.role}, c.oid, 'SELECT') as "canSelect",
           has_table_privilege(${facts.role}, c.oid, 'INSERT') as "canInsert",
           has_table_privilege(${facts.role}, c.oid, 'UPDATE') as "canUpdate",
           has_table_privilege(${facts.role}, c.oid, 'DELETE') as "canDelete",
           has_table_privilege(${facts.role}, c.oid, 'TRUNCATE') as "canTruncate",
           has_table_privilege(${facts.role}, c.oid, 'TRIGGER') as "canCreateTriggers"
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = current_schema() and c.relkind in ('r', 'p')
       and c.relname in (${sql.join([...APPEND_ONLY_TABLES])})
     order by c.relname`.execute(db);
  return summarize(facts, tables);
}

function summarize(
  facts: RoleRow,
  tables: readonly AppendOnlyTablePrivileges[],
): RuntimePrivileges {
  const audit = tables.filter((t) => (AUDIT_TABLES as readonly string[]).includes(t.table));
  const ownsAuditTables = audit.some((t) => t.ownedByRole);
  const canUpdateOrDeleteAudit = audit.some((t) => t.canUpdate || t.canDelete || t.canTruncate);
  const canDisableTriggers = facts.isSuperuser || tables.some((t) => t.ownedByRole);
  const missingTables = APPEND_ONLY_TABLES.filter((name) => !tables.some((t) => t.table === name));
  const problems: string[] = [];
  if (missingTables.length > 0) problems.push(`cannot be checked: no ${missingTables.join(', ')}`);
  if (facts.isSuperuser) problems.push('is a superuser');
  if (facts.canCreateRoles) problems.push('has CREATEROLE');
  if (facts.bypassesRowSecurity) problems.push('has BYPASSRLS');
  for (const t of tables) {
    const where = `on ${t.table}`;
    if (t.ownedByRole && !facts.isSuperuser) problems.push(`owns or can act as the owner ${where}`);
    const changes = [
      ...(t.canUpdate ? ['UPDATE'] : []),
      ...(t.canDelete ? ['DELETE'] : []),
      ...(t.canTruncate ? ['TRUNCATE'] : []),
      ...(t.canCreateTriggers ? ['TRIGGER'] : []),
    ];
    if (changes.length > 0 && !t.ownedByRole) problems.push(`holds ${changes.join(', ')} ${where}`);
  }
  return {
    ...facts,
    ownsAuditTables,
    canUpdateOrDeleteAudit,
    canDisableTriggers,
    canRecordAudit:
      audit.length === AUDIT_TABLES.length && audit.every((t) => t.canSelect && t.canInsert),
    tables,
    missingTables,
    problems,
    safe: problems.length === 0,
  };
}
