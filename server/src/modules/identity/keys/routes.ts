// The JWKS route, and the first signing key created at start.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { PUBLIC } from '../../../platform/http/route-contract.js';
import { Jwks } from './schemas.js';
import type { SigningKeyStore } from './signing-keys.js';

/** How long the start waits for the first signing key (under Fastify's 10 s onReady limit). */
const START_KEY_WAIT_MS = 5_000;

/**
 * Creates the first signing key when the app starts: a verifier (or another node) fetching the
 * JWKS before anyone signed in finds a key. Nodes starting together create one key between
 * them (loadCurrent inserts under an advisory lock, re-checking first). Never a reason not to
 * start: an unmigrated database (`haven routes` builds the app on an empty in-memory one) or a
 * slow one (Fastify times out onReady hooks after 10 s); the first token issued then creates
 * the key, as it would anyway.
 */
async function createFirstKey(
  app: FastifyInstance,
  store: Pick<SigningKeyStore, 'currentSigningKey'>,
): Promise<void> {
  const created = store.currentSigningKey().then(
    () => 'created' as const,
    (error: unknown) => {
      app.log.warn({ err: error }, 'could not create the first signing key at start');
      return 'failed' as const;
    },
  );
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), START_KEY_WAIT_MS);
  });
  if ((await Promise.race([created, late])) === 'late') {
    app.log.warn('the first signing key is not created yet; starting without waiting for it');
  }
  clearTimeout(timer);
}

/** Publishes the JWKS; see createFirstKey for the key made at start. */
export function registerJwksRoute(
  app: FastifyInstance,
  store: Pick<SigningKeyStore, 'jwks' | 'currentSigningKey'>,
): void {
  app.addHook('onReady', () => createFirstKey(app, store));
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/.well-known/jwks.json',
    {
      config: { access: PUBLIC, rateClass: 'public' },
      schema: { response: { 200: Jwks } },
    },
    async (_request, reply) => {
      // Public keys are meant to be cached; the global hook set no-store before we got here.
      reply.header('cache-control', 'public, max-age=300');
      return store.jwks();
    },
  );
}
