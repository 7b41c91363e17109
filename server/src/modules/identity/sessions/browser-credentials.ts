// How browsers carry credentials (A5, A8): __Host- cookies (HttpOnly, Secure, SameSite=Strict,
// Path=/) that JavaScript never sees, and a CSRF token bound to the session — an HMAC of
// the session id under a key derived from the master key and the current cookie-secret
// generation (platform/cookie-secrets.ts), so it changes with every login and needs no
// storage per session. While a master key or generation is rotated (S2) tokens and
// refresh-cookie tags made under the previous one are still accepted, so no session breaks
// mid-rotation; a retired generation's are refused.
import { createHmac, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import { parse, serialize, type SerializeOptions } from 'cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  masterKeyOnlyGenerations,
  type CookieSecret,
  type CookieSecretGenerations,
} from '../../../platform/cookie-secrets.js';
import { constantTimeEqual, masterKeysOf } from '../../../platform/crypto.js';

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
  putCookie(reply, name, serialize(name, value, { ...BASE, maxAge: maxAgeSeconds }));
}

export function clearCookie(reply: FastifyReply, name: string): void {
  putCookie(reply, name, serialize(name, '', { ...BASE, maxAge: 0 }));
}

/**
 * Puts one cookie into the answer, replacing an earlier one of the same name: each name
 * appears once, with its last value. Fastify's `reply.header('set-cookie', …)` appends to
 * the cookies already set rather than replacing them, so the list is cleared and written
 * whole; passing the existing cookies back to it would repeat every one of them.
 */
function putCookie(reply: FastifyReply, name: string, serialized: string): void {
  const others = cookiesOf(reply).filter((cookie) => cookieName(cookie) !== name);
  reply.removeHeader('set-cookie');
  reply.header('set-cookie', [...others, serialized]);
}

function cookieName(serialized: string): string {
  return serialized.slice(0, serialized.indexOf('=')).trim();
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

/** Sessions whose CSRF token is remembered (about 100 bytes each). */
const CSRF_CACHE_SIZE = 10_000;

/**
 * HMAC keys for one use (`info`), one per master key and cookie-secret generation (the
 * generation's secret is the HKDF salt; generation 0 has none, the keys from before
 * generations existed), derived once each.
 */
function cookieKeys(
  info: string,
  masterKeys: readonly Buffer[],
  generations: CookieSecretGenerations,
) {
  const derived = new Map<string, KeyObject>();
  const keyOf = (master: Buffer, masterIndex: number, generation: CookieSecret): KeyObject => {
    const id = `${masterIndex}:${generation.generation}`;
    let key = derived.get(id);
    if (key === undefined) {
      const salt = generation.secret ?? Buffer.alloc(0);
      key = createSecretKey(Buffer.from(hkdfSync('sha256', master, salt, info, 32)));
      derived.set(id, key);
    }
    return key;
  };
  return {
    /** The key new values are made under: the current master key and generation. */
    current: () => keyOf(masterKeys[0]!, 0, generations.current()),
    /** Every key a presented value may have been made under. */
    accepted: (): KeyObject[] =>
      generations
        .accepted()
        .flatMap((generation) =>
          masterKeys.map((master, index) => keyOf(master, index, generation)),
        ),
  };
}

export function createCsrfTokens(
  masterKey: Buffer,
  previousMasterKey?: Buffer,
  generations: CookieSecretGenerations = masterKeyOnlyGenerations,
): CsrfTokens {
  // A previous master key or generation only checks, never issues: a page loaded before the
  // rotation keeps working until the next GET /api/auth/me hands it the current token.
  const keys = cookieKeys(
    'haven:csrf:v1',
    masterKeysOf({ masterKey, previousMasterKey }),
    generations,
  );
  const tokenUnder = (key: KeyObject, sessionId: string) =>
    createHmac('sha256', key).update(sessionId).digest('base64url');
  // GET /api/auth/me hands the token out on every call; an HMAC per call was a tenth of that
  // route's own CPU time. The token is a pure function of the session id and the current key,
  // so remembering it changes no answer (forgotten whole when the key changes); oldest
  // insertion is forgotten first.
  const remembered = new Map<string, string>();
  let rememberedUnder: KeyObject | undefined;
  const forSession = (sessionId: string): string => {
    const key = keys.current();
    if (key !== rememberedUnder) {
      remembered.clear();
      rememberedUnder = key;
    }
    let token = remembered.get(sessionId);
    if (token === undefined) {
      token = tokenUnder(key, sessionId);
      if (remembered.size >= CSRF_CACHE_SIZE) {
        remembered.delete(remembered.keys().next().value as string);
      }
      remembered.set(sessionId, token);
    }
    return token;
  };
  return {
    forSession,
    matches: (sessionId, presented) =>
      typeof presented === 'string' &&
      (constantTimeEqual(forSession(sessionId), presented) ||
        keys.accepted().some((key) => constantTimeEqual(tokenUnder(key, sessionId), presented))),
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

/**
 * The refresh cookie's value: `<session id>.<tag>.<refresh token>`, where the tag is an HMAC
 * of the session id under a key derived from the master key and the cookie-secret generation.
 * The rate limiter counts refreshes per session from it (R1) without a database lookup, and a
 * made-up session id has no valid tag, so it cannot buy a fresh budget. Only the token is
 * checked against the database; a cookie without the prefix (issued before it existed) is a
 * bare token.
 */
export interface RefreshCookies {
  encode(sessionId: string, refreshToken: string): string;
  /** The token to check, and the session id when its tag is ours (else undefined). */
  decode(value: string | undefined): {
    token: string | undefined;
    sessionId: string | undefined;
  };
}

const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TAG_LENGTH = 22; // 128 bits of base64url

export function createRefreshCookies(
  masterKey: Buffer,
  previousMasterKey?: Buffer,
  generations: CookieSecretGenerations = masterKeyOnlyGenerations,
): RefreshCookies {
  const keys = cookieKeys(
    'haven:refresh-session:v1',
    masterKeysOf({ masterKey, previousMasterKey }),
    generations,
  );
  const tagUnder = (k: KeyObject, sessionId: string): string =>
    createHmac('sha256', k).update(sessionId).digest('base64url').slice(0, TAG_LENGTH);
  return {
    encode: (sessionId, refreshToken) =>
      `${sessionId}.${tagUnder(keys.current(), sessionId)}.${refreshToken}`,
    decode(value) {
      if (value === undefined) return { token: undefined, sessionId: undefined };
      const parts = value.split('.');
      if (parts.length !== 3) return { token: value, sessionId: undefined };
      const [sessionId = '', tag = '', token = ''] = parts;
      const vouched =
        SESSION_ID.test(sessionId) &&
        tag.length === TAG_LENGTH &&
        keys.accepted().some((key) => constantTimeEqual(tagUnder(key, sessionId), tag));
      return { token, sessionId: vouched ? sessionId : undefined };
    },
  };
}
