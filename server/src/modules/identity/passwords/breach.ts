/**
 * Control A2: breached-password check against the HaveIBeenPwned range API (k-anonymity).
 * Only the first 5 hex characters of the SHA-1 leave the server; the match happens here.
 */
import { createHash } from 'node:crypto';
import { OutboundRequestError, type OutboundClient } from '../../../platform/http-client.js';

export interface BreachCheckConfig {
  /** e.g. `https://api.pwnedpasswords.com`; `/range/<prefix>` is appended. */
  baseUrl: string;
  /** The SSRF-safe client, allowlisted for the HIBP host only. */
  client: OutboundClient;
}

export type BreachCheckOutcome = 'breached' | 'passed' | 'unavailable';

const RANGE_LINE = /^([0-9A-F]{35}):(\d+)$/;

/**
 * Asks the range API whether `password` (already normalized) appears in a breach.
 * Network or protocol trouble yields 'unavailable' rather than an error: a third-party
 * outage must not stop users from setting passwords (the offline list still applies).
 */
export async function checkBreachedPassword(
  password: string,
  config: BreachCheckConfig,
): Promise<BreachCheckOutcome> {
  // SHA-1 is the API's format, not a security choice: the digest never leaves in full.
  const digest = createHash('sha1').update(password, 'utf8').digest('hex').toUpperCase();
  const prefix = digest.slice(0, 5);
  const suffix = digest.slice(5);
  const url = `${config.baseUrl.replace(/\/+$/, '')}/range/${prefix}`;

  let body: string;
  try {
    // Add-Padding makes every response a similar size, so an observer of the (encrypted)
    // response length cannot narrow down which prefix bucket, and so which password, it was.
    const res = await config.client.request(url, {
      headers: { 'Add-Padding': 'true', Accept: 'text/plain' },
    });
    if (res.status !== 200) return 'unavailable';
    body = res.body.toString('utf8');
  } catch (err) {
    if (err instanceof OutboundRequestError) return 'unavailable';
    throw err;
  }

  let recognised = 0;
  for (const line of body.split('\n')) {
    const match = RANGE_LINE.exec(line.trim().toUpperCase());
    if (!match) continue;
    recognised++;
    // Padding entries carry a count of 0: they are decoys, not breaches.
    if (match[1] === suffix && Number(match[2]) > 0) return 'breached';
  }
  // A 200 with nothing we recognise (a captive portal, a misrouted proxy) proves nothing.
  return recognised > 0 ? 'passed' : 'unavailable';
}
