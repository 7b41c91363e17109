// Break-glass access to one patient record (Z5): request, use, list and revoke grants.
import type { FastifyPluginAsync } from 'fastify';
import type { ModuleContext } from '../../platform/module-context.js';
import type { IdentityApi } from '../identity/index.js';
import { registerBreakGlassRoutes } from './routes.js';

export interface BreakGlassSettings {
  /** How long a grant lasts (HAVEN_BREAK_GLASS_MINUTES). */
  readonly grantMs: number;
}

export interface BreakGlassModuleOptions {
  readonly context: ModuleContext<BreakGlassSettings>;
  readonly identity: IdentityApi;
}

/** The module's front door: app.register(breakGlassModule, options). */
export const breakGlassModule: FastifyPluginAsync<BreakGlassModuleOptions> = async (
  app,
  { identity },
) => {
  const legacy = identity.legacyContext;
  registerBreakGlassRoutes(app, legacy);
};
