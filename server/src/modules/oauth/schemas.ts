// Request and answer schemas of the OAuth module (A12), and its contract door. The protocol
// endpoints take form-encoded bodies (RFC 6749 §3.2, RFC 7662, RFC 7009) checked here like every
// other body (V1) before oidc-provider or Haven's own handlers read them.
import { Type, type Static } from 'typebox';

/**
 * The scopes a machine client may be granted (Z2). Only routes that serve a client principal
 * belong here: the clinical routes answer a machine client 403 whatever it holds (requireAccess),
 * so granting their scopes would promise access that is not there. audit:read serves a SIEM
 * pulling the audit log.
 */
export const MACHINE_CLIENT_SCOPES = ['audit:read'] as const;
export type MachineClientScope = (typeof MACHINE_CLIENT_SCOPES)[number];

/** The most clients one listing shows, newest first. */
export const CLIENT_LIST_LIMIT = 200;

const ClientId = Type.String({ pattern: '^[A-Za-z0-9_-]{16,64}$', maxLength: 64 });
const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
const Iso = Type.String({ maxLength: 40 });
/** One line: no control characters. */
const NAME_PATTERN = '^[^\\u0000-\\u001f\\u007f]*$';
const ScopeList = Type.Array(
  Type.Union(MACHINE_CLIENT_SCOPES.map((scope) => Type.Literal(scope))),
  // At least one: oidc-provider reads a client without scopes as one that may ask for any.
  { minItems: 1, maxItems: MACHINE_CLIENT_SCOPES.length, uniqueItems: true },
);

export const ClientParams = Type.Object({ clientId: ClientId }, { additionalProperties: false });

export const CreateClientBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 120, pattern: NAME_PATTERN }),
    scopes: ScopeList,
    ownerOrganizationId: Type.Optional(Type.Union([Uuid, Type.Null()])),
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
/** Creation and rotation: the secret is in this answer and nowhere else, ever. */
export const ClientWithSecretAnswer = Type.Object(
  { client: OAuthClientSchema, clientSecret: Type.String({ maxLength: 64 }) },
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

/** POST /oauth/token: what a client-credentials request may carry; oidc-provider checks the rest. */
export const TokenForm = Type.Object(
  {
    grant_type: Type.String({ maxLength: 100 }),
    scope: FormValue(500),
    resource: FormValue(500),
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
export const ProtocolAnswer = Type.Object(
  {},
  { additionalProperties: true, description: 'OAuth JSON answer (RFC 6749, 7662, 8414)' },
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
