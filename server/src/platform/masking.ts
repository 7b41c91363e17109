// L2: secret and PII masking of anything about to leave the process as text — log lines (see
// logging.ts, which runs it on every line) and audit details. Keys are classified by name,
// strings by free-text rules; every walk is bounded in depth, keys, items, characters and nodes.
import { ERROR_CATALOG } from './errors.js';

export const REDACTED = '[REDACTED]';
const PII = '[PII]';
// Bounds keep a huge, deep or hostile object from costing unbounded CPU/memory per log line.
export const LIMITS = { depth: 10, keys: 100, items: 100, chars: 8192, nodes: 5000 } as const;
// Keys whose raw value must reach our serializers (which whitelist fields) untouched.
export const SERIALIZED_KEYS = new Set(['req', 'res', 'err']);

// Key names are compared lower-cased with separators removed: "X-CSRF-Token" -> "xcsrftoken".
const SECRET_EXACT = new Set('code key pin sid auth jwt otp totp mfa salt'.split(' '));
const SECRET_SUFFIX =
  /(?:password|passwd|passphrase|pwd|secret|token|key|cookie|authorization|credential|csrf|xsrf|otp|sessionid|signature|(?:mfa|totp|recovery|backup|verification|reset|auth|invite|invitation|setup)code)$/;
const SECRET_PREFIX =
  /^(?:password|passwd|secret|privatekey|authorization|cookie|csrf|xsrf|totp|otp|mfa|recovery)/;
const PII_EXACT = new Set(
  `name firstname lastname middlename givenname familyname surname fullname displayname
  preferredname maidenname username email phone mobile fax tel telephone birthdate dob
  dateofbirth birthday mrn medicalrecordnumber ssn socialsecuritynumber nationalid address
  addresses street streetaddress line1 line2 addressline1 addressline2 city postalcode
  postcode zip zipcode`.split(/\s+/),
);
const PII_SUFFIX =
  /(?:email|emailaddress|phone|phonenumber|mobilenumber|firstname|lastname|middlename|fullname|displayname|givenname|familyname|surname|patientname|birthdate|dateofbirth|dob|mrn|ssn|streetaddress|homeaddress|mailingaddress|postaladdress|postalcode|zipcode)$/;
// `code` on an error is a diagnostic constant (ECONNREFUSED, FST_ERR_*, SQLSTATE 23505), not an MFA code.
const ERROR_CODE = /^(?:[A-Z][A-Z0-9_]{2,63}|[0-9A-Z]{5})$/;

/** What one pass over a string found; a rule runs only when the string could match it. */
interface TextFeatures {
  readonly text: string;
  /** ASCII digits. */
  readonly digits: number;
  /** Longest run of [A-Za-z0-9_-] (what `[\w-]` matches without the u flag). */
  readonly longestWord: number;
  readonly at: boolean;
  readonly colonOrEquals: boolean;
  readonly dot: boolean;
  readonly plus: boolean;
  /** ASCII whitespace, or any non-ASCII character (some of which `\s` matches). */
  readonly space: boolean;
}

function featuresOf(text: string): TextFeatures {
  let digits = 0;
  let run = 0;
  let longestWord = 0;
  let at = false;
  let colonOrEquals = false;
  let dot = false;
  let plus = false;
  let space = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const digit = c >= 48 && c <= 57;
    if (digit) digits++;
    if (digit || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45) {
      if (++run > longestWord) longestWord = run;
      continue;
    }
    run = 0;
    if (c === 64) at = true;
    else if (c === 58 || c === 61) colonOrEquals = true;
    else if (c === 46) dot = true;
    else if (c === 43) plus = true;
    else if (c === 32 || (c >= 9 && c <= 13) || c > 127) space = true;
  }
  return { text, digits, longestWord, at, colonOrEquals, dot, plus, space };
}

// Keywords each rule below needs (compared as that rule compares them), for the pre-checks.
const SECRET_ASSIGNMENT_WORD =
  /pass|secret|token|key|cookie|authorization|csrf|otp|code|pwd|sid|session/i;
const MRN_WORD = /mrn|medical record/i;
const BIRTH_WORD = /dob|d\.o\.b|birth|born/i;

