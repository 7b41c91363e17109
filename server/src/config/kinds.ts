// The kinds of value a configuration variable can hold. Each turns raw text into a typed value
// and reports, in words an operator can act on, what is wrong with it. An invalid value still
// yields a harmless stand-in so that parsing goes on and every problem is listed at once.
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import type { Kind, Report } from './row.js';
import type { Mode, RateLimitRule } from './types.js';

/** "a, b,,c" → ["a", "b", "c"]. */
function parseList(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** development | production | test; anything else is development. */
export function mode(): Kind<Mode> {
  return {
    type: '`development`, `production` or `test`',
    // A typo such as `prod` must not quietly start a production host in development mode
    // (generated key, open docs): only the three names are accepted; empty means unset.
    parse(raw, report) {
      if (raw === undefined || raw === '') return 'development';
      if (raw === 'development' || raw === 'production' || raw === 'test') return raw;
      report(`expected development, production or test, got "${raw.slice(0, 40)}"`);
      return 'production';
    },
  };
}

/** Any text, taken as it is. Without a default, unset stays undefined for a derived default. */
export function text(options: { readonly default: string; readonly type?: string }): Kind<string>;
export function text(options: { readonly type: string }): Kind<string | undefined>;
export function text(options: {
  readonly default?: string;
  readonly type?: string;
}): Kind<string | undefined> {
  return {
    type: options.type ?? 'text',
    default: options.default,
    // Empty is unset: `HOST=` must not mean "every interface".
    parse: (raw) => (raw === undefined || raw === '' ? options.default : raw),
  };
}

export function integer(options: {
  readonly default: string;
  readonly min: number;
  readonly max: number;
}): Kind<number> {
  const { min, max } = options;
  return {
    type: `integer, ${min} to ${max}`,
    default: options.default,
    parse(raw, report) {
      const text = raw ?? options.default;
      if (!/^\d+$/.test(text)) {
        report(`expected an integer, got "${text}"`);
        return Number(options.default);
      }
      const value = Number(text);
      if (value < min || value > max) {
        report(`must be between ${min} and ${max}, got ${value}`);
        return Number(options.default);
      }
      return value;
    },
  };
}

/** true/false (or 1/0). Without a default, unset stays undefined for a derived default. */
export function boolean(defaultValue: 'true' | 'false'): Kind<boolean>;
export function boolean(): Kind<boolean | undefined>;
export function boolean(defaultValue?: 'true' | 'false'): Kind<boolean | undefined> {
  return {
    type: '`true` or `false`',
    default: defaultValue,
    parse(raw, report) {
      const text = raw ?? defaultValue;
      if (text === undefined) return undefined;
      if (text === 'true' || text === '1') return true;
      if (text === 'false' || text === '0') return false;
      report(`expected true or false, got "${text}"`);
      return defaultValue === 'true';
    },
  };
}

/** "max/windowSeconds": at most `max` requests per `windowSeconds`. */
export function rate(defaultValue: string): Kind<RateLimitRule> {
  return {
    type: '`max/windowSeconds`',
    default: defaultValue,
    parse(raw, report) {
      const text = raw ?? defaultValue;
      const match = /^(\d{1,7})\/(\d{1,6})$/.exec(text);
      if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) {
        report(`expected "max/windowSeconds" such as 10/60, got "${text}"`);
        return { max: 1, windowMs: 60_000 };
      }
      return { max: Number(match[1]), windowMs: Number(match[2]) * 1000 };
    },
  };
}

/**
 * A comma-separated list; `problemOf` reports each bad item. A default replaces an unset or
 * empty value (an empty allowlist would silently cut every outbound call).
 */
export function list(options: {
  readonly type: string;
  readonly default?: string;
  readonly problemOf?: (item: string) => string | undefined;
}): Kind<readonly string[]> {
  return {
    type: options.type,
    default: options.default,
    parse(raw, report) {
      const items = parseList(raw || options.default);
      for (const item of items) {
        const problem = options.problemOf?.(item);
        if (problem !== undefined) report(problem);
      }
      return items;
    },
  };
}

/** A folder, resolved against the working directory. */
export function folder(
  options: { readonly default: string } | { readonly derived: string },
): Kind<string> {
  return {
    type: 'folder path',
    default: 'default' in options ? options.default : undefined,
    parse: (raw, _report, { cwd }) =>
      // Empty is unset, not "the working directory".
      path.resolve(cwd, raw || ('default' in options ? options.default : options.derived)),
  };
}

/** A file path; empty is the same as unset. */
export function file(): Kind<string | undefined> {
  return { type: 'file path', parse: (raw) => raw || undefined };
}

/** A kind without a default: unset stays undefined, and a set value goes to `parseSet`. */
function optional<T>(
  type: string,
  parseSet: (raw: string, report: Report) => T | undefined,
): Kind<T | undefined> {
  return { type, parse: (raw, report) => (raw === undefined ? undefined : parseSet(raw, report)) };
}

