// The clinical modules (organizations, patients, consents, notes, portal, break-glass, audit
// administration), registered after identity so they inherit every platform control.
import type { FastifyInstance } from 'fastify';
import type { IdentityContext } from '../identity/session-kit.js';

export function registerClinicalModules(app: FastifyInstance, identity: IdentityContext): void {
  void app;
  void identity;
}
