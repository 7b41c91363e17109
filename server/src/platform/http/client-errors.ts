// T4/V4: requests Node refuses on the socket, before Fastify routes them (headers over the cap,
// a request still arriving when its time is up, bytes that are not HTTP), are answered like
// every other refusal: problem+json with a request id and the security headers. Fastify's own
// handler answers them as plain JSON without either. The connection then closes.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import { ERROR_CATALOG, HavenError, toProblem, type ErrorCode } from '../errors.js';
import { FALLBACK_SECURITY_HEADERS } from './security-headers.js';

const SOCKET_ERRORS: Readonly<Record<string, ErrorCode>> = {
  ERR_HTTP_REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  HPE_HEADER_OVERFLOW: 'HEADERS_TOO_LARGE',
};

/** The raw HTTP/1.1 answer for a socket-level refusal. */
export function clientErrorAnswer(code: ErrorCode, requestId: string): string {
  const status = ERROR_CATALOG[code].status;
  const body = JSON.stringify(toProblem(new HavenError(code), requestId));
  const headers: Record<string, string> = {
    ...FALLBACK_SECURITY_HEADERS,
    'x-request-id': requestId,
    'content-type': 'application/problem+json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
  };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${lines.join('')}\r\n${body}`;
}

/** Fastify's `clientErrorHandler` (bound to the instance, hence `this.log`). */
export function answerClientError(
  this: { log: FastifyBaseLogger },
  error: Error & { code?: string },
  socket: Socket,
): void {
  // A reset connection has nobody left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code = SOCKET_ERRORS[error.code ?? ''] ?? 'BAD_REQUEST';
  const requestId = randomUUID();
  this.log.info({ code, requestId, reason: error.code }, 'request refused on the socket');
  // As Node's own handler does: never write into an answer that has already begun.
  const answer = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !answer?.headersSent) socket.write(clientErrorAnswer(code, requestId));
  socket.destroy(error);
}
