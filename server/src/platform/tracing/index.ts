// Optional OpenTelemetry traces (L4, issue 13 item 2): with OTEL_EXPORTER_OTLP_ENDPOINT set, every
// request becomes one server span exported over OTLP/HTTP (JSON) to that collector; unset, nothing
// is created and no hook is installed. The SDK's own tracer provider and exporter are used; the
// spans are made from Fastify's hooks rather than by monkey-patching `http` (auto-instrumentation
// must load before every other module, which a CLI that builds apps on demand cannot promise).
//
// What a span carries is chosen like a metric label: the route pattern (`/api/patients/:id`),
// never the raw URL, query string, ids, headers or bodies; the request id, so a trace can be
// joined to the access log. An incoming W3C `traceparent` continues the caller's trace. No global
// provider is registered: Haven's spans come from this provider only.
import { context, SpanKind, SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { FastifyInstance, FastifyRequest } from 'fastify';

export interface TracingOptions {
  /** The collector's base URL; spans go to `<endpoint>/v1/traces`. */
  readonly endpoint: string;
  readonly serviceName: string;
  readonly serviceVersion?: string;
}

export interface Tracing {
  readonly tracer: Tracer;
  /** Sends what is buffered; for tests and shutdown. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

const propagator = new W3CTraceContextPropagator();

export function createTracing(options: TracingOptions): Tracing {
  const exporter = new OTLPTraceExporter({
    url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces`,
  });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': options.serviceName,
      ...(options.serviceVersion ? { 'service.version': options.serviceVersion } : {}),
    }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  return {
    tracer: provider.getTracer('haven'),
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

const spans = new WeakMap<FastifyRequest, Span>();

const headerGetter = {
  keys: (carrier: FastifyRequest['headers']) => Object.keys(carrier),
  get: (carrier: FastifyRequest['headers'], key: string) => carrier[key],
};

/** One SERVER span per request, from the first hook to the response. */
export function installRequestTracing(app: FastifyInstance, tracing: Tracing): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const parent = propagator.extract(context.active(), request.headers, headerGetter);
    const span = tracing.tracer.startSpan(
      `${request.method}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': request.method, 'haven.request_id': request.id },
      },
      parent,
    );
    spans.set(request, span);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = spans.get(request);
    if (span !== undefined) {
      const route = request.routeOptions.url ?? 'unmatched';
      span.updateName(`${request.method} ${route}`);
      span.setAttributes({
        'http.route': route,
        'http.response.status_code': reply.statusCode,
      });
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      spans.delete(request);
    }
    done();
  });
}
