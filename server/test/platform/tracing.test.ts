// L4 (issue 13, item 2): optional OpenTelemetry traces, tested against an in-process OTLP/HTTP
// receiver on a private port. Threat (privacy): a span exporting a raw URL ships patient ids and
// query strings to a collector outside the audit trail; spans carry the route pattern only.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { afterEach, expect, it } from 'vitest';
import { createTracing, installRequestTracing } from '../../src/platform/tracing/index.js';
import { createTestApp } from '../app-harness.js';

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: number | string };
}
interface OtlpSpan {
  name: string;
  kind: number;
  traceId: string;
  parentSpanId?: string;
  attributes: OtlpAttribute[];
  status?: { code?: number };
}
interface OtlpExport {
  resourceSpans: Array<{
    resource: { attributes: OtlpAttribute[] };
    scopeSpans: Array<{ spans: OtlpSpan[] }>;
  }>;
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** An OTLP/HTTP collector that keeps every JSON export it receives on /v1/traces. */
async function otlpReceiver(): Promise<{ endpoint: string; exports: OtlpExport[] }> {
  const exports: OtlpExport[] = [];
  const server: Server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.url === '/v1/traces' && request.method === 'POST') {
        exports.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport);
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, exports };
}

const attribute = (span: OtlpSpan, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value?.stringValue ?? (value?.intValue === undefined ? undefined : Number(value.intValue));
};

it('L4/traces: each request is one server span named by its route pattern, exported over OTLP, continuing a caller’s traceparent; no ids or query strings leave', async () => {
  const receiver = await otlpReceiver();
  const tracing = createTracing({ endpoint: receiver.endpoint, serviceName: 'haven-test' });
  closers.push(() => tracing.shutdown());
  const app = Fastify();
  installRequestTracing(app, tracing);
  app.get('/api/patients/:patientId', () => ({ ok: true }));
  app.get('/api/fails', () => {
    throw new Error('boom');
  });
  await app.ready();
  closers.push(() => app.close());

  const patientId = '0b4f7a52-4a1e-4f52-9a55-3e0f6f6f0c11';
  const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
  await app.inject({
    method: 'GET',
    url: `/api/patients/${patientId}?name=Lovelace`,
    headers: { traceparent: `00-${callerTrace}-00f067aa0ba902b7-01` },
  });
  await app.inject({ method: 'GET', url: '/api/fails' });
  await app.inject({ method: 'GET', url: '/nowhere/secret-path' });
  await tracing.flush();

  const spans = receiver.exports
    .flatMap((e) => e.resourceSpans.flatMap((r) => r.scopeSpans))
    .flatMap((s) => s.spans);
  expect(spans.map((s) => s.name).sort()).toEqual([
    'GET /api/fails',
    'GET /api/patients/:patientId',
    'GET unmatched',
  ]);
  const patient = spans.find((s) => s.name === 'GET /api/patients/:patientId')!;
  expect(patient.kind).toBe(2); // SERVER
  expect(patient.traceId).toBe(callerTrace);
  expect(patient.parentSpanId).toBe('00f067aa0ba902b7');
  expect(attribute(patient, 'http.route')).toBe('/api/patients/:patientId');
  expect(attribute(patient, 'http.response.status_code')).toBe(200);
  expect(attribute(patient, 'haven.request_id')).toBeTruthy();
  const failed = spans.find((s) => s.name === 'GET /api/fails')!;
  expect(failed.status?.code).toBe(2); // ERROR
  const everything = JSON.stringify(receiver.exports);
  expect(everything).not.toContain(patientId);
  expect(everything).not.toContain('Lovelace');
  expect(everything).not.toContain('secret-path');
  const service = receiver.exports[0]!.resourceSpans[0]!.resource.attributes.find(
    (a) => a.key === 'service.name',
  );
  expect(service?.value.stringValue).toBe('haven-test');
});

it('L4/traces: Haven with OTEL_EXPORTER_OTLP_ENDPOINT set exports its requests by route pattern, and sends the last spans when it closes', async () => {
  const receiver = await otlpReceiver();
  const { app, close } = await createTestApp('pglite', {
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_SERVICE_NAME: 'haven-node-1' },
  });
  const patientId = '6d1c1a3e-2b7f-4c55-8f0e-0d6a5b1c9e77';
  const refused = await app.inject({ method: 'GET', url: `/api/patients/${patientId}` });
  expect(refused.statusCode).toBe(401);
  await close();
  const spans = receiver.exports
    .flatMap((e) => e.resourceSpans.flatMap((r) => r.scopeSpans))
    .flatMap((s) => s.spans);
  const span = spans.find((s) => s.name === 'GET /api/patients/:patientId');
  expect(span, JSON.stringify(spans.map((s) => s.name))).toBeDefined();
  expect(attribute(span!, 'http.response.status_code')).toBe(401);
  expect(JSON.stringify(receiver.exports)).not.toContain(patientId);
  expect(JSON.stringify(receiver.exports)).toContain('haven-node-1');
});
