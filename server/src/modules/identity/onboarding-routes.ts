// Onboarding HTTP routes: first-admin setup, invitation inspect/accept, self sign-up and its
// verification. All are public credential endpoints: they check the origin (login CSRF) and
// carry link tokens only in bodies (the SPA reads them from the URL fragment).
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { PUBLIC } from '../../platform/http/route-contract.js';
import { MFA_PENDING_COOKIE, setCookie } from './browser-credentials.js';
import {
  ENROLLMENT_PENDING_SECONDS,
  acceptInvitation,
  inspectInvitation,
  signUp,
  verifySignup,
} from './onboarding.js';
import {
  SignedIn,
  createSessionKit,
  requireSameSite,
  type IdentityContext,
} from './session-kit.js';
import { requestContext } from '../../platform/http/request-context.js';
import { setupFirstAdmin } from './setup-link.js';

export const EnrollmentRequired = Type.Object(
  { status: Type.Literal('mfa_enrollment_required') },
  { additionalProperties: false },
);

// 256-bit base64url tokens are 43 characters; a little slack, nothing more.
const LinkToken = Type.String({ minLength: 20, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
const Email = Type.String({ format: 'email', maxLength: 254 });
const DisplayName = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });
// The policy (12–128 after NFKC) decides and explains; this only bounds the request.
const Password = Type.String({ minLength: 1, maxLength: 1024 });

const body = <T extends Record<string, ReturnType<typeof Type.String>>>(properties: T) =>
  Type.Object(properties, { additionalProperties: false });

export function registerOnboardingRoutes(app: FastifyInstance, ctx: IdentityContext): void {
  const { startSession } = createSessionKit(ctx);
  const auth = { access: PUBLIC, rateClass: 'auth' } as const;

  app.post(
    '/api/onboarding/setup',
    {
      config: auth,
      bodyLimit: 4096,
      schema: {
        body: body({
          token: LinkToken,
          email: Email,
          displayName: DisplayName,
          password: Password,
        }),
        response: { 200: EnrollmentRequired },
      },
    },
    async (request, reply) => {
      requireSameSite(request, ctx.allowedOrigins);
      const input = request.body as {
        token: string;
        email: string;
        displayName: string;
        password: string;
      };
      const { pendingToken } = await setupFirstAdmin(ctx, input, requestContext(request));
      setCookie(reply, MFA_PENDING_COOKIE, pendingToken, ENROLLMENT_PENDING_SECONDS);
      return { status: 'mfa_enrollment_required' as const };
    },
  );

  app.post(
    '/api/onboarding/invitations/inspect',
    {
      config: auth,
      schema: {
        body: body({ token: LinkToken }),
        response: {
          200: Type.Object(
            {
              email: Type.String({ maxLength: 254 }),
              role: Type.String({ maxLength: 20 }),
              displayName: Type.Union([Type.String({ maxLength: 100 }), Type.Null()]),
              expiresAt: Type.String({ maxLength: 40 }),
            },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) => {
      requireSameSite(request, ctx.allowedOrigins);
      return inspectInvitation(ctx, (request.body as { token: string }).token);
    },
  );

  app.post(
    '/api/onboarding/invitations/accept',
    {
      config: auth,
      bodyLimit: 4096,
      schema: {
        body: body({ token: LinkToken, displayName: DisplayName, password: Password }),
        response: { 200: Type.Union([SignedIn, EnrollmentRequired]) },
      },
    },
    async (request, reply) => {
      requireSameSite(request, ctx.allowedOrigins);
      const input = request.body as { token: string; displayName: string; password: string };
      const result = await acceptInvitation(ctx, input, requestContext(request));
      if (result.kind === 'enroll') {
        setCookie(reply, MFA_PENDING_COOKIE, result.pendingToken, ENROLLMENT_PENDING_SECONDS);
        return { status: 'mfa_enrollment_required' as const };
      }
      return startSession(request, reply, result.user, ['pwd'], null);
    },
  );

  // Off by default: unregistered routes answer 404 like any unknown path, before origin or
  // body checks, and the route table (self-audit) shows no public sign-up at all.
  if (!ctx.config.identity.selfSignup) return;

  app.post(
    '/api/onboarding/signup',
    {
      config: auth,
      bodyLimit: 4096,
      schema: {
        body: body({ email: Email, displayName: DisplayName, password: Password }),
        response: {
          202: Type.Object(
            { status: Type.Literal('verification_sent') },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request, reply) => {
      requireSameSite(request, ctx.allowedOrigins);
      const input = request.body as { email: string; displayName: string; password: string };
      await signUp(ctx, input, requestContext(request));
      return reply.code(202).send({ status: 'verification_sent' as const });
    },
  );

  app.post(
    '/api/onboarding/signup/verify',
    {
      config: auth,
      schema: {
        body: body({ token: LinkToken }),
        response: {
          200: Type.Object({ status: Type.Literal('verified') }, { additionalProperties: false }),
        },
      },
    },
    async (request) => {
      requireSameSite(request, ctx.allowedOrigins);
      await verifySignup(ctx, (request.body as { token: string }).token, requestContext(request));
      return { status: 'verified' as const };
    },
  );
}
