// How browsers carry credentials (A5, A8): __Host- cookies (HttpOnly, Secure, SameSite=Strict,
// Path=/) that JavaScript never sees, and a CSRF token bound to the session — an HMAC of
// the session id under a key derived from the master key, so it changes with every login
// and needs no storage.
import { createHmac, hkdfSync } from 'node:crypto';
import { parse, serialize, type SerializeOptions } from 'cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { constantTimeEqual } from '../../platform/crypto.js';

export const ACCESS_COOKIE = '__Host-haven_at';
export const REFRESH_COOKIE = '__Host-haven_rt';
export const MFA_PENDING_COOKIE = '__Host-haven_mfa';
export const CSRF_HEADER = 'x-csrf-token';

const BASE: SerializeOptions = { httpOnly: true, secure: true, sameSite: 'strict', path: '/' };

export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined || header.length > 8192) return undefined;
  return parse(header)[name];
}

export function setCookie(
  reply: FastifyReply,
  name: string,
  value: string,
  maxAgeSeconds: number,
): void {
  reply.header('set-cookie', [
    ...cookiesOf(reply),
    serialize(name, value, { ...BASE, maxAge: maxAgeSeconds }),
  ]);
}

export function clearCookie(reply: FastifyReply, name: string): void {
  reply.header('set-cookie', [...cookiesOf(reply), serialize(name, '', { ...BASE, maxAge: 0 })]);
}

function cookiesOf(reply: FastifyReply): string[] {
  const existing = reply.getHeader('set-cookie');
  if (existing === undefined) return [];
  return Array.isArray(existing) ? existing.map(String) : [String(existing)];
}

export interface CsrfTokens {
  forSession(sessionId: string): string;
  matches(sessionId: string, presented: string | undefined): boolean;
}

export function createCsrfTokens(masterKey: Buffer): CsrfTokens {
  const key = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'haven:csrf:v1', 32));
  const forSession = (sessionId: string): string =>
    createHmac('sha256', key).update(sessionId).digest('base64url');
  return {
    forSession,
    matches: (sessionId, presented) =>
      typeof presented === 'string' && constantTimeEqual(forSession(sessionId), presented),
  };
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function isStateChanging(method: string): boolean {
  return UNSAFE_METHODS.has(method);
}

/**
 * The request comes from our own pages: Origin equals one of ours, or (when a browser sends
 * no Origin) Sec-Fetch-Site says same-origin. Requests with neither are refused.
 */
export function isSameSiteRequest(
  request: FastifyRequest,
  allowedOrigins: ReadonlySet<string>,
): boolean {
  const origin = request.headers.origin;
  if (typeof origin === 'string') return allowedOrigins.has(origin);
  const site = request.headers['sec-fetch-site'];
  return site === 'same-origin';
}
