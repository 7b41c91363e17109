// The authorization matrix (Z1–Z5): one entry per registered route, keyed exactly as in
// `app.routeTable` ('METHOD /path'), with the outcome every kind of caller must get.
// authorization-matrix.test.ts runs every cell against the real app on both engines and
// fails when a registered route has no entry here, or an entry names no registered route.
//
// Unless an entry says otherwise, the object a request targets belongs to organization A or
// to patient PA (in A): the otherClinician (member of B only) and otherPatient (linked to PB
// in B) columns are the tenant-isolation proof, and must be 404 NOT_FOUND (Z4), never 403.
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { ConsentKind, DatabaseSchema, Role } from '../../src/platform/db/schema.js';
import {
  archivePatientRow,
  createPatientRow,
  createUser,
  mintSession,
  uniqueEmail,
} from '../actors.js';
import { addStudyMember, insertCase, insertStudy, inviteToStudy } from '../review-actors.js';
import {
  ANSWER_BODY,
  CASE_BODY,
  CASE_CSV,
  insertDraftQuestionnaire,
  newActiveStudy,
  newParticipantAccount,
  type ReviewsWorld,
} from './reviews-matrix.table.js';
import { FILES_MATRIX, FILES_PROBES, type FilesWorld } from './files-matrix.table.js';

export const ACTORS = [
  'admin',
  'orgAdmin',
  'clinician',
  'otherClinician',
  'patientSelf',
  'otherPatient',
  'participant',
  'researcher',
  'anonymous',
  'machine',
] as const;
export type ActorName = (typeof ACTORS)[number];
/** The actors that are people with a user row and sessions. */
export type PersonName = Exclude<ActorName, 'anonymous' | 'machine'>;

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS' | 'HEAD';

