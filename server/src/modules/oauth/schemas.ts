// Request and answer schemas of the OAuth module (A12), and its contract door. The protocol
// endpoints take form-encoded bodies (RFC 6749 §3.2, RFC 7662, RFC 7009) checked here like every
// other body (V1) before oidc-provider or Haven's own handlers read them.
import { Type, type Static } from 'typebox';
import { openAnswer } from '../../platform/http/schemas.js';

/**
 * The scopes a machine client may be granted (Z2). Only routes that serve a client principal
 * belong here: the clinical routes answer a machine client 403 whatever it holds (requireAccess),
 * so granting their scopes would promise access that is not there. audit:read serves a SIEM
 * pulling the audit log.
 */
export const MACHINE_CLIENT_SCOPES = ['audit:read'] as const;
export type MachineClientScope = (typeof MACHINE_CLIENT_SCOPES)[number];

/**
 * The scopes a person may delegate to a third-party app (Z2, A12): only routes that serve a
 * delegated principal, which is the patient portal's reads of a person's own record
 * (requireAccess on OWN_RECORD). Everything else a person does in Haven needs their own signed-in
 * session (requireUser), so offering its scopes would promise access that is not there. Each
 * entry has the words the consent page shows.
 */
export const DELEGATED_SCOPES = {
  'portal:read': {
    label: 'Read your health record',
    description:
      'Your record as the patient portal shows it: details, consents, notes shared with you and who looked at your record.',
  },
} as const satisfies Record<string, { label: string; description: string }>;
export type DelegatedScope = keyof typeof DELEGATED_SCOPES;
export const DELEGATED_SCOPE_NAMES = Object.keys(DELEGATED_SCOPES) as DelegatedScope[];
export const isDelegatedScope = (scope: string): scope is DelegatedScope =>
  Object.hasOwn(DELEGATED_SCOPES, scope);

/** The scopes a client of each kind may hold: a machine's own, or what a person may delegate. */
export const CLIENT_SCOPES_BY_KIND: Readonly<Record<'machine' | 'app', readonly string[]>> =
  Object.freeze({ machine: MACHINE_CLIENT_SCOPES, app: DELEGATED_SCOPE_NAMES });

/** An app may register this many exact redirect URIs. */
export const MAX_REDIRECT_URIS = 5;

/** The most clients one listing shows, newest first. */
export const CLIENT_LIST_LIMIT = 200;

const ClientId = Type.String({ pattern: '^[A-Za-z0-9_-]{16,64}$', maxLength: 64 });
const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
const Iso = Type.String({ maxLength: 40 });
/** One line: no control characters. */
const NAME_PATTERN = '^[^\\u0000-\\u001f\\u007f]*$';
const ALL_CLIENT_SCOPES = [...MACHINE_CLIENT_SCOPES, ...DELEGATED_SCOPE_NAMES];
/** Which of these a client may hold depends on its kind (service.ts checks that). */
const ScopeList = Type.Array(
  Type.Union(ALL_CLIENT_SCOPES.map((scope) => Type.Literal(scope))),
  // At least one: oidc-provider reads a client without scopes as one that may ask for any.
  { minItems: 1, maxItems: ALL_CLIENT_SCOPES.length, uniqueItems: true },
);
/** Absolute URLs; service.ts holds them to https or a loopback http address, no fragment. */
const RedirectUris = Type.Array(Type.String({ minLength: 10, maxLength: 500, format: 'uri' }), {
  minItems: 1,
  maxItems: MAX_REDIRECT_URIS,
  uniqueItems: true,
});

export const ClientParams = Type.Object({ clientId: ClientId }, { additionalProperties: false });

export const CreateClientBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 120, pattern: NAME_PATTERN }),
    scopes: ScopeList,
    ownerOrganizationId: Type.Optional(Type.Union([Uuid, Type.Null()])),
    /** `machine` (the default): client credentials. `app`: authorization code + PKCE. */
    kind: Type.Optional(Type.Union([Type.Literal('machine'), Type.Literal('app')])),
    /** An app's exact redirect URIs; a machine has none. */
    redirectUris: Type.Optional(RedirectUris),
    /** A native app that cannot keep a secret: no secret, loopback redirect URIs only. */
    publicClient: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CreateClientBody = Static<typeof CreateClientBody>;

export const ChangeScopesBody = Type.Object({ scopes: ScopeList }, { additionalProperties: false });
export type ChangeScopesBody = Static<typeof ChangeScopesBody>;

