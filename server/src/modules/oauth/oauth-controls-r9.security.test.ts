// OAuth threats found by mutation round 9:
// - A12: a token-endpoint form naming a parameter twice. Haven's own checks read the parsed form
//   (the last value wins in it) while the provider parses the text again and may act on the
//   first: every repeated parameter is refused before either reads it.
// - V3: the page a browser sees when an authorization cannot continue writes the provider's
//   error text, which can echo parts of the request, as text, never as markup.
// - V1: an app registering more redirect URIs than the five an app may have.
import { expect, it } from 'vitest';
import { describeClinic } from '../../../test/clinical-actors.js';
import { renderAuthorizationError } from './error-page.js';

it('V3/XSS: the authorization error page writes the error text escaped, so markup in it is shown, not run', () => {
  const ctx = { type: '', body: '' };
  renderAuthorizationError(ctx, {
    error: 'invalid_request',
    error_description: '<script>alert(document.cookie)</script><img src=x onerror="alert(1)">',
  });
  expect(ctx.type).toBe('html');
  expect(ctx.body).not.toContain('<script');
  expect(ctx.body).not.toContain('<img');
  expect(ctx.body).toContain('&lt;script&gt;alert(document.cookie)&lt;/script&gt;');
  expect(ctx.body).toContain('onerror=&quot;alert(1)&quot;');
});

describeClinic('OAuth controls (round 9)', (clinic) => {
  const post = (url: string, payload: string) =>
    clinic.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload,
    });

  it('A12/parameter pollution: a form naming a parameter twice is refused at the token, revocation and introspection endpoints', async () => {
    for (const [url, payload] of [
      ['/oauth/token', 'grant_type=client_credentials&grant_type=authorization_code'],
      ['/oauth/token', 'grant_type=client_credentials&scope=files%3Aread&scope=files%3Awrite'],
      ['/oauth/token/revocation', 'token=a&token=b'],
      ['/oauth/token/introspection', 'token=a&token=b'],
    ] as const) {
      const res = await post(url, payload);
      expect(res.statusCode, `${url} ${payload}: ${res.body}`).toBe(400);
      // In OAuth's own format (RFC 6749 §5.2: a repeated parameter is invalid_request).
      expect(res.json(), `${url} ${payload}`).toMatchObject({
        error: 'invalid_request',
        error_description: 'A parameter appears more than once.',
      });
    }
  });
  it('V1/unbounded list: an app with more than five redirect URIs is refused (400 naming the field); five are fine', async () => {
    const admin = await clinic.actor(['admin']);
    const uris = (n: number) =>
      Array.from({ length: n }, (_, i) => `https://app-r9.example/callback/${i}`);
    const register = (redirectUris: string[]) =>
      clinic.call(admin, 'POST', '/api/admin/oauth-clients', {
        name: 'Round 9 app',
        kind: 'app',
        scopes: ['portal:read'],
        redirectUris,
      });
    const refused = await register(uris(6));
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.body).toContain('redirectUris');
    const allowed = await register(uris(5));
    expect(allowed.statusCode, allowed.body).toBe(201);
  });
});
