// Master-key rotation (S2) must not break a session: while the replaced key is configured as
// the previous one, CSRF tokens and refresh-cookie tags made under it still pass, and new
// ones are made under the current key only.
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { createCsrfTokens, createRefreshCookies } from './browser-credentials.js';

const session = '2b8c1d4e-5f60-4a71-8b92-a3b4c5d6e7f8';

it('S2/sessions: a CSRF token made under the previous master key still passes, and only while it is configured', () => {
  const [older, newer] = [randomBytes(32), randomBytes(32)];
  const oldToken = createCsrfTokens(older).forSession(session);
  expect(createCsrfTokens(newer, older).matches(session, oldToken)).toBe(true);
  expect(createCsrfTokens(newer).matches(session, oldToken)).toBe(false);
  expect(createCsrfTokens(newer, older).matches(session, 'x'.repeat(43))).toBe(false);
  expect(createCsrfTokens(newer, older).forSession(session)).toBe(
    createCsrfTokens(newer).forSession(session),
  );
});

it('S2/sessions: a refresh cookie tagged under the previous master key still names its session', () => {
  const [older, newer] = [randomBytes(32), randomBytes(32)];
  const cookie = createRefreshCookies(older).encode(session, 'token');
  expect(createRefreshCookies(newer, older).decode(cookie)).toEqual({
    token: 'token',
    sessionId: session,
  });
  expect(createRefreshCookies(newer).decode(cookie)).toEqual({
    token: 'token',
    sessionId: undefined,
  });
  expect(createRefreshCookies(newer, older).encode(session, 'token')).toBe(
    createRefreshCookies(newer).encode(session, 'token'),
  );
});
