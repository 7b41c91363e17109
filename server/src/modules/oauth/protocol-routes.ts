// The OAuth endpoints (A12) as Haven routes, so every control in front of a route applies to
// them: security headers, path guard, CORS, the rate limiter (R1: `auth`, the class of every
// route that checks a secret) and the route contract. Discovery and the token endpoint are
// handed to oidc-provider on the raw request; introspection and revocation are Haven's own.
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../platform/db/schema.js';
import { HavenError } from '../../platform/errors.js';
import { requestedHeaders } from '../../platform/http/cors.js';
import { toHavenError } from '../../platform/http/problem-handler.js';
import { PUBLIC } from '../../platform/http/route-contract.js';
import { Type } from 'typebox';
import { browserMayCallAs, browserOriginsOf, usableRedirectUris } from './redirect-uris.js';
import { publicAppRedirectUris } from './repo.js';
import {
  authenticateClient,
  introspect,
  OAuthError,
  revoke,
  type ScopesOfRoles,
  type TokenVerification,
} from './introspection.js';
import type { TokenDecisions } from './token-decisions.js';
import { authorizationErrorPage } from './error-page.js';
import { OAUTH_ROUTES, type AuthorizationServer } from './provider.js';
import {
  AuthorizationPage,
  AuthorizeQuery,
  Empty,
  InteractionParams,
  IntrospectionAnswer,
  MACHINE_CLIENT_SCOPES,
  ProtocolAnswer,
  TokenForm,
  TokenForm7662,
  type MachineClientScope,
} from './schemas.js';

/** Form bodies are small: a client-credentials request or one token to look at. */
const FORM_BODY_LIMIT = 8 * 1024;

/**
 * The protocol endpoints take application/x-www-form-urlencoded only (RFC 6749 §4.4.2, RFC 7662
 * §2.1, RFC 7009 §2.1), as an object; a repeated parameter is refused (RFC 6749 §3.1). Any other
 * body, JSON included, is Haven's 415 problem before the authorization server sees it.
 */
/** Far below querystring's 1000, far above what any OAuth request sends. */
const MAX_FORM_PAIRS = 64;

function acceptOnlyFormBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
    (request, body, done) => {
      const text = body as string;
      // The provider parses the same text with querystring, which reads only the first 1000
      // pairs (empty ones included) where URLSearchParams reads them all: past that, a field
      // Haven checked could be hidden from the provider. No request of these endpoints needs
      // more than a few parameters.
      if (text.split('&', MAX_FORM_PAIRS + 1).length > MAX_FORM_PAIRS) {
        done(new HavenError('BAD_REQUEST', 'The form has too many parameters.'), undefined);
        return;
      }
      // No prototype: a parameter named __proto__ is a field like any other (and then refused
      // by the schema), never the object's prototype.
      const form = Object.create(null) as Record<string, string>;
      for (const [key, value] of new URLSearchParams(text)) {
        if (Object.hasOwn(form, key)) {
          done(new HavenError('BAD_REQUEST', 'A parameter appears more than once.'), undefined);
          return;
        }
        form[key] = value;
      }
      // What oidc-provider reads when it takes a request over (handOver): the text itself, which
      // it parses once. Handed the parsed object, it would serialize it and parse it again.
      (request.raw as ProviderRequest).body = text;
      done(null, form);
    },
  );
}

/** A raw request whose form body Fastify has read: oidc-provider then takes it from `body`. */
type ProviderRequest = IncomingMessage & { body?: string };

/**
 * Hands the request to oidc-provider. Fastify has read the body already, and oidc-provider then
 * takes its text from `req.body` (acceptOnlyFormBodies puts it there); the headers Haven's hooks
 * set on the reply are copied to the raw response, which the provider writes itself.
 */
async function handOver(
  server: AuthorizationServer,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const handler = await server.handler();
  const raw = request.raw;
  // oidc-provider writes its endpoint URLs from the request's host and scheme: they are the
  // issuer's, whatever the client or a proxy sent (the provider trusts these two headers only).
  raw.headers.host = server.issuer.host;
  raw.headers['x-forwarded-proto'] = server.issuer.protocol.slice(0, -1);
  delete raw.headers['x-forwarded-host'];
  delete raw.headers['x-forwarded-for'];
  // Only Basic authenticates a client here; a Bearer token riding along (a signed-in browser's,
  // say) is no client credential, and the answer must not depend on it (a public route).
  if (!/^Basic /i.test(raw.headers.authorization ?? '')) delete raw.headers.authorization;
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) reply.raw.setHeader(name, value);
  }
  reply.hijack();
  await new Promise<void>((resolve) => {
    reply.raw.once('close', resolve);
    handler(request.raw, reply.raw);
  });
}

