// T1: in production, plain-HTTP requests are redirected to the configured public https URL
// (never to the Host header, which the client controls). Health probes stay reachable.
import type { FastifyInstance } from 'fastify';
import { HavenError } from '../errors.js';

const PROBES = new Set(['/healthz', '/readyz']);

export function installHttpsOnly(app: FastifyInstance, publicOrigin: string): void {
  app.addHook('onRequest', async (request, reply) => {
    if (request.protocol === 'https' || PROBES.has(request.url.split('?', 1)[0] ?? '')) return;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      throw new HavenError('HTTPS_REQUIRED');
    }
    // Concatenate, never resolve: new URL('//evil.example/', base) would leave our origin.
    return reply.redirect(`${publicOrigin}${request.url}`, 308);
  });
}
