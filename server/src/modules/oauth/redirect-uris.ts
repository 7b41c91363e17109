// The rule every app redirect URI keeps (A12, OAuth 2.1 §2.3.1, RFC 8252 §7.3 and §8.3), in one
// place: registration refuses an address that breaks it, and the provider is never shown one
// that does, so an address stored before the rule tightened (apps registered with
// http://localhost) stops working instead of living on as an exception.
// The same URIs name where a public app's browser code runs, the only origins from which a
// browser may call the token endpoint or revocation for it (browserMayCallAs).

// Loopback IP literals only: RFC 8252 §8.3 advises against `localhost`, which a hosts file or
// resolver can point elsewhere, or answer on the other IP family than the app listens on.
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]']);

/**
 * What is wrong with an app's redirect URI, or undefined: it must be an absolute https URL, or
 * http on a loopback address for a native app; no fragment, no credentials. It is then compared
 * with what an authorization request names exactly, character for character (oidc-provider).
 */
export function redirectUriProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not an absolute URL';
  }
  if (url.hash !== '' || value.includes('#')) return 'must not have a fragment';
  if (url.username !== '' || url.password !== '') return 'must not carry a user name or password';
  const loopback = url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !loopback) {
    return 'must use https (or http on 127.0.0.1 or [::1] for an app on the same computer)';
  }
  return undefined;
}

/** The stored redirect URIs that keep the rule today: the only ones a browser may be sent to. */
export function usableRedirectUris(stored: readonly string[]): string[] {
  return stored.filter((uri) => redirectUriProblem(uri) === undefined);
}

/**
 * Whether a browser page at `origin` may call an OAuth endpoint (token, revocation) as this client
 * (A12, T5): only a public app (no secret: a single-page app), from the origin of one of its https
 * redirect URIs. A confidential client's secret never belongs in a browser.
 */
export function browserMayCallAs(
  publicClient: boolean,
  redirectUris: readonly string[],
  origin: string,
): boolean {
  return publicClient && browserOriginsOf(redirectUris).has(origin);
}

/** The origins of a public app's https redirect URIs: where its browser code runs. */
export function browserOriginsOf(redirectUris: readonly string[]): Set<string> {
  const origins = new Set<string>();
  for (const uri of redirectUris) {
    try {
      const url = new URL(uri);
      if (url.protocol === 'https:') origins.add(url.origin);
    } catch {
      // Registration admits absolute URLs only; anything else names no origin.
    }
  }
  return origins;
}
