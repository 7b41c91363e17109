// Break-glass access to one patient record (Z5): find the patient, request, use, list and revoke
// grants.
import { defineModule } from '../../platform/module-context.js';
import type { ClinicalModuleOptions } from '../identity/index.js';
import { registerBreakGlassRoutes } from './routes.js';

export interface BreakGlassSettings {
  /** How long a grant lasts (HAVEN_BREAK_GLASS_MINUTES). */
  readonly grantMs: number;
}

/**
 * The module's front door: app.register(breakGlassModule, options). Identity's API is unused
 * today; every module receives the same options (app.ts registers them alike).
 */
export const breakGlassModule = defineModule<ClinicalModuleOptions<BreakGlassSettings>>(
  (app, { context }) => registerBreakGlassRoutes(app, context),
);

export { GRANT_LIST_LIMIT, GrantSchema, type GrantView } from './schemas.js';
