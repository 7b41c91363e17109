// The rule every app redirect URI keeps (A12, OAuth 2.1 §2.3.1, RFC 8252 §7.3 and §8.3), in one
// place: registration refuses an address that breaks it, and the provider is never shown one
// that does, so an address stored before the rule tightened (apps registered with
// http://localhost) stops working instead of living on as an exception.

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