export const Empty = Type.Object({}, { additionalProperties: false });

export const OAuthClientSchema = Type.Object(
  {
    clientId: Type.String({ maxLength: 64 }),
    name: Type.String({ maxLength: 120 }),
    ownerOrganizationId: Type.Union([Type.String({ maxLength: 36 }), Type.Null()]),
    scopes: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 32 }),
    kind: Type.Union([Type.Literal('machine'), Type.Literal('app')]),
    redirectUris: Type.Array(Type.String({ maxLength: 500 }), { maxItems: MAX_REDIRECT_URIS }),
    publicClient: Type.Boolean(),
    disabled: Type.Boolean(),
    createdBy: Type.String({ maxLength: 36 }),
    createdAt: Iso,
    updatedAt: Iso,
  },
  { additionalProperties: false },
);
export type OAuthClientView = Static<typeof OAuthClientSchema>;

export const ClientAnswer = Type.Object(
  { client: OAuthClientSchema },
  { additionalProperties: false },
);
/**
 * Creation and rotation: the secret is in this answer and nowhere else, ever. A public app has
 * none (null).
 */
export const ClientWithSecretAnswer = Type.Object(
  {
    client: OAuthClientSchema,
    clientSecret: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
  },
  { additionalProperties: false },
);
export const ClientList = Type.Object(
  { clients: Type.Array(OAuthClientSchema, { maxItems: CLIENT_LIST_LIMIT }) },
  { additionalProperties: false },
);

// --- protocol endpoints ---------------------------------------------------------------------

const FormValue = (maxLength: number) => Type.Optional(Type.String({ maxLength }));
const ClientCredentialFields = {
  client_id: FormValue(64),
  client_secret: FormValue(128),
};

/** POST /oauth/token: what a token request may carry; oidc-provider checks the rest. */
export const TokenForm = Type.Object(
  {
    grant_type: Type.String({ maxLength: 100 }),
    scope: FormValue(500),
    resource: FormValue(500),
    code: FormValue(200),
    redirect_uri: FormValue(500),
    code_verifier: FormValue(128),
    refresh_token: FormValue(200),
    // Named so the refusals of other grants come from the authorization server, not from here.
    username: FormValue(200),
    password: FormValue(200),
    ...ClientCredentialFields,
  },
  { additionalProperties: false },
);

/** RFC 7662 and RFC 7009 requests. */
export const TokenForm7662 = Type.Object(
  {
    token: Type.String({ maxLength: 4096 }),
    token_type_hint: FormValue(40),
    ...ClientCredentialFields,
  },
  { additionalProperties: false },
);
export type TokenForm7662 = Static<typeof TokenForm7662>;

/** The answers are oidc-provider's or RFC 7662's own JSON; declared open for the API document. */
export const ProtocolAnswer = openAnswer(
  Type.Object(
    {},
    { additionalProperties: true, description: 'OAuth JSON answer (RFC 6749, 7662, 8414)' },
  ),
);

