// One browser's cookies for tests that play the browser's part of an OAuth flow through
// app.inject (sign-in, consent page, redirects): remembers Set-Cookie answers and sends them back.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { ACCESS_COOKIE } from '../src/modules/identity/index.js';

/** A cookie jar of one browser: name → value, from Set-Cookie answers. */
export class Browser {
  private readonly cookies = new Map<string, string>();

  remember(response: LightMyRequestResponse): void {
    const header = response.headers['set-cookie'];
    for (const line of Array.isArray(header) ? header : header ? [header] : []) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /**
   * Signed in to Haven as `person`: the access cookie the SPA's sign-in leaves, with the
   * session's access token (an Actor's `authorization` carries it as a bearer token).
   */
  signIn(person: { readonly authorization: string }): this {
    this.cookies.set(ACCESS_COOKIE, person.authorization.replace(/^Bearer /, ''));
    return this;
  }

  /** A cookie the browser's owner sets by hand (a forgery, in these tests). */
  set(name: string, value: string): void {
    this.cookies.set(name, value);
  }

  /** A GET with this browser's cookies (and `headers`, for a request a script adds them to). */
  async get(
    app: FastifyInstance,
    url: string,
    headers: Record<string, string> = {},
  ): Promise<LightMyRequestResponse> {
    const target = new URL(url, 'http://haven.invalid');
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await app.inject({
      method: 'GET',
      url: `${target.pathname}${target.search}`,
      headers: cookie ? { ...headers, cookie } : headers,
    });
    this.remember(response);
    return response;
  }
}