export interface RequestSpec {
  readonly method: Method;
  readonly url: string;
  readonly payload?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * An exact status, an exact status with its problem code, or `ok` (any 2xx) where the
 * success status is not what the cell is about.
 */
export type Expected = number | 'ok' | { readonly status: number; readonly code: string };

export interface Person {
  readonly userId: string;
  readonly email: string;
  readonly roles: readonly Role[];
}

/** The fixture world every cell runs in; built once per engine by the test. */
export interface World {
  readonly app: FastifyInstance;
  readonly db: Kysely<DatabaseSchema>;
  /** Our own origin: credential-issuing public routes refuse requests without it (login CSRF). */
  readonly origin: string;
  /** An origin allowed by HAVEN_CORS_ORIGINS, for the preflight route. */
  readonly corsOrigin: string;
  readonly people: Readonly<Record<PersonName, Person>>;
  readonly orgA: string;
  readonly orgB: string;
  /** Patient PA in A, linked to patientSelf; PB in B, linked to otherPatient. */
  readonly patientA: string;
  readonly patientAMrn: string;
  readonly patientB: string;
  readonly documentA: string;
  readonly noteA: string;
  /** Study S of the researcher in A, with the participant on its team (reviews-matrix.table.ts). */
  readonly reviews: ReviewsWorld;
  /** The clinician's files and upload (files-matrix.table.ts). */
  readonly files: FilesWorld;
}

export type Prepared = Readonly<Record<string, string>>;

export interface MatrixEntry {
  /** Creates this cell's own throwaway targets (so destructive cases hurt nothing shared). */
  readonly prepare?: (w: World, actor: ActorName) => Promise<Prepared>;
  /**
   * `self` (default): a fresh session of the world's person. `twin`: a fresh user with the
   * same global roles and no memberships, for routes that change the caller's own account.
   */
  readonly caller?: 'self' | 'twin';
  readonly request: (w: World, actor: ActorName, prepared: Prepared) => RequestSpec;
  readonly expect: Readonly<Record<ActorName, Expected>>;
  /**
   * The route answers a browser with an HTML page when it refuses (the OAuth authorization
   * endpoint, RFC 6749 §4.1.2.1), not with a problem document.
   */
  readonly errorsArePages?: boolean;
  /** Extra isolation checks on the answer; returns a problem description or undefined. */
  readonly check?: (
    w: World,
    actor: ActorName,
    response: { statusCode: number; body: string },
  ) => string | undefined;
}

// ---------------------------------------------------------------------------------------------
// Outcomes

export const UNAUTHENTICATED = { status: 401, code: 'UNAUTHENTICATED' } as const;
export const FORBIDDEN = { status: 403, code: 'FORBIDDEN' } as const;
export const NOT_FOUND = { status: 404, code: 'NOT_FOUND' } as const;
const CONFLICT = { status: 409, code: 'CONFLICT' } as const;

const PEOPLE: readonly PersonName[] = ACTORS.filter(
  (a): a is PersonName => a !== 'anonymous' && a !== 'machine',
);

/**
 * A scoped route: the listed people get the listed outcome, every other person lacks the
 * scope (403), no credentials is 401, and the scopeless machine token is 403.
 */
function holders(granted: Partial<Record<PersonName, Expected>>): Record<ActorName, Expected> {
  const out = {} as Record<ActorName, Expected>;
  for (const person of PEOPLE) out[person] = granted[person] ?? FORBIDDEN;
  out.anonymous = UNAUTHENTICATED;
  out.machine = FORBIDDEN;
  return out;
}

/** A route every signed-in person may call (account:read/account:write). */
function signedIn(
  expected: Expected,
  overrides: Partial<Record<PersonName, Expected>> = {},
): Record<ActorName, Expected> {
  const out = {} as Record<ActorName, Expected>;
  for (const person of PEOPLE) out[person] = overrides[person] ?? expected;
  out.anonymous = UNAUTHENTICATED;
  out.machine = FORBIDDEN;
  return out;
}

/** A public route: credentials change nothing. */
function everyone(expected: Expected): Record<ActorName, Expected> {
  return Object.fromEntries(ACTORS.map((a) => [a, expected])) as Record<ActorName, Expected>;
}

/** Org A's members (both roles) get `member`, B's clinician `other`; nobody else has the scope. */
function organizationA(
  member: Expected,
  other: Expected = NOT_FOUND,
  orgAdmin: Expected = member,
): Record<ActorName, Expected> {
  return holders({ orgAdmin, clinician: member, otherClinician: other });
}

/** Portal routes: patient-role users only; each sees their own record. */
function portal(self: Expected, other: Expected = self): Record<ActorName, Expected> {
  return holders({ patientSelf: self, otherPatient: other });
}

const adminOnly = (expected: Expected): Record<ActorName, Expected> => holders({ admin: expected });

/** Research routes: the researcher, on the team of the study the request names. */
const researchers = (expected: Expected): Record<ActorName, Expected> =>
  holders({ researcher: expected });

/** Participation routes: the participant, on their own study and assignments. */
const participants = (expected: Expected): Record<ActorName, Expected> =>
  holders({ participant: expected });

/** Roles whose holders must have MFA (the default HAVEN_MFA_REQUIRED_ROLES). */
const MFA_ROLES: readonly PersonName[] = [
  'admin',
  'orgAdmin',
  'clinician',
  'otherClinician',
  'researcher',
];
function byMfaRole(
  enrolled: Expected,
  notEnrolled: Expected,
): Partial<Record<PersonName, Expected>> {
  const out: Partial<Record<PersonName, Expected>> = {};
  for (const person of PEOPLE) out[person] = MFA_ROLES.includes(person) ? enrolled : notEnrolled;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Throwaway targets

async function newPatient(w: World, organizationId: string, archived = false): Promise<string> {
  const id = await createPatientRow(w.db, organizationId, {
    givenName: 'Throwaway',
    familyName: 'Matrix',
  });
  if (archived) {
    await archivePatientRow(w.db, id);
  }
  return id;
}

/** A new, current version of a consent document kind in an organization. */
export async function newDocument(
  w: Pick<World, 'db'>,
  organizationId: string,
  kind: ConsentKind = 'terms',
): Promise<string> {
  const last = await w.db
    .selectFrom('consent_documents')
    .select((eb) => eb.fn.max('version').as('version'))
    .where('organization_id', '=', organizationId)
    .where('kind', '=', kind)
    .executeTakeFirst();
  const row = await w.db
    .insertInto('consent_documents')
    .values({
      organization_id: organizationId,
      kind,
      version: Number(last?.version ?? 0) + 1,
      title: `Matrix ${kind}`,
      body: 'Consent text for the authorization matrix.',
      required: false,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

async function newConsent(w: World, patientId: string, documentId: string): Promise<string> {
  const row = await w.db
    .insertInto('patient_consents')
    .values({ patient_id: patientId, document_id: documentId, channel: 'paper' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

async function newGrant(w: World): Promise<string> {
  const row = await w.db
    .insertInto('break_glass_grants')
    .values({
      admin_id: w.people.admin.userId,
      patient_id: w.patientA,
      organization_id: w.orgA,
      reason: 'Matrix: emergency access to the record',
      expires_at: new Date(Date.now() + 30 * 60_000),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

async function newMemberOfA(w: World): Promise<string> {
  const { userId } = await createUser(w.db, { roles: ['clinician'] });
  await w.db
    .insertInto('organization_members')
    .values({ organization_id: w.orgA, user_id: userId, role: 'clinician' })
    .execute();
  return userId;
}

/** A throwaway active study of the researcher in A, for cells that change a study. */
const freshStudy = (w: World): Promise<ReviewsWorld> =>
  newActiveStudy(w.db, w.orgA, {
    researcher: w.people.researcher,
    participant: w.people.participant,
  });

async function emailOf(w: World, userId: string): Promise<string> {
  const row = await w.db
    .selectFrom('users')
    .select('email')
    .where('id', '=', userId)
    .executeTakeFirstOrThrow();
  return row.email;
}

const newUser = async (
  w: World,
  roles: Role[],
  status: 'active' | 'invited' | 'disabled' = 'active',
): Promise<string> => (await createUser(w.db, { roles, status })).userId;

/** An OAuth machine client (A12) holding audit:read, straight into its table; its secret. */
async function newOAuthClient(w: World): Promise<Prepared> {
  const clientId = randomUUID().replace(/-/g, '');
  const clientSecret = randomUUID() + randomUUID();
  await w.db
    .insertInto('oauth_clients')
    .values({
      client_id: clientId,
      name: 'Matrix client',
      scopes: ['audit:read'],
      secret_sha256: createHash('sha256').update(clientSecret).digest('hex'),
      created_by: w.people.admin.userId,
    })
    .execute();
  return { clientId, clientSecret };
}

const APP_REDIRECT_URI = 'https://companion.example/callback';

/** A third-party app (authorization code + PKCE) written straight to the table. */
async function newOAuthApp(w: World): Promise<Prepared> {
  const clientId = randomUUID().replace(/-/g, '');
  await w.db
    .insertInto('oauth_clients')
    .values({
      client_id: clientId,
      name: 'Matrix app',
      scopes: ['portal:read'],
      kind: 'app',
      redirect_uris: [APP_REDIRECT_URI],
      secret_sha256: createHash('sha256').update(randomUUID()).digest('hex'),
      created_by: w.people.admin.userId,
    })
    .execute();
  return { clientId };
}

/** A third-party app owned by organization A, which A's administrators manage (A12). */
async function newOrganizationAApp(w: World): Promise<Prepared> {
  const { clientId } = await newOAuthApp(w);
  await w.db
    .updateTable('oauth_clients')
    .set({ owner_organization_id: w.orgA })
    .where('client_id', '=', clientId ?? '')
    .execute();
  return { clientId: clientId ?? '' };
}

/** The query of a valid authorization request by the app (S256 challenge of a fixed verifier). */
const authorizationQuery = (clientId: string): string =>
  new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: APP_REDIRECT_URI,
    scope: 'portal:read',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    state: 'matrix',
  }).toString();

/** A fresh authorization request waiting on the consent page: its interaction uid. */
async function newInteraction(w: World): Promise<Prepared> {
  const { clientId = '' } = await newOAuthApp(w);
  const started = await w.app.inject({
    method: 'GET',
    url: `/oauth/authorize?${authorizationQuery(clientId)}`,
  });
  const uid = /^\/connect\/([A-Za-z0-9_-]+)$/.exec(String(started.headers.location))?.[1];
  if (!uid) throw new Error(`no interaction started: ${started.statusCode} ${started.body}`);
  return { clientId, uid };
}

/** A grant of the app to the patient of record A (patientSelf), as the provider stores one. */
/**
 * An org admin's invitation to A addressed to patientSelf (A11): only patientSelf sees it, and
 * cannot accept it (a patient account is not staff). Upserted, as every actor's cell prepares it.
 */
async function newInvitationOfPatientSelf(w: World): Promise<Prepared> {
  const expires = new Date(Date.now() + 3_600_000);
  const row = await w.db
    .insertInto('organization_invitations')
    .values({
      organization_id: w.orgA,
      user_id: w.people.patientSelf.userId,
      email: w.people.patientSelf.email,
      display_name: 'Invited patient',
      role: 'clinician',
      invited_by: w.people.orgAdmin.userId,
      expires_at: expires,
    })
    .onConflict((oc) =>
      oc.columns(['organization_id', 'user_id']).doUpdateSet({ expires_at: expires }),
    )
    .returning('id')
    .executeTakeFirstOrThrow();
  return { invitationId: row.id };
}

/**
 * The researcher's fresh study in A with the participant invited to it (A11): only the
 * participant sees the invitation, and may accept or decline it.
 */
async function newStudyInvitationOfParticipant(w: World): Promise<Prepared> {
  const studyId = await insertStudy(w.db, w.orgA, w.people.researcher.userId);
  await inviteToStudy(w.db, studyId, w.people.participant.userId);
  return { studyId };
}

/**
 * A clinician's invitation to see a fresh record of A, addressed to patientSelf (A11): only
 * patientSelf sees it, and cannot accept it (their account already shows patient PA).
 */
async function newPortalInvitationOfPatientSelf(w: World): Promise<Prepared> {
  const patientId = await newPatient(w, w.orgA);
  const row = await w.db
    .insertInto('portal_invitations')
    .values({
      organization_id: w.orgA,
      patient_id: patientId,
      user_id: w.people.patientSelf.userId,
      invited_by: w.people.clinician.userId,
      account_was_active: true,
      expires_at: new Date(Date.now() + 3_600_000),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { invitationId: row.id };
}

async function newGrantOfPatientSelf(w: World): Promise<Prepared> {
  const { clientId = '' } = await newOAuthApp(w);
  const grantId = randomUUID().replace(/-/g, '');
  const now = Math.floor(Date.now() / 1000);
  await w.db
    .insertInto('oauth_payloads')
    .values({
      model: 'Grant',
      id: grantId,
      payload: JSON.stringify({
        jti: grantId,
        kind: 'Grant',
        accountId: w.people.patientSelf.userId,
        clientId,
        iat: now,
        exp: now + 3600,
        resources: { [`${w.origin}/api`]: 'portal:read' },
      }),
      account_id: w.people.patientSelf.userId,
      grant_id: null,
      user_code: null,
      uid: null,
      expires_at: new Date((now + 3600) * 1000),
    })
    .execute();
  return { grantId };
}

/** A form-encoded OAuth request authenticated with client_secret_post (the caller's bearer aside). */
const oauthForm = (url: string, fields: Record<string, string>): RequestSpec => ({
  method: 'POST',
  url,
  payload: new URLSearchParams(fields).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
});

/** A 256-bit link token that was never issued. */
const unknownLinkToken = (): string =>
  Buffer.from(randomUUID() + randomUUID())
    .toString('base64url')
    .slice(0, 43);

const STRONG_PASSWORD = 'quartz-Meadow-7-lantern-Orbit';

/** Credential-issuing public routes must come from our own pages (login CSRF). */
const fromOurPages = (w: World) => ({ origin: w.origin });

const post = (url: string, payload: unknown = {}, headers?: Record<string, string>) =>
  ({ method: 'POST', url, payload, ...(headers ? { headers } : {}) }) as const;

function parsed(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// The table

/** The CORS preflight of an OAuth endpoint from the origin of a public browser app's redirect URI. */
function publicAppPreflight(url: string): MatrixEntry {
  return {
    prepare: async (w) => {
      const clientId = randomUUID().replace(/-/g, '');
      await w.db
        .insertInto('oauth_clients')
        .values({
          client_id: clientId,
          name: 'Matrix browser app',
          scopes: ['portal:read'],
          kind: 'app',
          public_client: true,
          redirect_uris: ['https://matrix-spa.example/callback'],
          secret_sha256: null,
          created_by: w.people.admin.userId,
        })
        .execute();
      return { clientId };
    },
    request: () => ({
      method: 'OPTIONS',
      url,
      headers: {
        origin: 'https://matrix-spa.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    }),
    expect: everyone(204),
  };
}

export const MATRIX: Readonly<Record<string, MatrixEntry>> = {
  // --- platform --------------------------------------------------------------------------------
  'OPTIONS /*': {
    request: (w) => ({
      method: 'OPTIONS',
      url: '/api/auth/me',
      headers: { origin: w.corsOrigin, 'access-control-request-method': 'GET' },
    }),
    expect: everyone(204),
  },
  'GET /healthz': { request: () => ({ method: 'GET', url: '/healthz' }), expect: everyone(200) },
  'GET /readyz': { request: () => ({ method: 'GET', url: '/readyz' }), expect: everyone(200) },
  'GET /.well-known/jwks.json': {
    request: () => ({ method: 'GET', url: '/.well-known/jwks.json' }),
    expect: everyone(200),
  },
  'GET /*': {
    request: () => ({ method: 'GET', url: '/patients/search' }),
    expect: everyone(200),
  },
  // The API document and its UI: public outside production; the production rule (admins only)
  // is in openapi.security.test.ts.
  'GET /api/docs': { request: () => ({ method: 'GET', url: '/api/docs' }), expect: everyone(200) },
  'GET /api/docs/openapi.json': {
    request: () => ({ method: 'GET', url: '/api/docs/openapi.json' }),
    expect: everyone(200),
  },
  'GET /api/docs/ui/:file': {
    request: () => ({ method: 'GET', url: '/api/docs/ui/start.js' }),
    expect: everyone(200),
  },

  // --- sign-in and sessions ----------------------------------------------------------------------
  'POST /api/auth/session': {
    request: (w) =>
      post(
        '/api/auth/session',
        { email: uniqueEmail('nobody'), password: 'not-the-password' },
        fromOurPages(w),
      ),
    expect: everyone({ status: 401, code: 'INVALID_CREDENTIALS' }),
  },
  'POST /api/auth/mfa': {
    request: (w) => post('/api/auth/mfa', { code: '123456' }, fromOurPages(w)),
    expect: everyone({ status: 401, code: 'MFA_PENDING_EXPIRED' }),
  },
  'POST /api/auth/refresh': {
    request: (w) => post('/api/auth/refresh', {}, fromOurPages(w)),
    expect: everyone({ status: 401, code: 'SESSION_EXPIRED' }),
  },
  'DELETE /api/auth/session': {
    request: () => ({ method: 'DELETE', url: '/api/auth/session' }),
    expect: signedIn(200),
  },
  'GET /api/auth/me': {
    request: () => ({ method: 'GET', url: '/api/auth/me' }),
    expect: signedIn(200),
  },
  'GET /api/account/sessions': {
    request: () => ({ method: 'GET', url: '/api/account/sessions' }),
    expect: signedIn(200),
  },
  'DELETE /api/account/sessions/:id': {
    // The target is a throwaway session of the clinician: only its owner may end it.
    prepare: async (w) => ({
      sessionId: (await mintSession(w.app, w.people.clinician)).sessionId,
    }),
    request: (_w, _a, p) => ({ method: 'DELETE', url: `/api/account/sessions/${p.sessionId}` }),
    expect: signedIn(NOT_FOUND, { clinician: 200 }),
  },
  'DELETE /api/account/sessions': {
    request: () => ({ method: 'DELETE', url: '/api/account/sessions' }),
    expect: signedIn(200),
  },

  // --- onboarding ------------------------------------------------------------------------------
  'POST /api/onboarding/setup': {
    request: (w) =>
      post(
        '/api/onboarding/setup',
        {
          token: unknownLinkToken(),
          email: uniqueEmail('setup'),
          displayName: 'Setup',
          password: STRONG_PASSWORD,
        },
        fromOurPages(w),
      ),
    expect: everyone(NOT_FOUND),
  },
  'POST /api/onboarding/invitations/inspect': {
    request: (w) =>
      post('/api/onboarding/invitations/inspect', { token: unknownLinkToken() }, fromOurPages(w)),
    expect: everyone(NOT_FOUND),
  },
  'POST /api/onboarding/invitations/accept': {
    request: (w) =>
      post(
        '/api/onboarding/invitations/accept',
        { token: unknownLinkToken(), displayName: 'Invitee', password: STRONG_PASSWORD },
        fromOurPages(w),
      ),
    expect: everyone(NOT_FOUND),
  },
  'POST /api/onboarding/signup': {
    request: (w) =>
      post(
        '/api/onboarding/signup',
        { email: uniqueEmail('signup'), displayName: 'Self Signup', password: STRONG_PASSWORD },
        fromOurPages(w),
      ),
    expect: everyone(202),
  },
  'POST /api/onboarding/signup/verify': {
    request: (w) =>
      post('/api/onboarding/signup/verify', { token: unknownLinkToken() }, fromOurPages(w)),
    expect: everyone(NOT_FOUND),
  },

  // --- MFA ---------------------------------------------------------------------------------------
  'POST /api/auth/mfa/enrollment': {
    request: (w) => post('/api/auth/mfa/enrollment', {}, fromOurPages(w)),
    expect: everyone({ status: 401, code: 'MFA_PENDING_EXPIRED' }),
  },
  'POST /api/auth/mfa/enrollment/confirm': {
    request: (w) => post('/api/auth/mfa/enrollment/confirm', { code: '123456' }, fromOurPages(w)),
    expect: everyone({ status: 401, code: 'MFA_PENDING_EXPIRED' }),
  },
  'POST /api/account/mfa/enrollment': {
    caller: 'twin',
    request: () => post('/api/account/mfa/enrollment'),
    expect: signedIn(200, byMfaRole(CONFLICT, 200)),
  },
  'POST /api/account/mfa/enrollment/confirm': {
    caller: 'twin',
    request: () => post('/api/account/mfa/enrollment/confirm', { code: '123456' }),
    expect: signedIn(200, byMfaRole(CONFLICT, { status: 401, code: 'MFA_INVALID' })),
  },
  'POST /api/auth/step-up': {
    // Test users have no TOTP seed: everyone with the scope reaches the handler's 409.
    caller: 'twin',
    request: () => post('/api/auth/step-up', { code: '123456' }),
    expect: signedIn(CONFLICT),
  },
  'GET /api/account/mfa': {
    request: () => ({ method: 'GET', url: '/api/account/mfa' }),
    expect: signedIn(200),
  },
  'POST /api/account/mfa/recovery-codes': {
    caller: 'twin',
    request: () => post('/api/account/mfa/recovery-codes'),
    expect: signedIn(200, byMfaRole(200, CONFLICT)),
  },
  'DELETE /api/account/mfa': {
    caller: 'twin',
    request: () => ({ method: 'DELETE', url: '/api/account/mfa' }),
    expect: signedIn(200, byMfaRole(CONFLICT, 200)),
  },

  // --- own account -------------------------------------------------------------------------------
  'PATCH /api/account/profile': {
    caller: 'twin',
    request: () => ({
      method: 'PATCH',
      url: '/api/account/profile',
      payload: { displayName: 'Renamed' },
    }),
    expect: signedIn(200),
  },
  'POST /api/account/email': {
    caller: 'twin',
    request: () => post('/api/account/email', { newEmail: uniqueEmail('moved') }),
    expect: signedIn(202),
  },
  'POST /api/account/email/confirm': {
    caller: 'twin',
    request: () => post('/api/account/email/confirm', { token: unknownLinkToken() }),
    expect: signedIn(NOT_FOUND),
  },
  'POST /api/account/password': {
    // Test users have no password, so the current one is always wrong.
    caller: 'twin',
    request: () =>
      post('/api/account/password', {
        currentPassword: 'not-the-password',
        newPassword: STRONG_PASSWORD,
      }),
    expect: signedIn({ status: 401, code: 'INVALID_CREDENTIALS' }),
  },
  'POST /api/auth/password-reset': {
    request: (w) =>
      post('/api/auth/password-reset', { email: uniqueEmail('reset') }, fromOurPages(w)),
    expect: everyone(202),
  },
  'POST /api/auth/password-reset/complete': {
    request: (w) =>
      post(
        '/api/auth/password-reset/complete',
        { token: unknownLinkToken(), newPassword: STRONG_PASSWORD },
        fromOurPages(w),
      ),
    expect: everyone(NOT_FOUND),
  },

  // --- user administration -----------------------------------------------------------------------
  'GET /api/admin/users': {
    request: () => ({ method: 'GET', url: '/api/admin/users' }),
    expect: adminOnly(200),
  },
  'GET /api/admin/users/:id/sessions': {
    request: (w) => ({
      method: 'GET',
      url: `/api/admin/users/${w.people.clinician.userId}/sessions`,
    }),
    expect: adminOnly(200),
  },
  'POST /api/admin/invitations': {
    request: () =>
      post('/api/admin/invitations', { email: uniqueEmail('invitee'), role: 'clinician' }),
    expect: adminOnly(201),
  },
  'POST /api/admin/users/:id/invitation': {
    prepare: async (w) => ({ userId: await newUser(w, ['clinician'], 'invited') }),
    request: (_w, _a, p) => post(`/api/admin/users/${p.userId}/invitation`),
    expect: adminOnly(200),
  },
  'PUT /api/admin/users/:id/roles': {
    prepare: async (w) => ({ userId: await newUser(w, ['patient']) }),
    request: (_w, _a, p) => ({
      method: 'PUT',
      url: `/api/admin/users/${p.userId}/roles`,
      payload: { roles: ['participant'] },
    }),
    expect: adminOnly(200),
  },
  'POST /api/admin/users/:id/disable': {
    prepare: async (w) => ({ userId: await newUser(w, ['participant']) }),
    request: (_w, _a, p) => post(`/api/admin/users/${p.userId}/disable`),
    expect: adminOnly(200),
  },
  'POST /api/admin/users/:id/enable': {
    prepare: async (w) => ({ userId: await newUser(w, ['participant'], 'disabled') }),
    request: (_w, _a, p) => post(`/api/admin/users/${p.userId}/enable`),
    expect: adminOnly(200),
  },
  'DELETE /api/admin/users/:id/sessions': {
    prepare: async (w) => ({ userId: await newUser(w, ['participant']) }),
    request: (_w, _a, p) => ({ method: 'DELETE', url: `/api/admin/users/${p.userId}/sessions` }),
    expect: adminOnly(200),
  },

  // --- organizations and the active organization -------------------------------------------------
  'GET /api/organizations': {
    request: () => ({ method: 'GET', url: '/api/organizations' }),
    expect: holders({ orgAdmin: 200, clinician: 200, otherClinician: 200 }),
    check: (w, actor, response) =>
      actor === 'otherClinician' && response.body.includes(w.orgA)
        ? 'a member of B sees organization A in its list'
        : undefined,
  },
  'PUT /api/organizations/active': {
    request: (w) => ({
      method: 'PUT',
      url: '/api/organizations/active',
      payload: { organizationId: w.orgA },
    }),
    expect: organizationA(200),
  },
  'POST /api/admin/organizations': {
    request: () => post('/api/admin/organizations', { name: `Matrix clinic ${randomUUID()}` }),
    expect: adminOnly(201),
  },
  'GET /api/admin/organizations': {
    request: () => ({ method: 'GET', url: '/api/admin/organizations' }),
    expect: adminOnly(200),
  },
  'PATCH /api/admin/organizations/:organizationId': {
    request: (w) => ({
      method: 'PATCH',
      url: `/api/admin/organizations/${w.orgA}`,
      payload: { country: 'US' },
    }),
    expect: adminOnly(200),
  },
  'POST /api/admin/organizations/:organizationId/members': {
    request: (w) =>
      post(`/api/admin/organizations/${w.orgA}/members`, {
        email: uniqueEmail('added'),
        role: 'clinician',
      }),
    expect: adminOnly(201),
  },

  // --- members (organization administrators) -----------------------------------------------------
  'GET /api/organizations/:organizationId/members': {
    request: (w) => ({ method: 'GET', url: `/api/organizations/${w.orgA}/members` }),
    expect: organizationA(200),
  },
  'POST /api/organizations/:organizationId/members': {
    request: (w) =>
      post(`/api/organizations/${w.orgA}/members`, {
        email: uniqueEmail('member'),
        role: 'clinician',
      }),
    expect: organizationA(FORBIDDEN, NOT_FOUND, 201),
  },
  'PUT /api/organizations/:organizationId/members/:userId': {
    prepare: async (w) => ({ userId: await newMemberOfA(w) }),
    request: (w, _a, p) => ({
      method: 'PUT',
      url: `/api/organizations/${w.orgA}/members/${p.userId}`,
      payload: { role: 'org_admin' },
    }),
    expect: organizationA(FORBIDDEN, NOT_FOUND, 200),
  },
  'DELETE /api/organizations/:organizationId/members/:userId': {
    prepare: async (w) => ({ userId: await newMemberOfA(w) }),
    request: (w, _a, p) => ({
      method: 'DELETE',
      url: `/api/organizations/${w.orgA}/members/${p.userId}`,
    }),
    expect: organizationA(FORBIDDEN, NOT_FOUND, 204),
  },

  // --- patients ----------------------------------------------------------------------------------
  'POST /api/patients/search': {
    request: (w) => post('/api/patients/search', { mrn: w.patientAMrn }),
    expect: organizationA(200, 200),
    check: (w, actor, response) =>
      actor === 'otherClinician' && response.body.includes(w.patientA)
        ? 'a member of B finds patient PA of A'
        : undefined,
  },
  'GET /api/patients/recent': {
    request: () => ({ method: 'GET', url: '/api/patients/recent' }),
    // Each member gets their own views in their active organization; B's clinician never PA.
    expect: organizationA(200, 200),
    check: (w, actor, response) =>
      actor === 'otherClinician' && response.body.includes(w.patientA)
        ? 'a member of B sees patient PA of A among recent patients'
        : undefined,
  },
  'POST /api/patients': {
    request: () =>
      post('/api/patients', {
        mrn: `M-${randomUUID().slice(0, 8)}`,
        givenName: 'Ada',
        familyName: 'Matrix',
        birthDate: '1975-06-15',
        sex: 'female',
      }),
    // B's clinician creates the patient in B (its active organization).
    expect: organizationA(201, 201),
  },
  'GET /api/patients/:patientId': {
    request: (w) => ({ method: 'GET', url: `/api/patients/${w.patientA}` }),
    expect: organizationA(200),
  },
  'PATCH /api/patients/:patientId': {
    request: (w) => ({
      method: 'PATCH',
      url: `/api/patients/${w.patientA}`,
      payload: { familyName: 'Example' },
    }),
    expect: organizationA(200),
  },
  'POST /api/patients/:patientId/archive': {
    prepare: async (w) => ({ patientId: await newPatient(w, w.orgA) }),
    request: (_w, _a, p) => post(`/api/patients/${p.patientId}/archive`),
    expect: organizationA(200),
  },
  'POST /api/patients/:patientId/restore': {
    prepare: async (w) => ({ patientId: await newPatient(w, w.orgA, true) }),
    request: (_w, _a, p) => post(`/api/patients/${p.patientId}/restore`),
    expect: organizationA(200),
  },
  'POST /api/patients/:patientId/portal-invitation': {
    prepare: async (w) => ({ patientId: await newPatient(w, w.orgA) }),
    request: (_w, _a, p) =>
      post(`/api/patients/${p.patientId}/portal-invitation`, { email: uniqueEmail('portal') }),
    expect: organizationA(201),
  },

  // --- consents ----------------------------------------------------------------------------------
  'GET /api/consent-documents': {
    request: () => ({ method: 'GET', url: '/api/consent-documents' }),
    expect: organizationA(200, 200),
    check: (w, actor, response) =>
      actor === 'otherClinician' && response.body.includes(w.documentA)
        ? "a member of B sees A's consent document"
        : undefined,
  },
  'POST /api/consent-documents': {
    request: () =>
      post('/api/consent-documents', {
        kind: 'research',
        title: 'Matrix research consent',
        body: 'You may withdraw at any time.',
        required: false,
      }),
    // Publishing is for org admins of the active organization: B's clinician is a plain member.
    expect: organizationA(FORBIDDEN, FORBIDDEN, 201),
  },
  'GET /api/patients/:patientId/consents': {
    request: (w) => ({ method: 'GET', url: `/api/patients/${w.patientA}/consents` }),
    expect: organizationA(200),
  },
  'POST /api/patients/:patientId/consents': {
    prepare: async (w) => ({ documentId: await newDocument(w, w.orgA, 'treatment') }),
    request: (w, _a, p) =>
      post(`/api/patients/${w.patientA}/consents`, {
        documentId: p.documentId,
        channel: 'in_person',
      }),
    expect: organizationA(201),
  },
  'POST /api/patients/:patientId/consents/:consentId/withdraw': {
    prepare: async (w) => ({
      consentId: await newConsent(w, w.patientA, await newDocument(w, w.orgA, 'hipaa_notice')),
    }),
    request: (w, _a, p) => post(`/api/patients/${w.patientA}/consents/${p.consentId}/withdraw`),
    expect: organizationA(200),
  },

  // --- clinical notes ----------------------------------------------------------------------------
  'GET /api/patients/:patientId/notes': {
    request: (w) => ({ method: 'GET', url: `/api/patients/${w.patientA}/notes` }),
    expect: organizationA(200),
  },
  'GET /api/patients/:patientId/notes/:noteId': {
    request: (w) => ({ method: 'GET', url: `/api/patients/${w.patientA}/notes/${w.noteA}` }),
    expect: organizationA(200),
  },
  'POST /api/patients/:patientId/notes': {
    request: (w) =>
      post(`/api/patients/${w.patientA}/notes`, { body: 'Seen today.', shareable: true }),
    expect: organizationA(201),
  },
  'POST /api/patients/:patientId/notes/:noteId/versions': {
    request: (w) =>
      post(`/api/patients/${w.patientA}/notes/${w.noteA}/versions`, {
        body: 'Seen today; corrected.',
        shareable: true,
        reason: 'Typo in the first version',
      }),
    expect: organizationA(201),
  },

  // --- patient portal ----------------------------------------------------------------------------
  'GET /api/portal/record': {
    request: () => ({ method: 'GET', url: '/api/portal/record' }),
    expect: portal(200),
    check: (w, actor, response) => {
      const record = parsed(response.body) as { record?: { patient?: { id?: string } } };
      const seen = record?.record?.patient?.id;
      if (actor === 'patientSelf' && seen !== w.patientA) return 'patientSelf does not get PA';
      if (actor === 'otherPatient' && seen !== w.patientB) return 'otherPatient does not get PB';
      return undefined;
    },
  },
  'GET /api/portal/consents': {
    request: () => ({ method: 'GET', url: '/api/portal/consents' }),
    expect: portal(200),
    check: (w, actor, response) =>
      actor === 'otherPatient' && response.body.includes(w.documentA)
        ? "the patient of B sees A's consent document"
        : undefined,
  },
  'POST /api/portal/consents': {
    // A's current document: PA's own patient may consent; B's patient cannot see it.
    prepare: async (w) => ({ documentId: await newDocument(w, w.orgA, 'research') }),
    request: (_w, _a, p) => post('/api/portal/consents', { documentId: p.documentId }),
    expect: portal(201, NOT_FOUND),
  },
  'POST /api/portal/consents/:consentId/withdraw': {
    prepare: async (w) => ({
      consentId: await newConsent(w, w.patientA, await newDocument(w, w.orgA, 'terms')),
    }),
    request: (_w, _a, p) => post(`/api/portal/consents/${p.consentId}/withdraw`),
    expect: portal(200, NOT_FOUND),
  },
  'GET /api/portal/notes': {
    request: () => ({ method: 'GET', url: '/api/portal/notes' }),
    expect: portal(200),
    check: (w, actor, response) =>
      actor === 'otherPatient' && response.body.includes(w.noteA)
        ? "the patient of B sees PA's note"
        : undefined,
  },
  'GET /api/portal/access-log': {
    request: () => ({ method: 'GET', url: '/api/portal/access-log' }),
    expect: portal(200),
  },
  'GET /api/account/export': {
    request: () => ({ method: 'GET', url: '/api/account/export' }),
    expect: signedIn(200),
    check: (w, actor, response) =>
      actor !== 'patientSelf' && response.body.includes(w.patientA)
        ? `${actor}'s export contains patient PA`
        : undefined,
  },

  // --- break-glass (Z5) --------------------------------------------------------------------------
  'POST /api/break-glass/patients/search': {
    request: (w) => post('/api/break-glass/patients/search', { query: w.patientAMrn }),
    expect: adminOnly(200),
  },
  'POST /api/break-glass/grants': {
    request: (w) =>
      post('/api/break-glass/grants', {
        patientId: w.patientA,
        reason: 'Patient unconscious in the emergency department',
      }),
    expect: adminOnly(201),
  },
  'GET /api/break-glass/grants/:grantId/record': {
    prepare: async (w) => ({ grantId: await newGrant(w) }),
    request: (_w, _a, p) => ({ method: 'GET', url: `/api/break-glass/grants/${p.grantId}/record` }),
    expect: adminOnly(200),
  },
  'GET /api/admin/break-glass/grants': {
    request: () => ({ method: 'GET', url: '/api/admin/break-glass/grants' }),
    expect: adminOnly(200),
  },
  'POST /api/admin/break-glass/grants/:grantId/revoke': {
    prepare: async (w) => ({ grantId: await newGrant(w) }),
    request: (_w, _a, p) => post(`/api/admin/break-glass/grants/${p.grantId}/revoke`),
    expect: adminOnly(200),
  },

  // --- audit log ---------------------------------------------------------------------------------
  'GET /api/admin/audit-events': {
    request: () => ({ method: 'GET', url: '/api/admin/audit-events' }),
    expect: adminOnly(200),
  },
  'GET /api/admin/audit-events/actions': {
    request: () => ({ method: 'GET', url: '/api/admin/audit-events/actions' }),
    expect: adminOnly(200),
  },
  'GET /api/admin/audit-events/security': {
    request: () => ({ method: 'GET', url: '/api/admin/audit-events/security' }),
    expect: adminOnly(200),
  },
  'GET /api/admin/audit-events/export.csv': {
    request: () => ({ method: 'GET', url: '/api/admin/audit-events/export.csv?action=auth' }),
    expect: adminOnly(200),
  },
  'POST /api/admin/audit-log/verify': {
    request: () => post('/api/admin/audit-log/verify'),
    expect: adminOnly(200),
  },

  // --- research case reviews (issue 10) -------------------------------------------------------------
  'GET /api/studies': {
    request: () => ({ method: 'GET', url: '/api/studies' }),
    expect: researchers(200),
  },
  'POST /api/studies': {
    request: (w) => post('/api/studies', { organizationId: w.orgA, title: 'Matrix study' }),
    expect: researchers(201),
  },
  'GET /api/studies/:studyId': {
    request: (w) => ({ method: 'GET', url: `/api/studies/${w.reviews.studyId}` }),
    expect: researchers(200),
  },
  'PATCH /api/studies/:studyId': {
    request: (w) => ({
      method: 'PATCH',
      url: `/api/studies/${w.reviews.studyId}`,
      payload: { description: 'Updated by the matrix.' },
    }),
    expect: researchers(200),
  },
  'POST /api/studies/:studyId/status': {
    prepare: async (w) => ({ studyId: (await freshStudy(w)).studyId }),
    request: (_w, _a, p) => post(`/api/studies/${p.studyId}/status`, { status: 'closed' }),
    expect: researchers(200),
  },
  'GET /api/studies/:studyId/members': {
    request: (w) => ({ method: 'GET', url: `/api/studies/${w.reviews.studyId}/members` }),
    expect: researchers(200),
  },
  'POST /api/studies/:studyId/researchers': {
    prepare: async (w) => {
      const userId = await newUser(w, ['researcher']);
      await w.db
        .insertInto('organization_members')
        .values({ organization_id: w.orgA, user_id: userId, role: 'researcher' })
        .execute();
      const email = await emailOf(w, userId);
      return { studyId: (await freshStudy(w)).studyId, email };
    },
    request: (_w, _a, p) => post(`/api/studies/${p.studyId}/researchers`, { email: p.email }),
    expect: researchers(201),
  },
  'POST /api/studies/:studyId/participants': {
    request: (w) =>
      post(`/api/studies/${w.reviews.studyId}/participants`, {
        email: uniqueEmail('matrix-participant'),
        displayName: 'Matrix Participant',
      }),
    expect: researchers(201),
  },
  'DELETE /api/studies/:studyId/members/:userId': {
    prepare: async (w) => {
      const userId = await newParticipantAccount(w.db);
      await addStudyMember(w.db, w.reviews.studyId, userId, 'participant');
      return { userId };
    },
    request: (w, _a, p) => ({
      method: 'DELETE',
      url: `/api/studies/${w.reviews.studyId}/members/${p.userId}`,
    }),
    expect: researchers(204),
  },
  'POST /api/studies/:studyId/cases': {
    request: (w) =>
      post(`/api/studies/${w.reviews.studyId}/cases`, CASE_BODY(`json-${randomUUID()}`)),
    expect: researchers(201),
  },
  'POST /api/studies/:studyId/cases/import': {
    request: (w) => ({
      method: 'POST',
      url: `/api/studies/${w.reviews.studyId}/cases/import`,
      payload: CASE_CSV(`csv-${randomUUID()}`),
      headers: { 'content-type': 'text/csv' },
    }),
    expect: researchers(201),
  },
  'GET /api/studies/:studyId/cases': {
    request: (w) => ({ method: 'GET', url: `/api/studies/${w.reviews.studyId}/cases` }),
    expect: researchers(200),
  },
  'GET /api/studies/:studyId/cases/:caseId': {
    request: (w) => ({
      method: 'GET',
      url: `/api/studies/${w.reviews.studyId}/cases/${w.reviews.caseId}`,
    }),
    expect: researchers(200),
  },
  'GET /api/studies/:studyId/questionnaires': {
    request: (w) => ({ method: 'GET', url: `/api/studies/${w.reviews.studyId}/questionnaires` }),
    expect: researchers(200),
  },
  'POST /api/studies/:studyId/questionnaires': {
    prepare: async (w) => ({ studyId: (await freshStudy(w)).studyId }),
    request: (_w, _a, p) =>
      post(`/api/studies/${p.studyId}/questionnaires`, {
        title: 'Matrix questionnaire',
        questions: [{ id: 'impression', type: 'text', prompt: 'Impression?', required: true }],
      }),
    expect: researchers(201),
  },
  'GET /api/studies/:studyId/questionnaires/:versionId': {
    request: (w) => ({
      method: 'GET',
      url: `/api/studies/${w.reviews.studyId}/questionnaires/${w.reviews.questionnaireId}`,
    }),
    expect: researchers(200),
  },
  'PUT /api/studies/:studyId/questionnaires/:versionId': {
    prepare: async (w) => {
      const { studyId } = await freshStudy(w);
      return { studyId, versionId: await insertDraftQuestionnaire(w.db, studyId) };
    },
    request: (_w, _a, p) => ({
      method: 'PUT',
      url: `/api/studies/${p.studyId}/questionnaires/${p.versionId}`,
      payload: {
        title: 'Matrix questionnaire, edited',
        questions: [{ id: 'impression', type: 'paragraph', prompt: 'Impression?', required: true }],
      },
    }),
    expect: researchers(200),
  },
  'POST /api/studies/:studyId/questionnaires/:versionId/publish': {
    prepare: async (w) => {
      const { studyId } = await freshStudy(w);
      return { studyId, versionId: await insertDraftQuestionnaire(w.db, studyId) };
    },
    request: (_w, _a, p) =>
      post(`/api/studies/${p.studyId}/questionnaires/${p.versionId}/publish`, {}),
    expect: researchers(200),
  },
  'GET /api/studies/:studyId/experiments': {
    request: (w) => ({ method: 'GET', url: `/api/studies/${w.reviews.studyId}/experiments` }),
    expect: researchers(200),
  },
  'POST /api/studies/:studyId/experiments': {
    request: (w) =>
      post(`/api/studies/${w.reviews.studyId}/experiments`, {
        name: `Matrix experiment ${randomUUID().slice(0, 8)}`,
        arms: [
          { name: 'Shown', display: { showAiScore: true, features: [] } },
          { name: 'Hidden', display: { showAiScore: false, features: [] } },
        ],
      }),
    expect: researchers(201),
  },
  'POST /api/studies/:studyId/experiments/:experimentId/arms': {
    request: (w) =>
      post(`/api/studies/${w.reviews.studyId}/experiments/${w.reviews.experimentId}/arms`, {
        name: `Arm ${randomUUID().slice(0, 8)}`,
        display: {
          showAiScore: true,
          features: [{ path: 'vitals/heart_rate', highlighted: true, top: 1 }],
        },
      }),
    expect: researchers(201),
  },
  'GET /api/studies/:studyId/assignments': {
    request: (w) => ({ method: 'GET', url: `/api/studies/${w.reviews.studyId}/assignments` }),
    expect: researchers(200),
  },
  'POST /api/studies/:studyId/assignments': {
    prepare: async (w) => ({
      caseId: await insertCase(w.db, w.reviews.studyId, `assign-${randomUUID()}`),
    }),
    request: (w, _a, p) =>
      post(`/api/studies/${w.reviews.studyId}/assignments`, {
        assignments: [{ participantId: w.people.participant.userId, caseId: p.caseId }],
      }),
    expect: researchers(201),
  },
  'POST /api/studies/:studyId/assignments/import': {
    prepare: async (w) => {
      const externalId = `sheet-${randomUUID()}`;
      await insertCase(w.db, w.reviews.studyId, externalId);
      return { externalId };
    },
    request: (w, _a, p) => ({
      method: 'POST',
      url: `/api/studies/${w.reviews.studyId}/assignments/import`,
      payload:
        'participant_email,case_id,path,collapse,highlight,top\r\n' +
        `${w.people.participant.email},${p.externalId},vitals/heart_rate,false,true,1\r\n`,
      headers: { 'content-type': 'text/csv' },
    }),
    expect: researchers(201),
  },
  'POST /api/studies/:studyId/randomizations': {
    prepare: async (w) => {
      const study = await freshStudy(w);
      // The participant already reviews the study's first case: the randomizer needs a new one.
      await insertCase(w.db, study.studyId, 'case-002');
      return { studyId: study.studyId, experimentId: study.experimentId };
    },
    request: (_w, _a, p) =>
      post(`/api/studies/${p.studyId}/randomizations`, {
        experimentId: p.experimentId,
        casesPerParticipant: 1,
        seed: 'matrix-seed',
      }),
    expect: researchers(201),
  },
  'GET /api/studies/:studyId/randomizations': {
    request: (w) => ({ method: 'GET', url: `/api/studies/${w.reviews.studyId}/randomizations` }),
    expect: researchers(200),
  },
  'GET /api/studies/:studyId/dashboard': {
    request: (w) => ({ method: 'GET', url: `/api/studies/${w.reviews.studyId}/dashboard` }),
    expect: researchers(200),
  },
  'GET /api/studies/:studyId/exports/:kind': {
    request: (w) => ({
      method: 'GET',
      url: `/api/studies/${w.reviews.studyId}/exports/answers?format=csv`,
    }),
    expect: researchers(200),
  },
  'GET /api/studies/:studyId/exports/archive': {
    request: (w) => ({ method: 'GET', url: `/api/studies/${w.reviews.studyId}/exports/archive` }),
    expect: researchers(200),
  },
  'GET /api/reviews/studies': {
    request: () => ({ method: 'GET', url: '/api/reviews/studies' }),
    expect: participants(200),
  },
  'GET /api/reviews/studies/:studyId/next': {
    request: (w) => ({ method: 'GET', url: `/api/reviews/studies/${w.reviews.studyId}/next` }),
    expect: participants(200),
  },
  'GET /api/reviews/assignments/:assignmentId': {
    request: (w) => ({ method: 'GET', url: `/api/reviews/assignments/${w.reviews.assignmentId}` }),
    expect: participants(200),
  },
  'POST /api/reviews/assignments/:assignmentId/events': {
    request: (w) =>
      post(`/api/reviews/assignments/${w.reviews.assignmentId}/events`, {
        type: 'case_opened',
        clientAt: new Date().toISOString(),
      }),
    expect: participants(204),
  },
  'POST /api/reviews/assignments/:assignmentId/answer': {
    prepare: async (w) => {
      const study = await freshStudy(w);
      return { assignmentId: study.assignmentId, versionId: study.questionnaireId };
    },
    request: (_w, _a, p) =>
      post(`/api/reviews/assignments/${p.assignmentId}/answer`, ANSWER_BODY(p.versionId ?? '')),
    expect: participants(201),
  },

  // --- OAuth for machine clients (issue 12, A12) ---------------------------------------------------
  // The protocol endpoints are public: the client authenticates in the form, whoever else's
  // bearer token rides along (it is ignored), so every caller gets the same answer.
  'GET /.well-known/openid-configuration': {
    request: () => ({ method: 'GET', url: '/.well-known/openid-configuration' }),
    expect: everyone(200),
  },
  'POST /oauth/token': {
    prepare: newOAuthClient,
    request: (_w, _a, p) =>
      oauthForm('/oauth/token', {
        grant_type: 'client_credentials',
        scope: 'audit:read',
        client_id: p.clientId ?? '',
        client_secret: p.clientSecret ?? '',
      }),
    expect: everyone(200),
  },
  'POST /oauth/token/introspection': {
    prepare: newOAuthClient,
    request: (_w, _a, p) =>
      oauthForm('/oauth/token/introspection', {
        token: 'not-a-token',
        client_id: p.clientId ?? '',
        client_secret: p.clientSecret ?? '',
      }),
    expect: everyone(200),
  },
  'POST /oauth/token/revocation': {
    prepare: newOAuthClient,
    request: (_w, _a, p) =>
      oauthForm('/oauth/token/revocation', {
        token: 'not-a-token',
        client_id: p.clientId ?? '',
        client_secret: p.clientSecret ?? '',
      }),
    expect: everyone(200),
  },
  'GET /api/admin/oauth-clients': {
    request: () => ({ method: 'GET', url: '/api/admin/oauth-clients' }),
    expect: adminOnly(200),
  },
  'POST /api/admin/oauth-clients': {
    request: () => post('/api/admin/oauth-clients', { name: 'Lab feed', scopes: ['audit:read'] }),
    expect: adminOnly(201),
  },
  'POST /api/admin/oauth-clients/:clientId/secret': {
    prepare: newOAuthClient,
    request: (_w, _a, p) => post(`/api/admin/oauth-clients/${p.clientId}/secret`),
    expect: adminOnly(200),
  },
  'PUT /api/admin/oauth-clients/:clientId/scopes': {
    prepare: newOAuthClient,
    request: (_w, _a, p) => ({
      method: 'PUT',
      url: `/api/admin/oauth-clients/${p.clientId}/scopes`,
      payload: { scopes: ['audit:read'] },
    }),
    expect: adminOnly(200),
  },
  'POST /api/admin/oauth-clients/:clientId/disable': {
    prepare: newOAuthClient,
    request: (_w, _a, p) => post(`/api/admin/oauth-clients/${p.clientId}/disable`),
    expect: adminOnly(200),
  },
  // An organization's own clients: its org_admin only (403 for its other members, 404 outside).
  'GET /api/organizations/:organizationId/oauth-clients': {
    request: (w) => ({ method: 'GET', url: `/api/organizations/${w.orgA}/oauth-clients` }),
    expect: organizationA(FORBIDDEN, NOT_FOUND, 200),
  },
  'POST /api/organizations/:organizationId/oauth-clients': {
    request: (w) =>
      post(`/api/organizations/${w.orgA}/oauth-clients`, {
        name: 'Companion app',
        kind: 'app',
        scopes: ['portal:read'],
        redirectUris: [APP_REDIRECT_URI],
      }),
    expect: organizationA(FORBIDDEN, NOT_FOUND, 201),
  },
  'POST /api/organizations/:organizationId/oauth-clients/:clientId/secret': {
    prepare: newOrganizationAApp,
    request: (w, _a, p) => post(`/api/organizations/${w.orgA}/oauth-clients/${p.clientId}/secret`),
    expect: organizationA(FORBIDDEN, NOT_FOUND, 200),
  },
  'PUT /api/organizations/:organizationId/oauth-clients/:clientId/scopes': {
    prepare: newOrganizationAApp,
    request: (w, _a, p) => ({
      method: 'PUT',
      url: `/api/organizations/${w.orgA}/oauth-clients/${p.clientId}/scopes`,
      payload: { scopes: ['portal:read'] },
    }),
    expect: organizationA(FORBIDDEN, NOT_FOUND, 200),
  },
  'POST /api/organizations/:organizationId/oauth-clients/:clientId/disable': {
    prepare: newOrganizationAApp,
    request: (w, _a, p) => post(`/api/organizations/${w.orgA}/oauth-clients/${p.clientId}/disable`),
    expect: organizationA(FORBIDDEN, NOT_FOUND, 200),
  },
  // The browser's side of the authorization code flow: public, the same for every caller (a
  // bearer token changes nothing); the person's side needs their own signed-in session.
  // A public browser app's origin may preflight a token request or a revocation; credentials
  // change nothing.
  'OPTIONS /oauth/token': publicAppPreflight('/oauth/token'),
  'OPTIONS /oauth/token/revocation': publicAppPreflight('/oauth/token/revocation'),
  'GET /oauth/authorize': {
    prepare: newOAuthApp,
    request: (_w, _a, p) => ({
      method: 'GET',
      url: `/oauth/authorize?${authorizationQuery(p.clientId ?? '')}`,
    }),
    expect: everyone(303),
  },
  'GET /oauth/authorize/:uid': {
    // The resume step without the starting browser's cookie: the provider's error page.
    prepare: newInteraction,
    request: (_w, _a, p) => ({ method: 'GET', url: `/oauth/authorize/${p.uid}` }),
    expect: everyone(400),
    errorsArePages: true,
  },
  'GET /api/oauth/interactions/:uid': {
    prepare: newInteraction,
    request: (_w, _a, p) => ({ method: 'GET', url: `/api/oauth/interactions/${p.uid}` }),
    expect: signedIn(200),
  },
  'POST /api/oauth/interactions/:uid/decision': {
    // Declining is open to every signed-in person; allowing needs the scope (oauth-apps tests).
    prepare: newInteraction,
    request: (_w, _a, p) => post(`/api/oauth/interactions/${p.uid}/decision`, { allow: false }),
    expect: signedIn(200),
  },
  'GET /api/account/connected-apps': {
    request: () => ({ method: 'GET', url: '/api/account/connected-apps' }),
    expect: signedIn(200),
  },
  'POST /api/account/connected-apps/:grantId/revoke': {
    // patientSelf's grant: only patientSelf can end it; to everyone else it does not exist.
    prepare: newGrantOfPatientSelf,
    request: (_w, _a, p) => post(`/api/account/connected-apps/${p.grantId}/revoke`),
    expect: signedIn(NOT_FOUND, { patientSelf: 200 }),
  },
  'GET /api/account/organization-invitations': {
    request: () => ({ method: 'GET', url: '/api/account/organization-invitations' }),
    expect: signedIn(200),
  },
  'POST /api/account/organization-invitations/:invitationId/accept': {
    // patientSelf's invitation: to everyone else it does not exist; patientSelf may not join.
    prepare: newInvitationOfPatientSelf,
    request: (_w, _a, p) => post(`/api/account/organization-invitations/${p.invitationId}/accept`),
    expect: signedIn(NOT_FOUND, { patientSelf: CONFLICT }),
  },
  'DELETE /api/account/organization-invitations/:invitationId': {
    prepare: newInvitationOfPatientSelf,
    request: (_w, _a, p) => ({
      method: 'DELETE',
      url: `/api/account/organization-invitations/${p.invitationId}`,
    }),
    expect: signedIn(NOT_FOUND, { patientSelf: 204 }),
  },
  'GET /api/account/portal-invitations': {
    request: () => ({ method: 'GET', url: '/api/account/portal-invitations' }),
    expect: signedIn(200),
  },
  'POST /api/account/portal-invitations/:invitationId/accept': {
    prepare: newPortalInvitationOfPatientSelf,
    request: (_w, _a, p) => post(`/api/account/portal-invitations/${p.invitationId}/accept`),
    expect: signedIn(NOT_FOUND, { patientSelf: CONFLICT }),
  },
  'DELETE /api/account/portal-invitations/:invitationId': {
    prepare: newPortalInvitationOfPatientSelf,
    request: (_w, _a, p) => ({
      method: 'DELETE',
      url: `/api/account/portal-invitations/${p.invitationId}`,
    }),
    expect: signedIn(NOT_FOUND, { patientSelf: 204 }),
  },
  'GET /api/account/study-invitations': {
    request: () => ({ method: 'GET', url: '/api/account/study-invitations' }),
    expect: signedIn(200),
  },
  'POST /api/account/study-invitations/:studyId/accept': {
    prepare: newStudyInvitationOfParticipant,
    request: (_w, _a, p) => post(`/api/account/study-invitations/${p.studyId}/accept`),
    expect: signedIn(NOT_FOUND, { participant: 200 }),
  },
  'DELETE /api/account/study-invitations/:studyId': {
    prepare: newStudyInvitationOfParticipant,
    request: (_w, _a, p) => ({
      method: 'DELETE',
      url: `/api/account/study-invitations/${p.studyId}`,
    }),
    expect: signedIn(NOT_FOUND, { participant: 204 }),
  },

  // --- medical files (issue 11): files-matrix.table.ts --------------------------------------------
  ...FILES_MATRIX,
};

// ---------------------------------------------------------------------------------------------
// Cross-object probes (Z4, Z5): ids mixed across tenants and owners, which one cell per route
// cannot express. A route that checks the patient but loads the note by its id alone passes
// the matrix and fails here.

export interface Probe {
  readonly name: string;
  readonly route: string;
  readonly actor: PersonName;
  readonly prepare?: (w: World) => Promise<Prepared>;
  readonly request: (w: World, prepared: Prepared) => RequestSpec;
  readonly expect: Expected;
}

async function grantOf(w: World, adminId: string, expiresInMs: number, revoked = false) {
  const row = await w.db
    .insertInto('break_glass_grants')
    .values({
      admin_id: adminId,
      patient_id: w.patientA,
      organization_id: w.orgA,
      reason: 'Matrix probe: emergency access',
      expires_at: new Date(Date.now() + expiresInMs),
      ...(revoked ? { revoked_at: new Date(), revoked_by: adminId } : {}),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export const PROBES: readonly Probe[] = [
  {
    name: "Z4: B's clinician reads A's note through B's own patient",
    route: 'GET /api/patients/:patientId/notes/:noteId',
    actor: 'otherClinician',
    request: (w) => ({ method: 'GET', url: `/api/patients/${w.patientB}/notes/${w.noteA}` }),
    expect: NOT_FOUND,
  },
  {
    name: "Z4: B's clinician corrects A's note through B's own patient",
    route: 'POST /api/patients/:patientId/notes/:noteId/versions',
    actor: 'otherClinician',
    request: (w) =>
      post(`/api/patients/${w.patientB}/notes/${w.noteA}/versions`, {
        body: 'Hijacked',
        shareable: true,
        reason: 'Cross-tenant write',
      }),
    expect: NOT_FOUND,
  },
  {
    name: "Z4: B's clinician records consent to A's document for B's patient",
    route: 'POST /api/patients/:patientId/consents',
    actor: 'otherClinician',
    prepare: async (w) => ({ documentId: await newDocument(w, w.orgA, 'treatment') }),
    request: (w, p) =>
      post(`/api/patients/${w.patientB}/consents`, { documentId: p.documentId, channel: 'paper' }),
    expect: NOT_FOUND,
  },
  {
    name: "Z4: B's clinician withdraws PA's consent through B's own patient",
    route: 'POST /api/patients/:patientId/consents/:consentId/withdraw',
    actor: 'otherClinician',
    prepare: async (w) => ({
      consentId: await newConsent(w, w.patientA, await newDocument(w, w.orgA, 'terms')),
    }),
    request: (w, p) => post(`/api/patients/${w.patientB}/consents/${p.consentId}/withdraw`),
    expect: NOT_FOUND,
  },
  {
    name: "Z4: A's clinician withdraws PA's consent under another patient of A",
    route: 'POST /api/patients/:patientId/consents/:consentId/withdraw',
    actor: 'clinician',
    prepare: async (w) => ({
      patientId: await newPatient(w, w.orgA),
      consentId: await newConsent(w, w.patientA, await newDocument(w, w.orgA, 'terms')),
    }),
    request: (_w, p) => post(`/api/patients/${p.patientId}/consents/${p.consentId}/withdraw`),
    expect: NOT_FOUND,
  },
  {
    name: "Z4: A's org admin changes the role of a user who is not A's member",
    route: 'PUT /api/organizations/:organizationId/members/:userId',
    actor: 'orgAdmin',
    request: (w) => ({
      method: 'PUT',
      url: `/api/organizations/${w.orgA}/members/${w.people.otherClinician.userId}`,
      payload: { role: 'org_admin' },
    }),
    expect: NOT_FOUND,
  },
  {
    name: "Z4: A's org admin removes a member of B",
    route: 'DELETE /api/organizations/:organizationId/members/:userId',
    actor: 'orgAdmin',
    request: (w) => ({
      method: 'DELETE',
      url: `/api/organizations/${w.orgB}/members/${w.people.otherClinician.userId}`,
    }),
    expect: NOT_FOUND,
  },
  {
    name: "Z4: PA's patient withdraws PB's consent in the portal",
    route: 'POST /api/portal/consents/:consentId/withdraw',
    actor: 'patientSelf',
    prepare: async (w) => ({
      consentId: await newConsent(w, w.patientB, await newDocument(w, w.orgB, 'terms')),
    }),
    request: (_w, p) => post(`/api/portal/consents/${p.consentId}/withdraw`),
    expect: NOT_FOUND,
  },
  {
    name: "Z5: an admin opens another admin's break-glass grant",
    route: 'GET /api/break-glass/grants/:grantId/record',
    actor: 'admin',
    prepare: async (w) => ({
      grantId: await grantOf(w, await newUser(w, ['admin']), 30 * 60_000),
    }),
    request: (_w, p) => ({ method: 'GET', url: `/api/break-glass/grants/${p.grantId}/record` }),
    expect: NOT_FOUND,
  },
  {
    name: 'Z5: an expired break-glass grant opens nothing',
    route: 'GET /api/break-glass/grants/:grantId/record',
    actor: 'admin',
    prepare: async (w) => ({ grantId: await grantOf(w, w.people.admin.userId, -60_000) }),
    request: (_w, p) => ({ method: 'GET', url: `/api/break-glass/grants/${p.grantId}/record` }),
    expect: { status: 403, code: 'BREAK_GLASS_INACTIVE' },
  },
  {
    name: 'Z5: a revoked break-glass grant opens nothing',
    route: 'GET /api/break-glass/grants/:grantId/record',
    actor: 'admin',
    prepare: async (w) => ({
      grantId: await grantOf(w, w.people.admin.userId, 30 * 60_000, true),
    }),
    request: (_w, p) => ({ method: 'GET', url: `/api/break-glass/grants/${p.grantId}/record` }),
    expect: { status: 403, code: 'BREAK_GLASS_INACTIVE' },
  },
  {
    name: 'Z5: break-glass cannot be requested without a fresh MFA check',
    route: 'POST /api/break-glass/grants',
    actor: 'admin',
    prepare: async () => ({ withoutMfa: 'true' }),
    request: (w) =>
      post('/api/break-glass/grants', {
        patientId: w.patientA,
        reason: 'Patient unconscious in the emergency department',
      }),
    expect: { status: 403, code: 'STEP_UP_REQUIRED' },
  },
  ...FILES_PROBES,
];
