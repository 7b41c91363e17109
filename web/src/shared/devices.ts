/**
 * A session's browser and system in words ("Chrome on macOS"), read from the User-Agent the
 * server stored. Parsing User-Agent strings is a moving target (new browsers, frozen Client
 * Hints values), so it is left to bowser, a small, widely used parser, rather than written here.
 */
import Bowser from 'bowser';

/** "Chrome on macOS", "Safari on iOS", "Firefox"; "Unknown browser" when nothing is known. */
export function deviceName(userAgent: string | null): string {
  if (!userAgent) return 'Unknown browser';
  const parsed = Bowser.parse(userAgent);
  const browser = parsed.browser.name ?? '';
  const system = parsed.os.name ?? '';
  if (browser && system) return `${browser} on ${system}`;
  if (browser || system) return browser || system;
  // Not a browser Haven knows (a script, a test client): say so, keep the product visible.
  const product = /^[\w.-]{1,40}/.exec(userAgent)?.[0];
  return product ? `Other app (${product})` : 'Unknown browser';
}