/** A TCP port, 1 to 65535; unset (or empty) stays undefined: the listener it names is off. */
export function optionalPort(): Kind<number | undefined> {
  return optional('integer, 1 to 65535', (raw, report) => {
    if (raw === '') return undefined;
    const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(value >= 1 && value <= 65_535)) {
      report(`expected a port from 1 to 65535, got "${raw.slice(0, 40)}"`);
      return undefined;
    }
    return value;
  });
}

/** A service URL whose scheme must match; unset means the embedded stand-in. */
export function serviceUrl(options: {
  readonly type: string;
  readonly scheme: RegExp;
  readonly problem: string;
}): Kind<string | undefined> {
  return optional(options.type, (raw, report) => {
    if (!options.scheme.test(raw)) report(options.problem);
    return raw;
  });
}

/** An http(s) URL; empty is the same as unset. */
export function httpUrl(): Kind<URL | undefined> {
  return {
    type: '`http://` or `https://` URL',
    parse(raw, report) {
      if (!raw) return undefined;
      try {
        const url = new URL(raw);
        if (url.protocol === 'http:' || url.protocol === 'https:') return url;
      } catch {
        // reported below, with the value
      }
      report(`"${raw}" is not an http(s) URL`);
      return undefined;
    },
  };
}

/** The base URL of an HTTP API, kept as written; undefined when unset or invalid. */
export function apiBaseUrl(): Kind<string | undefined> {
  return optional('`http://` or `https://` URL', (raw, report) => {
    if (/^https?:\/\/[^/]+/.test(raw) && URL.canParse(raw)) return raw;
    report('expected an http(s) URL');
    return undefined;
  });
}

/** Base64 of exactly 32 bytes; undefined when unset or invalid. */
export function key32(): Kind<Buffer | undefined> {
  return optional('base64 of 32 bytes', (raw, report) => {
    const decoded = Buffer.from(raw, 'base64');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(raw) || decoded.length !== 32) {
      report('must be base64 of exactly 32 bytes (openssl rand -base64 32)');
      return undefined;
    }
    return decoded;
  });
}

/** Known example values that must never protect a production deployment. */
const KNOWN_WEAK_KEYS = new Set([Buffer.alloc(32).toString('base64')]);

/** A key that is a known example or has few distinct bytes was typed, not generated. */
export function isWeakKey(key: Buffer): boolean {
  return KNOWN_WEAK_KEYS.has(key.toString('base64')) || new Set(key).size < 16;
}

/** Exact origins only: a wildcard would let any site make credentialed calls (T5). */
export function originProblem(origin: string): string | undefined {
  if (origin.includes('*')) return 'wildcards are not allowed; list exact origins';
  if (!URL.canParse(origin)) return `"${origin}" is not a valid origin`;
  if (new URL(origin).origin !== origin) {
    return `"${origin}" is not a bare origin (scheme://host[:port])`;
  }
  return undefined;
}

export function proxyProblem(proxy: string): string | undefined {
  const valid = proxy.includes('/') ? isCidr(proxy) : ipaddr.isValid(proxy);
  return valid ? undefined : `"${proxy}" is not an IP address or CIDR`;
}

function isCidr(value: string): boolean {
  try {
    ipaddr.parseCIDR(value);
    return true;
  } catch {
    return false;
  }
}

const ROLES = ['admin', 'clinician', 'researcher', 'participant', 'patient'];

/** Roles that must use MFA. Administrators always must: the catalogue allows no opting out. */
export function mfaRoles(defaultValue: string): Kind<readonly string[]> {
  return {
    type: `comma-separated roles among ${ROLES.map((role) => `\`${role}\``).join(', ')}`,
    default: defaultValue,
    parse(raw, report) {
      const roles = parseList(raw ?? defaultValue);
      const unknown = roles.filter((role) => !ROLES.includes(role));
      if (unknown.length > 0) report(`unknown roles ${unknown.join(', ')}`);
      if (!roles.includes('admin')) report('must include admin');
      return roles;
    },
  };
}

/**
 * An IANA time zone (`Europe/Berlin`, `UTC`), checked against the zones this Node knows, so a
 * typo is refused at start instead of every mail falling back to UTC.
 */
export function timeZone(defaultValue: string): Kind<string> {
  return {
    type: 'IANA time zone',
    default: defaultValue,
    parse(raw, report) {
      const zone = raw === undefined || raw === '' ? defaultValue : raw;
      try {
        new Intl.DateTimeFormat('en', { timeZone: zone });
        return zone;
      } catch {
        report(`expected an IANA time zone such as Europe/Berlin, got "${zone.slice(0, 60)}"`);
        return defaultValue;
      }
    },
  };
}