// Free-text rules, applied in order to every string (messages, error messages/stacks, URLs, keys).
// Each pattern starts with a lookbehind so it is tried once per run, keeping matching linear.
// `could` is a necessary condition for the pattern to match, checked on the features of the
// text before any rule ran: no replacement adds digits, '@', ':', '=', '.', '+' or whitespace,
// lengthens a [\w-] run or forms a keyword (each inserts a bracketed marker or keeps text of
// the match), so a rule skipped by its check could not have matched later either. The output
// is the same as running every rule; the check only saves the work (L2, issue 9).
const TEXT_RULES: ReadonlyArray<readonly [RegExp, string, (f: TextFeatures) => boolean]> = [
  [
    /\b(Bearer|bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}/g,
    `$1 ${REDACTED}`,
    (f) => f.space && (f.text.includes('earer') || f.text.includes('Basic')),
  ],
  // JWS/JWE compact serialization: three base64url segments.
  [
    /(?<![\w-])[\w-]{10,}\.[\w-]{10,}\.[\w-]{10,}(?:\.[\w-]+)*/g,
    REDACTED,
    (f) => f.dot && f.longestWord >= 10,
  ],
  // "password=...", "token: ...", JSON fragments like "refresh_token":"..." and query strings.
  [
    /(?<![\w-])((?:[\w-]*(?:password|passwd|passphrase|secret|token|api[_-]?key|private[_-]?key|cookie|authorization|csrf|otp|mfa[_-]?code|recovery[_-]?code))|code|key|pwd|sid|session[_-]?id)(["']?\s*[:=]\s*["']?)[^\s"'&,;}]+/gi,
    `$1$2${REDACTED}`,
    (f) => f.colonOrEquals && SECRET_ASSIGNMENT_WORD.test(f.text),
  ],
  [
    /(?<![\w.%+-])[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g,
    '[EMAIL]',
    (f) => f.at,
  ],
  [
    /\b(?:MRN|medical record (?:number|no\.?))[\s#:=-]*[A-Za-z0-9-]*\d[A-Za-z0-9-]*/gi,
    '[MRN]',
    (f) => f.digits > 0 && MRN_WORD.test(f.text),
  ],
  [/(?<!\d)\d{3}[- ]\d{2}[- ]\d{4}(?!\d)/g, '[SSN]', (f) => f.digits >= 9],
  [
    /\b(DOB|D\.O\.B\.?|date[ _-]?of[ _-]?birth|birth[ _-]?date|birthday|born(?: on)?)(\W{0,4})(\d{4}-\d{2}-\d{2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4})/gi,
    '$1$2[DOB]',
    (f) => f.digits >= 4 && BIRTH_WORD.test(f.text),
  ],
  [
    /\b((?:[Ff]irst|[Ll]ast|[Ff]ull|[Dd]isplay|[Pp]atient|[Gg]iven|[Ff]amily)?[ _-]?[Nn]ame)(["']?\s*[:=]\s*["']?)[^\s"',;}]+(?:\s+[A-Z][\w'-]*){0,3}/g,
    `$1$2${PII}`,
    (f) => f.colonOrEquals && f.text.includes('ame'),
  ],
  [/(?<![\w+])\+\d(?:[\s.()-]{0,2}\d){7,14}(?!\d)/g, '[PHONE]', (f) => f.plus && f.digits >= 8],
  [
    /(?<![\w-])(?:1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-]?)\d{3}[\s.-]?\d{4}(?![\w-])/g,
    '[PHONE]',
    (f) => f.digits >= 10,
  ],
  [
    /\b\d{1,6}\s+(?:[A-Z][A-Za-z]*\.?\s+){1,4}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Parkway|Pkwy|Highway|Hwy|Circle|Cir)\b\.?/g,
    '[ADDRESS]',
    (f) => f.digits > 0 && f.space,
  ],
  // Opaque tokens/keys (refresh tokens, API keys, hex secrets): long base64url runs with letters and digits.
  [
    /(?<![\w-])(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[\w-]{32,}/g,
    REDACTED,
    (f) => f.longestWord >= 32 && f.digits > 0,
  ],
];

/** Direct identifiers the rules above find, named by their marker: `[DOB]` → 'dob', `[PII]` a name. */
export type PiiKind = 'email' | 'mrn' | 'ssn' | 'dob' | 'pii' | 'phone' | 'address';
const PII_MARKER = /\[(EMAIL|MRN|SSN|DOB|PII|PHONE|ADDRESS)\]$/;
const PII_RULES = TEXT_RULES.flatMap(([pattern, replacement, could]) => {
  const kind = PII_MARKER.exec(replacement)?.[1]?.toLowerCase() as PiiKind | undefined;
  return kind ? [{ pattern, kind, could }] : [];
});

/**
 * Which PII rule of the masker matches in `text`, if any: the same detector, for callers that
 * refuse identifiers instead of masking them (the reviews de-identification guard). `search`
 * leaves the shared patterns' lastIndex untouched.
 */
export function detectPiiInText(text: string): PiiKind | undefined {
  const features = featuresOf(text);
  return PII_RULES.find((rule) => rule.could(features) && text.search(rule.pattern) !== -1)?.kind;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

type KeyKind = 'secret' | 'pii' | undefined;

function classifyKeyUncached(key: string): KeyKind {
  const k = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  for (const c of k.endsWith('s') ? [k, k.slice(0, -1)] : [k]) {
    if (SECRET_EXACT.has(c) || SECRET_SUFFIX.test(c) || SECRET_PREFIX.test(c)) return 'secret';
    if (PII_EXACT.has(c) || PII_SUFFIX.test(c)) return 'pii';
  }
  return undefined;
}

/** True when the masker treats a field of this name as personal data ("patient_name", "dob"). */
export function isPiiKeyName(key: string): boolean {
  return classifyKeyUncached(key) === 'pii';
}

/**
 * Key names repeat on every line (level, time, reqId, req, url …), so their classification
 * and masked form are remembered. Only keys that masking leaves unchanged are kept: those are
 * written to the log verbatim anyway, so the cache holds nothing the log does not. Bounded:
 * once full it keeps its entries and further keys are worked out each time.
 */
const KEY_CACHE_SIZE = 2048;
export const keyCache = new Map<string, KeyKind>();

function classifyKey(key: string): KeyKind {
  const cached = keyCache.get(key);
  if (cached !== undefined || keyCache.has(key)) return cached;
  return classifyKeyUncached(key);
}

/** maskText for an object key, and classification, through the cache above. */
export function maskKey(key: string): string {
  if (keyCache.has(key)) return key;
  const masked = maskText(key);
  if (masked === key && keyCache.size < KEY_CACHE_SIZE && key.length <= 64) {
    keyCache.set(key, classifyKeyUncached(key));
  }
  return masked;
}

/** Long text is cut first, at a delimiter, so no partial identifier survives. */
function truncate(text: string): string {
  let s = text;
  if (s.length > LIMITS.chars) {
    let end = LIMITS.chars - 40; // room for the marker, so a second pass leaves the text unchanged
    const stop = end - 80;
    while (end > stop && !/[\s"',;<>{}[\]]/.test(s.charAt(end - 1))) end--;
    s = `${s.slice(0, end)}…[truncated ${text.length - end} chars]`;
  }
  return s;
}

/**
 * Rules run again until the text stops changing (at most this many passes): a marker can open
 * a new match, as in "DOB1961-04-12Bearer abcdefgh" → "DOB[DOB]Bearer abcdefgh", where
 * "Bearer" now starts a word. So one pass masks as much as any number of passes would, and
 * the masked text is a fixed point (masking it again changes nothing).
 */
const MAX_PASSES = 4;

function maskPasses(text: string, pass: (s: string) => string): string {
  let s = truncate(text);
  for (let i = 0; i < MAX_PASSES; i++) {
    const next = pass(s);
    if (next === s) break;
    s = next;
  }
  return s;
}

function checkedPass(text: string): string {
  const features = featuresOf(text);
  let s = text;
  for (const [pattern, replacement, could] of TEXT_RULES) {
    if (could(features)) s = s.replace(pattern, replacement);
  }
  return s;
}

function exhaustivePass(text: string): string {
  let s = text;
  for (const [pattern, replacement] of TEXT_RULES) s = s.replace(pattern, replacement);
  return s;
}

/** pino's timestamp, on every line: no rule can match it (tested), so it is passed as is. */
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Masks secrets/PII in free text. Long text is cut first, at a delimiter, so no partial identifier survives. */
export function maskText(text: string): string {
  if (text.length === 24 && ISO_TIMESTAMP.test(text)) return text;
  return maskPasses(text, checkedPass);
}

/**
 * maskText without the pre-checks: every rule runs on every string. The reference the
 * pre-checks are tested against (they must never change an output); not used for logging.
 */
export function maskTextExhaustive(text: string): string {
  return maskPasses(text, exhaustivePass);
}

interface Walk {
  nodes: number;
  topKeys: number;
  ancestors: Set<object>;
}

function errorRecord(e: Error): Record<string, unknown> {
  const rec: Record<string, unknown> = {
    type: e.constructor.name || e.name,
    message: e.message,
    stack: e.stack,
  };
  for (const k of Object.keys(e)) rec[k] = Reflect.get(e, k);
  if (e.cause !== undefined) rec.cause = e.cause;
  if (e instanceof AggregateError) rec.errors = e.errors;
  return rec;
}

/** Keys whose UUID values are request ids: minted by us or accepted well-formed (L1). */
const REQUEST_ID_KEYS = new Set(['reqId', 'requestId']);
const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function field(key: string, value: unknown, errorLike: boolean, depth: number, w: Walk): unknown {
  // null/booleans carry no secret ("mfaEnabled": true is useful and harmless).
  if (value === null || value === undefined || typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    // L1: a request id must survive, or an error's requestId matches no log line. The opaque-
    // token rule would mask a UUID; a UUID under these keys is an id, not a credential.
    if (REQUEST_ID_KEYS.has(key) && UUID_SHAPE.test(value)) return value;
    // A code from the error catalog (`{ code: 'RATE_LIMITED' }`) is a diagnostic, never an
    // MFA or recovery code (those are digits or lower-case); anything else under `code` is not.
    if (key === 'code' && Object.hasOwn(ERROR_CATALOG, value)) return value;
  }
  const kind = classifyKey(key);
  if (kind === 'secret') {
    const diagnostic =
      errorLike && key === 'code' && typeof value === 'string' && ERROR_CODE.test(value);
    return diagnostic ? value : REDACTED;
  }
  if (kind === 'pii') return PII;
  return walk(value, depth + 1, w);
}

function walkObject(value: object, depth: number, w: Walk): unknown {
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    return `[Binary ${value.byteLength} bytes]`;
  }
  if (value instanceof Map) return walk(Object.fromEntries(value), depth + 1, w);
  if (value instanceof Set) return walk([...value], depth + 1, w);
  if (Array.isArray(value)) {
    const keep = value.length > LIMITS.items ? LIMITS.items - 1 : value.length; // marker fits the limit
    const out = value.slice(0, keep).map((item: unknown) => walk(item, depth + 1, w));
    if (keep < value.length) out.push(`[${value.length - keep} more items]`);
    return out;
  }
  const toJSON: unknown = Reflect.get(value, 'toJSON');
  if (!(value instanceof Error) && typeof toJSON === 'function') {
    return walk((toJSON as (this: object) => unknown).call(value), depth + 1, w);
  }
  const src = value instanceof Error ? errorRecord(value) : (value as Record<string, unknown>);
  const errorLike =
    value instanceof Error || (typeof src.message === 'string' && typeof src.stack === 'string');
  // A plain object literal, fast to fill and to stringify (a null-prototype one is a slow
  // dictionary); a logged "__proto__" key is defined as data instead of rewiring the copy.
  const out: Record<string, unknown> = {};
  const keys = Object.keys(src);
  const max = depth === 0 ? w.topKeys : LIMITS.keys;
  const keep = keys.length > max ? max - 1 : keys.length; // marker fits the limit
  for (const [index, key] of keys.entries()) {
    if (index >= keep) break;
    const name = maskKey(key);
    const value = field(key, src[key], errorLike, depth, w);
    if (name === '__proto__') {
      Object.defineProperty(out, name, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      out[name] = value;
    }
  }
  if (keep < keys.length) out['[truncated]'] = `${keys.length - keep} more keys`;
  return out;
}

function walk(value: unknown, depth: number, w: Walk): unknown {
  switch (typeof value) {
    case 'string':
      return maskText(value);
    case 'bigint':
      return value.toString();
    case 'function':
    case 'symbol':
      return undefined;
    case 'object':
      break;
    default:
      return value;
  }
  if (value === null) return null;
  if (w.ancestors.has(value)) return '[Circular]';
  if (depth >= LIMITS.depth || --w.nodes < 0) return '[Truncated]';
  w.ancestors.add(value);
  try {
    return walkObject(value, depth, w);
  } catch {
    return '[Unserializable]'; // throwing getters/toJSON must not take the request down with them
  } finally {
    w.ancestors.delete(value);
  }
}

/**
 * Returns a bounded, JSON-safe copy with secret-named keys "[REDACTED]", PII-named keys "[PII]"
 * and every string masked by the free-text rules. Also usable outside logging (e.g. audit details).
 */
export function maskPii(value: unknown): unknown {
  return sanitize(value, LIMITS.keys);
}

export function sanitize(value: unknown, topKeys: number): unknown {
  return walk(value, 0, { nodes: LIMITS.nodes, topKeys, ancestors: new Set() });
}