/**
 * Whether a consent given on Haven's page is being resumed in a browser that is not signed in to
 * Haven as the person who gave it (A12). The provider lets only the browser that started the
 * authorization resume it (its signed cookie), but that browser can be anyone's: an attacker
 * starts a request for a real app, sends the victim the consent link, the victim allows, and the
 * attacker's browser would collect the code for the victim's grant (or a victim's browser would
 * be handed the attacker's grant). The browser that finishes must also carry the consenting
 * person's own session. Refused, the request stays unanswered and expires: nothing is spent that a
 * stranger who learned the uid could use to cancel someone's own request.
 */
async function resumedByAnotherPerson(
  server: AuthorizationServer,
  request: FastifyRequest,
  uid: string,
  sessionPerson: (request: FastifyRequest) => Promise<string | undefined>,
): Promise<boolean> {
  const interaction = await (await server.provider()).Interaction.find(uid);
  const login = interaction?.result?.login as { accountId?: unknown } | undefined;
  if (typeof login?.accountId !== 'string') return false;
  return (await sessionPerson(request)) !== login.accountId;
}

/** The endpoints RFC 6749 §5.2, RFC 7662 §2.3 and RFC 7009 §2.2.1 answer in OAuth's format. */
const TOKEN_ENDPOINTS = new Set([
  '/oauth/token',
  '/oauth/token/introspection',
  '/oauth/token/revocation',
]);

/**
 * A malformed request to a token endpoint, as RFC 6749 §5.2 words `invalid_request`: a missing
 * or unknown parameter, one too long, a repeated one, or a body that is not a form. Answered in
 * OAuth's own format, which every OAuth client reads; anything else (a rate limit, an outage) is
 * not the client's request and stays Haven's problem answer.
 */
function malformedTokenRequest(request: FastifyRequest, error: unknown): OAuthError | undefined {
  if (request.method !== 'POST' || !TOKEN_ENDPOINTS.has(request.routeOptions.url ?? '')) {
    return undefined;
  }
  const { error: safe } = toHavenError(error);
  const malformed =
    safe.code === 'VALIDATION_FAILED' ||
    safe.code === 'BAD_REQUEST' ||
    safe.code === 'UNSUPPORTED_MEDIA_TYPE';
  if (!malformed) return undefined;
  const description =
    safe.code === 'UNSUPPORTED_MEDIA_TYPE'
      ? 'The body must be application/x-www-form-urlencoded.'
      : (safe.detail ?? safe.message);
  return new OAuthError(400, 'invalid_request', description);
}

function sendOAuthError(reply: FastifyReply, error: OAuthError): FastifyReply {
  if (error.status === 401) {
    reply.header(
      'www-authenticate',
      `Basic realm="haven", error="${error.error}", error_description="${error.description}"`,
    );
  }
  return reply
    .code(error.status)
    .header('cache-control', 'no-store')
    .send({ error: error.error, error_description: error.description });
}

