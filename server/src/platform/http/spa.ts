// Serves the built SPA: hashed assets as files, every other non-API GET as index.html so
// client-side routes work on reload. API paths never fall back to the SPA.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { Type } from 'typebox';
import { HavenError } from '../errors.js';
import { PUBLIC } from './route-contract.js';

const API_PREFIXES = ['/api/', '/oauth/', '/.well-known/'];
/**
 * L4: metrics live on their own listener (platform/metrics), never on this port; a scraper
 * pointed here by mistake gets a plain 404, not the web app's page with a 200.
 */
const METRICS_PATH = '/metrics';

export async function registerSpa(app: FastifyInstance, webDir: string): Promise<void> {
  const built = existsSync(path.join(webDir, 'index.html'));
  if (built) {
    // serve: false — we declare the route ourselves so it honours the route contract.
    await app.register(fastifyStatic, {
      root: webDir,
      serve: false,
      dotfiles: 'deny',
      index: false,
      // Caching is decided once, in security-headers.ts (no-store for index.html, immutable
      // for hashed assets); the plugin's own `public, max-age=0` would override it (T3).
      cacheControl: false,
    });
  }
  app.get(
    '/*',
    {
      config: { access: PUBLIC, rateClass: 'public', spaFallback: true },
      schema: {
        params: Type.Object(
          { '*': Type.String({ maxLength: 1024 }) },
          { additionalProperties: false },
        ),
        response: { 200: Type.String({ description: 'a static file of the SPA' }) },
      },
    },
    async (request, reply) => {
      const urlPath = request.url.split('?', 1)[0] ?? '/';
      if (API_PREFIXES.some((prefix) => urlPath.startsWith(prefix)) || urlPath === '/api') {
        throw new HavenError('NOT_FOUND');
      }
      if (urlPath === METRICS_PATH || urlPath.startsWith(`${METRICS_PATH}/`)) {
        throw new HavenError('NOT_FOUND');
      }
      if (!built) {
        throw new HavenError('NOT_FOUND', 'The web app is not built; run npm run build.');
      }
      const relative = urlPath.slice(1);
      if (relative.startsWith('assets/') && existsSync(path.join(webDir, relative))) {
        return reply.sendFile(relative);
      }
      if (path.extname(relative) !== '' && relative !== 'index.html') {
        throw new HavenError('NOT_FOUND');
      }
      return reply.type('text/html; charset=utf-8').sendFile('index.html');
    },
  );
}
