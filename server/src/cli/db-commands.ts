// `haven db …`: database administration run by the operator as the migration (owner) role.
// `haven db runtime-role` creates the least-privileged role Haven serves with (L3, issue 16;
// platform/db/roles.ts holds the plan, docs/database-roles.md the procedure).
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config.js';
import { openDatabase } from '../platform/db/database.js';
import { describeDatabaseFault } from '../platform/db/faults.js';
import {
  APPEND_ONLY_TABLES,
  applyRuntimeRole,
  assertRoleName,
  passwordFromFile,
  RuntimeRoleError,
  type RuntimeRoleResult,
} from '../platform/db/roles.js';

const COMMAND = 'haven db runtime-role';
/** Exit status of a refusal that needs a different setup, not a retry (EX_USAGE is 64; 2 as `worker`). */
const EXIT_NEEDS_POSTGRES = 2;

interface RuntimeRoleFlags {
  readonly role: string;
  readonly passwordFile?: string;
}

function refuse(message: string, exitCode = 1): void {
  process.stderr.write(`${COMMAND}: ${message}\n`);
  process.exitCode = exitCode;
}

async function readPassword(file: string | undefined): Promise<string | undefined> {
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new RuntimeRoleError(
      `cannot read the password file ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}).`,
    );
  }
  return passwordFromFile(text);
}

function report(result: RuntimeRoleResult, passwordSet: boolean): string {
  const { role, database, schema } = result;
  return (
    `Role ${role} ${result.created ? 'created' : 'updated'} in database ${database}: ` +
    `CONNECT, USAGE on schema ${schema}, SELECT/INSERT/UPDATE/DELETE on ordinary tables, only ` +
    `SELECT and INSERT on ${APPEND_ONLY_TABLES.join(', ')}, no DELETE on clinical history, ` +
    `USAGE on ${result.sequences} sequence(s); ${result.tables} table(s) checked.\n` +
    `${passwordSet ? 'Password set from the file.' : 'Password left as it was.'}\n` +
    `Serve and run workers with DATABASE_URL naming ${role}; keep this role's URL for ` +
    '`haven migrate` and re-run this command after every migration (docs/database-roles.md).\n'
  );
}

async function runtimeRole(flags: RuntimeRoleFlags): Promise<void> {
  let databaseUrl: string | undefined;
  try {
    databaseUrl = loadConfig().databaseUrl;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return refuse(`refusing to run.\n${error.message}`, 78);
  }
  if (databaseUrl === undefined) {
    return refuse(
      'the embedded database (PGlite) has a single user and no roles to separate. Runtime roles ' +
        'are for PostgreSQL: set DATABASE_URL to the migration role and run this again.',
      EXIT_NEEDS_POSTGRES,
    );
  }
  let password: string | undefined;
  try {
    assertRoleName(flags.role);
    password = await readPassword(flags.passwordFile);
  } catch (error) {
    if (error instanceof RuntimeRoleError) return refuse(error.message);
    throw error;
  }
  const database = await openDatabase({ url: databaseUrl, embeddedDir: undefined });
  try {
    const result = await applyRuntimeRole(database.db, { role: flags.role, password });
    process.stdout.write(report(result, password !== undefined));
  } catch (error) {
    if (error instanceof RuntimeRoleError) return refuse(error.message);
    // PostgreSQL's own refusals (no CREATEROLE, not the owner): its message, without the URL.
    if (typeof error === 'object' && error !== null && 'severity' in error) {
      return refuse(
        `PostgreSQL refused: ${describeDatabaseFault(error)}. Run this command as the role that ` +
          'ran `haven migrate`; creating a role needs CREATEROLE (or create it as a superuser ' +
          'and run this again). Nothing was changed.',
      );
    }
    throw error;
  } finally {
    await database.close();
  }
}

/** Registers `haven db` and its subcommands on the program. */
export function registerDbCommands(program: Command): void {
  const db = program.command('db').description('database administration (PostgreSQL)');
  db.command('runtime-role')
    .description(
      'create or update the least-privileged role Haven serves with (run as the migration ' +
        'role after `haven migrate`, and again after every migration)',
    )
    .requiredOption('--role <name>', 'name of the runtime role, e.g. haven_app')
    .option(
      '--password-file <file>',
      "file holding the role's password on one line (never given on the command line)",
    )
    .action(runtimeRole);
}
