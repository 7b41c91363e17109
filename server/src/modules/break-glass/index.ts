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
  /** Unused today; every module receives the same options (app.ts registers them alike). */
  readonly identity: IdentityApi;
}

/** The module's front door: app.register(breakGlassModule, options). */
export const breakGlassModule: FastifyPluginAsync<BreakGlassModuleOptions> = async (
  app,
  { context },
) => {
  registerBreakGlassRoutes(app, context);
};

export { GRANT_LIST_LIMIT, GrantSchema, type GrantView } from './schemas.js';