export const IntrospectionAnswer = Type.Object(
  {
    active: Type.Boolean(),
    scope: Type.Optional(Type.String()),
    client_id: Type.Optional(Type.String()),
    sub: Type.Optional(Type.String()),
    token_type: Type.Optional(Type.String()),
    exp: Type.Optional(Type.Number()),
    iat: Type.Optional(Type.Number()),
    iss: Type.Optional(Type.String()),
    aud: Type.Optional(Type.String()),
    jti: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type IntrospectionAnswer = Static<typeof IntrospectionAnswer>;

// --- authorization code flow (third-party apps) --------------------------------------------

/**
 * GET /oauth/authorize: the parameters an authorization request may carry, each once (a
 * repeated one arrives as an array and is refused). oidc-provider judges their values; those
 * it does not support (implicit response types, `plain` PKCE) it refuses itself.
 */
export const AuthorizeQuery = Type.Object(
  {
    response_type: FormValue(100),
    client_id: FormValue(64),
    redirect_uri: FormValue(500),
    scope: FormValue(500),
    state: FormValue(500),
    code_challenge: FormValue(128),
    code_challenge_method: FormValue(20),
    resource: FormValue(500),
    response_mode: FormValue(40),
    prompt: FormValue(40),
    nonce: FormValue(500),
  },
  { additionalProperties: false },
);

/**
 * What the authorization endpoint answers: a 303 to the consent page or back to the app, or an
 * HTML page (200 or 400) when it cannot send the browser back safely. Declared for the API
 * document; the provider writes it.
 */
export const AuthorizationPage = Type.String({
  description: 'An HTML error page; otherwise the answer is a 303 redirect',
  maxLength: 4096,
});

/** An interaction's uid (oidc-provider's nanoid) in Haven's paths. */
export const InteractionParams = Type.Object(
  { uid: Type.String({ pattern: '^[A-Za-z0-9_-]{10,64}$', maxLength: 64 }) },
  { additionalProperties: false },
);

const ScopeView = {
  scope: Type.String({ maxLength: 64 }),
  label: Type.String({ maxLength: 120 }),
  description: Type.String({ maxLength: 500 }),
};

const ClientRef = Type.Object(
  { clientId: Type.String({ maxLength: 64 }), name: Type.String({ maxLength: 120 }) },
  { additionalProperties: false },
);

export const InteractionAnswer = Type.Object(
  {
    interaction: Type.Object(
      {
        uid: Type.String({ maxLength: 64 }),
        client: ClientRef,
        /** Where the person will be sent back: the origin of the app's redirect URI. */
        redirectOrigin: Type.String({ maxLength: 500 }),
        scopes: Type.Array(
          Type.Object({ ...ScopeView, held: Type.Boolean() }, { additionalProperties: false }),
          { maxItems: 32 },
        ),
        /** False when the person holds nothing the app asks for: only declining is possible. */
        grantable: Type.Boolean(),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type InteractionView = Static<typeof InteractionAnswer>['interaction'];

export const DecisionBody = Type.Object({ allow: Type.Boolean() }, { additionalProperties: false });
export const DecisionAnswer = Type.Object(
  { redirectTo: Type.String({ maxLength: 500 }) },
  { additionalProperties: false },
);

export const GrantParams = Type.Object(
  { grantId: Type.String({ pattern: '^[A-Za-z0-9_-]{10,64}$', maxLength: 64 }) },
  { additionalProperties: false },
);

export const ConnectedAppSchema = Type.Object(
  {
    grantId: Type.String({ maxLength: 64 }),
    client: ClientRef,
    scopes: Type.Array(Type.Object(ScopeView, { additionalProperties: false }), { maxItems: 32 }),
    grantedAt: Iso,
  },
  { additionalProperties: false },
);
export type ConnectedAppView = Static<typeof ConnectedAppSchema>;

/** The most connected apps one person's list shows. */
export const CONNECTED_APPS_LIMIT = 100;

export const ConnectedAppList = Type.Object(
  { apps: Type.Array(ConnectedAppSchema, { maxItems: CONNECTED_APPS_LIMIT }) },
  { additionalProperties: false },
);

// --- an organization's own clients, managed by its administrators (issue 12 item 4) ---------

/**
 * What an organization administrator may give a client of their organization (Z3, A12): never
 * more than the role reaches, so registering a client cannot lift an org admin above it.
 * - A machine client: nothing today. The one machine scope, audit:read, reads every
 *   organization's audit trail, a platform administrator's scope; an org admin's machine
 *   integration is registered by a platform administrator until a scope bounded by the
 *   organization exists.
 * - An app: every delegated scope. Its token carries only what a person holds and consents to,
 *   on their own record, so whoever registers the app gains nothing of their own by it.
 * The same rule bounds rotation: an org admin receives the secret only of a client whose scopes
 * they could have given (service.ts).
 */
export const ORGANIZATION_CLIENT_SCOPES: Readonly<Record<'machine' | 'app', readonly string[]>> =
  Object.freeze({ machine: [], app: DELEGATED_SCOPE_NAMES });

export const OrganizationParams = Type.Object(
  { organizationId: Uuid },
  { additionalProperties: false },
);

export const OrganizationClientParams = Type.Object(
  { organizationId: Uuid, clientId: ClientId },
  { additionalProperties: false },
);

/** Registration by an org admin: the owner is the organization in the path, never the body. */
export const OrganizationCreateClientBody = Type.Object(
  {
    name: CreateClientBody.properties.name,
    scopes: ScopeList,
    kind: CreateClientBody.properties.kind,
    redirectUris: CreateClientBody.properties.redirectUris,
    publicClient: CreateClientBody.properties.publicClient,
  },
  { additionalProperties: false },
);
export type OrganizationCreateClientBody = Static<typeof OrganizationCreateClientBody>;
