// What a feature module receives from the platform: narrow on purpose. A module gets the
// database, mail, the clock, its logger, the public origin its links point at and its own slice
// of configuration — never the whole config (secrets stay with the platform) and never another
// module's internals (those come through the other module's front door, index.ts).
//
// Audit events and jobs are not members: recordAudit and enqueueJob are platform functions that
// take the caller's transaction, so an event or a job commits or rolls back with the change.
import type { FastifyInstance, FastifyPluginAsync, FastifyPluginOptions } from 'fastify';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DatabaseSchema } from './db/schema.js';
import type { Mailer } from './mail.js';

export interface ModuleContext<Settings = Record<string, never>> {
  readonly db: Kysely<DatabaseSchema>;
  readonly mailer: Mailer;
  readonly now: () => Date;
  readonly log: Logger;
  /** Where links in mail point (`HAVEN_PUBLIC_ORIGIN`). */
  readonly publicOrigin: string;
  /** The module's own configuration slice. */
  readonly settings: Settings;
}

/**
 * What app.ts registers every clinical module's plugin with: the module's context and identity's
 * public API. `Identity` is named by the caller (identity's front door): platform knows no module.
 */
export interface ModuleOptions<Settings, Identity> {
  readonly context: ModuleContext<Settings>;
  readonly identity: Identity;
}

/**
 * A module's front door plugin: `register` declares the module's routes on the plugin's own
 * (encapsulated) instance, with the options app.ts gives it.
 */
export function defineModule<Options extends FastifyPluginOptions>(
  register: (app: FastifyInstance, options: Options) => void,
): FastifyPluginAsync<Options> {
  return async (app, options) => {
    register(app, options);
  };
}
