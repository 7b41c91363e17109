// A clinic for the clinical tests: one real app on a fresh database for a describe block, and the
// people, organizations and patients of a scenario minted straight into it (actors.ts), so each
// test file states only what its scenario is, not how to build one.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema, OrganizationRole, Role } from '../src/platform/db/schema.js';
import type { Engine } from '../src/platform/db/database.js';
import { issueAccessToken } from '../src/modules/identity/index.js';
import {
  GENEROUS_RATE_LIMITS,
  addMember,
  callAs,
  createActor,
  createNoteRow,
  createOrganization,
  createPatientRow,
  createUser,
  machineClientAuthorization,
  mintSession,
  type Actor,
  type PatientRowOptions,
} from './actors.js';
import type { BuildOptions } from '../src/app.js';
import { useTestNodes, type TestApp } from './app-harness.js';
import { describeEachEngine } from './databases.js';

export type { Actor } from './actors.js';
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type Db = Kysely<DatabaseSchema>;

/** A patient whose record is linked to a portal account, signed in with a session. */
export interface PortalPatient {
  readonly patientId: string;
  /** The portal account's session. */
  readonly patient: Actor;
}

export interface Clinic {
  /** The running app and its database (for a second node on the same database). */
  readonly harness: TestApp;
  readonly app: FastifyInstance;
  readonly db: Db;
  /** app.inject as the actor (bearer token), or anonymously with `null`. */
  call(
    actor: { authorization: string } | null,
    method: Method,
    url: string,
    payload?: unknown,
  ): Promise<LightMyRequestResponse>;
  /** A user with a fresh MFA-verified session (`mfa: false`: none). */
  actor(
    roles: Role[],
    options?: { displayName?: string; email?: string; mfa?: boolean },
  ): Promise<Actor>;
  /** A machine client's token with the scopes, as a caller for `call`. */
  machineClient(scopes: readonly string[]): Promise<{ authorization: string }>;
  /** An organization; `members` are [actor, role] pairs. */
  organization(options?: {
    name?: string;
    members?: ReadonlyArray<readonly [{ userId: string }, OrganizationRole]>;
  }): Promise<string>;
  /** Adds the user to the organization with the role. */
  addMember(
    organizationId: string,
    user: { userId: string },
    role: OrganizationRole,
  ): Promise<void>;
  /** A patient row in the organization. */
  patient(organizationId: string, options?: PatientRowOptions): Promise<string>;
  /** A patient row linked to a new portal account (`account` names it), and its session. */
  portalPatient(
    organizationId: string,
    options?: PatientRowOptions,
    account?: { displayName?: string; email?: string },
  ): Promise<PortalPatient>;
  /** The rows of `table` whose columns equal `where`'s values: what a test checks was (not) written. */
  rows(
    table: keyof DatabaseSchema,
    where: Record<string, unknown>,
  ): Promise<Array<Record<string, unknown>>>;
  /** A note on the patient by the author, with these versions (oldest first). */
  note(
    patientId: string,
    organizationId: string,
    author: { userId: string },
    versions: ReadonlyArray<{ body: string; shareable: boolean }>,
  ): Promise<string>;
}

/**
 * Registers the hooks that start one app on a fresh database for the describe block and close
 * it after. Rate limits are generous unless `env` says otherwise: these tests are about who may
 * do what, not how often.
 */
export function useClinic(
  engine: Engine,
  options: {
    env?: Record<string, string | undefined>;
    build?: Omit<BuildOptions, 'database'>;
  } = {},
): Clinic {
  const nodes = useTestNodes(engine, {
    env: { ...GENEROUS_RATE_LIMITS, ...options.env },
    ...(options.build ? { build: options.build } : {}),
  });
  const clinic: Clinic = {
    get harness() {
      return nodes.node;
    },
    get app() {
      return nodes.node.app;
    },
    get db() {
      return nodes.database.db;
    },
    call: (actor, method, url, payload) => callAs(clinic.app, actor, method, url, payload),
    actor: (roles, actorOptions) => createActor(clinic.app, roles, actorOptions),
    machineClient: async (scopes) => ({
      authorization: await machineClientAuthorization(clinic.app, scopes),
    }),
    organization: (organization = {}) =>
      createOrganization(clinic.db, {
        ...(organization.name === undefined ? {} : { name: organization.name }),
        members: (organization.members ?? []).map(([user, role]) => ({
          userId: user.userId,
          role,
        })),
      }),
    addMember: (organizationId, user, role) =>
      addMember(clinic.db, organizationId, user.userId, role),
    patient: (organizationId, patient) => createPatientRow(clinic.db, organizationId, patient),
    async portalPatient(organizationId, patient = {}, account = {}) {
      const user = await createUser(clinic.db, { roles: ['patient'], ...account });
      const patientId = await createPatientRow(clinic.db, organizationId, {
        ...patient,
        portalUserId: user.userId,
      });
      return { patientId, patient: await mintSession(clinic.app, { ...user, roles: ['patient'] }) };
    },
    async rows(table, where) {
      // The table is chosen at run time, which Kysely's types cannot follow: typed as any table.
      let query = clinic.db.selectFrom(table as 'users').selectAll();
      for (const [column, value] of Object.entries(where)) {
        query = query.where(sql.ref(column), '=', value);
      }
      return await query.execute();
    },
    note: (patientId, organizationId, author, versions) =>
      createNoteRow(clinic.db, patientId, organizationId, author.userId, versions),
  };
  return clinic;
}

type ClinicOptions = Parameters<typeof useClinic>[1];
type ClinicBody = (clinic: Clinic, engine: Engine) => void;

/** describeEachEngine with a clinic (useClinic) for the block: the common frame of a clinical test. */
export function describeClinic(name: string, body: ClinicBody): void;
export function describeClinic(name: string, options: ClinicOptions, body: ClinicBody): void;
export function describeClinic(
  name: string,
  optionsOrBody: ClinicOptions | ClinicBody,
  maybeBody?: ClinicBody,
): void {
  const [options, body] =
    typeof optionsOrBody === 'function' ? [{}, optionsOrBody] : [optionsOrBody, maybeBody!];
  describeEachEngine(name, (engine) => body(useClinic(engine, options), engine));
}

/** A token for the actor's own session holding only `scopes` (a narrower token, same person). */
export async function narrowedToken(
  clinic: Clinic,
  actor: Actor,
  scopes: string[],
): Promise<Actor> {
  const identity = clinic.app.identity;
  if (!identity) throw new Error('the identity module is needed');
  const now = Date.now();
  const seconds = Math.floor(now / 1000);
  const { token } = await issueAccessToken({
    keys: identity.keys,
    issuer: identity.issuer,
    audience: identity.audience,
    subject: actor.userId,
    sessionId: actor.sessionId,
    scopes,
    amr: ['pwd', 'otp'],
    authTime: seconds,
    mfaAt: seconds,
    now: () => now,
  });
  return { ...actor, authorization: `Bearer ${token}` };
}
