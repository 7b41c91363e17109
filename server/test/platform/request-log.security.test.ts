// L1/L2: every request leaves exactly one structured access line, carrying the request id,
// with secrets in the URL masked (one line instead of Fastify's two keeps the masker's cost
// per request down; issue 9, speed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createTestDatabase, type TestDatabase } from '../databases.js';
import { testEnv } from '../app-harness.js';
import { captureLog, type LogLine } from '../log-capture.js';

describe('request log', () => {
  let lines: LogLine[];
  let database: TestDatabase;
  let app: FastifyInstance;

  beforeAll(async () => {
    const captured = captureLog('info');
    lines = captured.lines;
    database = await createTestDatabase('pglite');
    app = await buildApp(loadConfig(testEnv()), {
      database,
      logger: captured.logger,
    });
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
    await database.close();
  });

  it('L1/traceability: one access line per request, with the request id, method, status and time; L2: a token in the query is masked', async () => {
    const secret = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8';
    const response = await app.inject({
      method: 'GET',
      url: `/api/no-such-route?token=${secret}`,
    });
    const requestId = response.headers['x-request-id'];
    const access = lines.filter((l) => l.msg === 'request completed');
    expect(access).toHaveLength(1);
    const [line] = access;
    expect(line).toMatchObject({ req: { method: 'GET' }, res: { statusCode: 404 } });
    expect(typeof line?.responseTimeMs).toBe('number');
    expect(line?.reqId).toBe(requestId);
    expect(JSON.stringify(lines)).not.toContain(secret);
    // The refusal's own line keeps its catalog code (a diagnostic, not an MFA code).
    const refused = lines.find((l) => l.msg === 'request refused' && l.reqId === requestId);
    expect(refused?.code).toBe('NOT_FOUND');
  });
});
