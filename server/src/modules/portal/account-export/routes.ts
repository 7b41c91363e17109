// GET /api/account/export: the caller's own data, for every role (account:read).
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireScopes } from '../../../platform/http/route-contract.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import type { IdentityApi } from '../../identity/index.js';
import { AccountExportSchema } from './schemas.js';
import { exportAccount } from './service.js';

export function registerAccountExportRoute(
  app: FastifyInstance,
  ctx: ModuleContext,
  identity: Pick<IdentityApi, 'listUserSessions'>,
): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/api/account/export',
    {
      config: { access: requireScopes(['account:read']), rateClass: 'sensitive' },
      schema: { response: { 200: AccountExportSchema } },
    },
    async (request) => exportAccount(ctx, identity, request),
  );
}