export function registerProtocolRoutes(
  app: FastifyInstance,
  db: Kysely<DatabaseSchema>,
  server: AuthorizationServer,
  verification: TokenVerification,
  decisions: TokenDecisions,
  scopesOfRoles: ScopesOfRoles,
  sessionPerson: (request: FastifyRequest) => Promise<string | undefined>,
): void {
  acceptOnlyFormBodies(app);
  // OAuth's own errors, thrown by the routes below or made of a malformed request, answer in
  // OAuth's format; thrown on, anything else reaches the app's problem handler (Fastify chains
  // error handlers).
  app.setErrorHandler((error, request, reply) => {
    const oauthError = error instanceof OAuthError ? error : malformedTokenRequest(request, error);
    if (!oauthError) throw error;
    return sendOAuthError(reply, oauthError);
  });
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.get(
    '/.well-known/openid-configuration',
    {
      config: { access: PUBLIC, rateClass: 'public' },
      schema: { response: { 200: ProtocolAnswer } },
    },
    (request, reply) => handOver(server, request, reply),
  );

  // The authorization endpoint (RFC 6749 §3.1) and its resume step, GET only: a browser
  // arrives here from an app, leaves for Haven's consent page, and comes back to resume. The
  // provider refuses what OAuth 2.1 dropped (implicit, `plain` PKCE, a missing challenge) and any
  // redirect URI not registered exactly, showing an error page instead of redirecting there.
  const browserEndpoint = { access: PUBLIC, rateClass: 'public' } as const;
  typed.get(
    '/oauth/authorize',
    {
      config: browserEndpoint,
      schema: { querystring: AuthorizeQuery, response: { 200: AuthorizationPage } },
    },
    (request, reply) => handOver(server, request, reply),
  );
  typed.get(
    '/oauth/authorize/:uid',
    {
      config: browserEndpoint,
      schema: {
        params: InteractionParams,
        response: { 200: AuthorizationPage, 403: AuthorizationPage },
      },
    },
    async (request, reply) => {
      if (await resumedByAnotherPerson(server, request, request.params.uid, sessionPerson)) {
        return reply
          .code(403)
          .type('text/html; charset=utf-8')
          .header('cache-control', 'no-store')
          .send(
            authorizationErrorPage([
              'This request was answered on the consent page by another account, or in another browser, than the one finishing it here, so Haven sent nothing to the app.',
              'Close this page and start again from the app, in the browser where you are signed in to Haven as yourself.',
            ]),
          );
      }
      return handOver(server, request, reply);
    },
  );

  // The CORS preflight of the token endpoint and of revocation (A12, T5): answered only for the
  // origin of a public app's https redirect URI, for a form POST and nothing else, without
  // credentials (neither request carries a cookie). The request itself is then held to the one
  // app's own origins (provider.ts, browserMayCallAs). Every
  // other preflight goes to Haven's CORS allowlist.
  const preflight = (url: string) =>
    typed.options(
      url,
      {
        config: { access: PUBLIC, rateClass: 'public' },
        schema: { response: { 204: Type.Null() } },
      },
      async (request, reply) => {
        const origin = request.headers.origin;
        const method = request.headers['access-control-request-method'];
        const headers = requestedHeaders(request.headers['access-control-request-headers']);
        const allowed =
          origin !== undefined &&
          method === 'POST' &&
          headers.every((name) => name === 'content-type') &&
          browserOriginsOf(usableRedirectUris(await publicAppRedirectUris(db))).has(origin);
        // A preflight without credentials, even for an origin Haven's CORS allowlist also names.
        reply.removeHeader('access-control-allow-credentials');
        if (!allowed) {
          reply.removeHeader('access-control-allow-origin');
          throw new HavenError('CORS_REJECTED');
        }
        return reply
          .header('access-control-allow-origin', origin)
          .header('vary', 'Origin')
          .header('access-control-allow-methods', 'POST')
          .header('access-control-allow-headers', 'content-type')
          .header('access-control-max-age', '600')
          .code(204)
          .send(null);
      },
    );
  preflight(OAUTH_ROUTES.token);
  preflight(OAUTH_ROUTES.revocation);

  typed.post(
    '/oauth/token',
    {
      config: { access: PUBLIC, rateClass: 'auth' },
      bodyLimit: FORM_BODY_LIMIT,
      schema: { body: TokenForm, response: { 200: ProtocolAnswer } },
    },
    async (request, reply) => {
      // oidc-provider drops requested scopes it does not know and issues the rest (RFC 6749
      // §3.3 allows it); a client asking for more than a machine may hold is refused instead,
      // so a misconfigured client learns at once instead of failing later with a 403. (An app's
      // refresh may only narrow what the person granted; the provider checks that itself.)
      const machine = request.body.grant_type === 'client_credentials';
      const unknown = (machine ? (request.body.scope ?? '') : '')
        .split(' ')
        .filter(
          (scope) => scope !== '' && !MACHINE_CLIENT_SCOPES.includes(scope as MachineClientScope),
        );
      if (unknown.length > 0) {
        throw new OAuthError(400, 'invalid_scope', 'requested scope is not available to clients');
      }
      return handOver(server, request, reply);
    },
  );

  typed.post(
    '/oauth/token/introspection',
    {
      config: { access: PUBLIC, rateClass: 'auth' },
      bodyLimit: FORM_BODY_LIMIT,
      schema: { body: TokenForm7662, response: { 200: IntrospectionAnswer } },
    },
    async (request, reply) => {
      const client = await authenticateClient(db, request, request.body, 'confidential');
      const answer = await introspect(
        db,
        verification,
        decisions,
        scopesOfRoles,
        client,
        request.body.token,
      );
      return reply.header('cache-control', 'no-store').send(answer);
    },
  );

  typed.post(
    '/oauth/token/revocation',
    {
      config: { access: PUBLIC, rateClass: 'auth' },
      bodyLimit: FORM_BODY_LIMIT,
      schema: { body: TokenForm7662, response: { 200: Empty } },
    },
    async (request, reply) => {
      const client = await authenticateClient(db, request, request.body, 'public-too');
      const origin = request.headers.origin;
      if (origin !== undefined) {
        // From a browser as at the token endpoint: a public app, from its own origin.
        const redirectUris = usableRedirectUris(client.redirect_uris);
        if (!browserMayCallAs(client.public_client, redirectUris, origin)) {
          throw new OAuthError(400, 'invalid_request', 'This app cannot be called from a browser.');
        }
        // An answer without credentials, even to an origin Haven's CORS allowlist also names.
        reply.removeHeader('access-control-allow-credentials');
        reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
      }
      await revoke(db, verification, decisions, client, request.body.token);
      return reply.send({});
    },
  );
}
