// Test actors: users with real sessions and real access tokens, minted straight into the
// database so a test can field many people without paying for argon2 sign-ins. Requests use
// bearer tokens (CSRF-exempt); the cookie path is covered by the identity tests.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { SignJWT } from 'jose';
import type { DatabaseSchema, OrganizationRole, Role } from '../src/platform/db/schema.js';
import type { Kysely } from 'kysely';
import { createSession, issueAccessToken, scopesForRoles } from '../src/modules/identity/index.js';
import { ACCESS_TOKEN_TYPE } from '../src/platform/auth/jwt-authenticator.js';

type Db = Kysely<DatabaseSchema>;

export interface Actor {
  readonly userId: string;
  readonly sessionId: string;
  readonly email: string;
  readonly roles: readonly Role[];
  /** `Authorization` header value. */
  readonly authorization: string;
}

function identityOf(app: FastifyInstance) {
  const identity = app.identity;
  if (!identity) throw new Error('actors need the identity module (no harness authenticator)');
  return identity;
}

let counter = 0;
/** A unique email for this test process. */
export const uniqueEmail = (prefix = 'user'): string =>
  `${prefix}-${process.pid}-${++counter}-${randomUUID().slice(0, 8)}@example.org`;

/** An active user row (no password: actors never sign in through the login route). */
export async function createUser(
  db: Db,
  options: {
    roles: Role[];
    email?: string;
    displayName?: string;
    status?: 'active' | 'invited' | 'disabled';
  },
): Promise<{ userId: string; email: string }> {
  const email = options.email ?? uniqueEmail(options.roles[0] ?? 'user');
  const row = await db
    .insertInto('users')
    .values({
      email,
      email_normalized: email.toLowerCase(),
      display_name: options.displayName ?? `Test ${options.roles.join('+') || 'user'}`,
      roles: options.roles,
      status: options.status ?? 'active',
      totp_enrolled_at: options.roles.some((r) => r !== 'patient' && r !== 'participant')
        ? new Date()
        : null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { userId: row.id, email };
}

/**
 * A fresh session for an existing user and an access token for it, as the login route would
 * issue. `mfa: true` (default) marks the session as MFA-verified just now, so step-up passes.
 */
export async function mintSession(
  app: FastifyInstance,
  user: { userId: string; email: string; roles: readonly Role[] },
  options: { mfa?: boolean; now?: Date } = {},
): Promise<Actor> {
  const identity = identityOf(app);
  const now = options.now ?? new Date();
  const mfa = options.mfa ?? true;
  const amr = mfa ? ['pwd', 'otp'] : ['pwd'];
  const session = await createSession(
    app.database.db,
    {
      userId: user.userId,
      amr,
      mfaAt: mfa ? now : null,
      userAgent: 'vitest',
      clientAddress: '127.0.0.1',
    },
    identity.lifetimes,
    now,
  );
  const seconds = Math.floor(now.getTime() / 1000);
  const { token } = await issueAccessToken({
    keys: identity.keys,
    issuer: identity.issuer,
    audience: identity.audience,
    subject: user.userId,
    sessionId: session.sessionId,
    scopes: scopesForRoles([...user.roles]),
    amr,
    authTime: seconds,
    ...(mfa ? { mfaAt: seconds } : {}),
    now: () => now.getTime(),
  });
  return { ...user, sessionId: session.sessionId, authorization: `Bearer ${token}` };
}

/** createUser + mintSession. */
export async function createActor(
  app: FastifyInstance,
  roles: Role[],
  options: { displayName?: string; email?: string; mfa?: boolean } = {},
): Promise<Actor> {
  const user = await createUser(app.database.db, { roles, ...options });
  return mintSession(app, { ...user, roles }, options);
}

/** A machine client's token (no session): signed by the server's own key, with the given scopes. */
export async function machineClientAuthorization(
  app: FastifyInstance,
  scopes: readonly string[] = [],
): Promise<string> {
  const identity = identityOf(app);
  const { kid, alg, privateKey } = await identity.keys.currentSigningKey();
  const token = await new SignJWT({ scope: scopes.join(' ') })
    .setProtectedHeader({ alg, kid, typ: ACCESS_TOKEN_TYPE })
    .setIssuer(identity.issuer)
    .setAudience(identity.audience)
    .setSubject(`client-${randomUUID()}`)
    .setIssuedAt()
    .setJti(randomUUID())
    .setExpirationTime('5m')
    .sign(privateKey);
  return `Bearer ${token}`;
}

/** An organization row, and optionally its members. */
export async function createOrganization(
  db: Db,
  options: {
    name?: string;
    /** ISO 3166-1 alpha-2; the column's default (US) when absent. */
    country?: string;
    members?: Array<{ userId: string; role: OrganizationRole }>;
  } = {},
): Promise<string> {
  const org = await db
    .insertInto('organizations')
    .values({
      name: options.name ?? `Clinic ${randomUUID().slice(0, 8)}`,
      ...(options.country === undefined ? {} : { country: options.country }),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  for (const member of options.members ?? []) {
    await addMember(db, org.id, member.userId, member.role);
  }
  return org.id;
}

/** A membership of an existing user in an existing organization. */
export async function addMember(
  db: Db,
  organizationId: string,
  userId: string,
  role: OrganizationRole,
): Promise<void> {
  await db
    .insertInto('organization_members')
    .values({ organization_id: organizationId, user_id: userId, role })
    .execute();
}

/** A user's role in an organization as stored, or undefined when they are not a member. */
export async function memberRoleOf(
  db: Db,
  organizationId: string,
  userId: string,
): Promise<OrganizationRole | undefined> {
  const row = await db
    .selectFrom('organization_members')
    .select('role')
    .where('organization_id', '=', organizationId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row?.role;
}

/** Archives a patient row as the archive use case leaves it (no audit event: test setup). */
export async function archivePatientRow(db: Db, patientId: string): Promise<void> {
  await db
    .updateTable('patients')
    .set({ archived_at: new Date() })
    .where('id', '=', patientId)
    .execute();
}

export interface PatientRowOptions {
  givenName?: string;
  familyName?: string;
  mrn?: string;
  birthDate?: string;
  portalUserId?: string;
  address?: Record<string, string> | null;
  contactMethods?: ReadonlyArray<{ type: string; value: string; verified: boolean }>;
}

/** A patient row in an organization, optionally linked to a portal user. */
export async function createPatientRow(
  db: Db,
  organizationId: string,
  options: PatientRowOptions = {},
): Promise<string> {
  const row = await db
    .insertInto('patients')
    .values({
      organization_id: organizationId,
      mrn: options.mrn ?? `MRN-${randomUUID().slice(0, 8)}`,
      given_name: options.givenName ?? 'Pat',
      family_name: options.familyName ?? 'Example',
      birth_date: options.birthDate ?? '1980-04-01',
      sex: 'unknown',
      address: options.address ? JSON.stringify(options.address) : null,
      contact_methods: JSON.stringify(options.contactMethods ?? []),
      portal_user_id: options.portalUserId ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** A clinical note with the given versions (oldest first); returns the note id. */
export async function createNoteRow(
  db: Db,
  patientId: string,
  organizationId: string,
  authorId: string,
  versions: ReadonlyArray<{ body: string; shareable: boolean }>,
): Promise<string> {
  const note = await db
    .insertInto('clinical_notes')
    .values({ patient_id: patientId, organization_id: organizationId, created_by: authorId })
    .returning('id')
    .executeTakeFirstOrThrow();
  for (const [index, version] of versions.entries()) {
    await db
      .insertInto('clinical_note_versions')
      .values({
        note_id: note.id,
        version: index + 1,
        body: version.body,
        shareable: version.shareable,
        author_id: authorId,
        correction_reason: index === 0 ? null : 'Corrected wording',
      })
      .execute();
  }
  return note.id;
}

/** Rate limits high enough that a test file making many calls never meets them. */
export const GENEROUS_RATE_LIMITS: Readonly<Record<string, string>> = Object.freeze({
  HAVEN_RATE_PUBLIC: '100000/60',
  HAVEN_RATE_AUTH: '100000/60',
  HAVEN_RATE_REFRESH: '100000/60',
  HAVEN_RATE_SENSITIVE: '100000/60',
  HAVEN_RATE_READ: '100000/60',
  HAVEN_RATE_WRITE: '100000/60',
  HAVEN_RATE_UPLOAD: '100000/60',
});

/** app.inject with an actor's token (or none) and a JSON body. */
export function callAs(
  app: FastifyInstance,
  actor: { authorization: string } | null,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  payload?: unknown,
): Promise<LightMyRequestResponse> {
  return app.inject({
    method,
    url,
    headers: actor ? { authorization: actor.authorization } : {},
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
}
