// L1/L2: the only way Haven builds a logger. Every line is re-sanitized as the final step before
// the stream (hooks.streamWrite), so child loggers, Fastify's request logger, custom serializers,
// child formatter overrides and message interpolation cannot bypass masking.
import { pino, stdSerializers } from 'pino';
import type { DestinationStream, Logger, LoggerOptions } from 'pino';

const REDACTED = '[REDACTED]';
const PII = '[PII]';
// Bounds keep a huge, deep or hostile object from costing unbounded CPU/memory per log line.
const LIMITS = { depth: 10, keys: 100, items: 100, chars: 8192, nodes: 5000 } as const;
// Keys whose raw value must reach our serializers (which whitelist fields) untouched.
const SERIALIZED_KEYS = new Set(['req', 'res', 'err']);

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

// Free-text rules, applied in order to every string (messages, error messages/stacks, URLs, keys).
// Each pattern starts with a lookbehind so it is tried once per run, keeping matching linear.
const TEXT_RULES: ReadonlyArray<readonly [RegExp, string]> = [
  [/\b(Bearer|bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}/g, `$1 ${REDACTED}`],
  // JWS/JWE compact serialization: three base64url segments.
  [/(?<![\w-])[\w-]{10,}\.[\w-]{10,}\.[\w-]{10,}(?:\.[\w-]+)*/g, REDACTED],
  // "password=...", "token: ...", JSON fragments like "refresh_token":"..." and query strings.
  [
    /(?<![\w-])((?:[\w-]*(?:password|passwd|passphrase|secret|token|api[_-]?key|private[_-]?key|cookie|authorization|csrf|otp|mfa[_-]?code|recovery[_-]?code))|code|key|pwd|sid|session[_-]?id)(["']?\s*[:=]\s*["']?)[^\s"'&,;}]+/gi,
    `$1$2${REDACTED}`,
  ],
  [/(?<![\w.%+-])[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g, '[EMAIL]'],
  [/\b(?:MRN|medical record (?:number|no\.?))[\s#:=-]*[A-Za-z0-9-]*\d[A-Za-z0-9-]*/gi, '[MRN]'],
  [/(?<!\d)\d{3}[- ]\d{2}[- ]\d{4}(?!\d)/g, '[SSN]'],
  [
    /\b(DOB|D\.O\.B\.?|date[ _-]?of[ _-]?birth|birth[ _-]?date|birthday|born(?: on)?)(\W{0,4})(\d{4}-\d{2}-\d{2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4})/gi,
    '$1$2[DOB]',
  ],
  [
    /\b((?:[Ff]irst|[Ll]ast|[Ff]ull|[Dd]isplay|[Pp]atient|[Gg]iven|[Ff]amily)?[ _-]?[Nn]ame)(["']?\s*[:=]\s*["']?)[^\s"',;}]+(?:\s+[A-Z][\w'-]*){0,3}/g,
    `$1$2${PII}`,
  ],
  [/(?<![\w+])\+\d(?:[\s.()-]{0,2}\d){7,14}(?!\d)/g, '[PHONE]'],
  [/(?<![\w-])(?:1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-]?)\d{3}[\s.-]?\d{4}(?![\w-])/g, '[PHONE]'],
  [
    /\b\d{1,6}\s+(?:[A-Z][A-Za-z]*\.?\s+){1,4}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Parkway|Pkwy|Highway|Hwy|Circle|Cir)\b\.?/g,
    '[ADDRESS]',
  ],
  // Opaque tokens/keys (refresh tokens, API keys, hex secrets): long base64url runs with letters and digits.
  [/(?<![\w-])(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[\w-]{32,}/g, REDACTED],
];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function classifyKey(key: string): 'secret' | 'pii' | undefined {
  const k = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  for (const c of k.endsWith('s') ? [k, k.slice(0, -1)] : [k]) {
    if (SECRET_EXACT.has(c) || SECRET_SUFFIX.test(c) || SECRET_PREFIX.test(c)) return 'secret';
    if (PII_EXACT.has(c) || PII_SUFFIX.test(c)) return 'pii';
  }
  return undefined;
}

/** Masks secrets/PII in free text. Long text is cut first, at a delimiter, so no partial identifier survives. */
export function maskText(text: string): string {
  let s = text;
  if (s.length > LIMITS.chars) {
    let end = LIMITS.chars - 40; // room for the marker, so a second pass leaves the text unchanged
    const stop = end - 80;
    while (end > stop && !/[\s"',;<>{}[\]]/.test(s.charAt(end - 1))) end--;
    s = `${s.slice(0, end)}…[truncated ${text.length - end} chars]`;
  }
  for (const [pattern, replacement] of TEXT_RULES) s = s.replace(pattern, replacement);
  return s;
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

function field(key: string, value: unknown, errorLike: boolean, depth: number, w: Walk): unknown {
  // null/booleans carry no secret ("mfaEnabled": true is useful and harmless).
  if (value === null || value === undefined || typeof value === 'boolean') return value;
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
  // Null prototype: a logged "__proto__" key stays data instead of rewiring the copy.
  const out = Object.create(null) as Record<string, unknown>;
  const keys = Object.keys(src);
  const max = depth === 0 ? w.topKeys : LIMITS.keys;
  const keep = keys.length > max ? max - 1 : keys.length; // marker fits the limit
  for (const key of keys.slice(0, keep)) {
    out[maskText(key)] = field(key, src[key], errorLike, depth, w);
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

function sanitize(value: unknown, topKeys: number): unknown {
  return walk(value, 0, { nodes: LIMITS.nodes, topKeys, ancestors: new Set() });
}

// Early pass on the merging object: bounds size before pino stringifies it. `req`/`res`/`err` go
// to the serializers below untouched so they can pick fields from the live objects.
function sanitizeLogObject(obj: Record<string, unknown>): Record<string, unknown> {
  const rest: Record<string, unknown> = {};
  const passthrough: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    (SERIALIZED_KEYS.has(key) ? passthrough : rest)[key] = value;
  }
  const clean = maskPii(rest);
  return { ...(isRecord(clean) ? clean : {}), ...passthrough };
}

// Final pass on the exact bytes about to be written; fails closed if the line is not JSON.
function sanitizeLine(line: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return `${JSON.stringify({ level: 'error', time: new Date().toISOString(), msg: 'log line dropped: not JSON' })}\n`;
  }
  // The line also holds pino's fields and child bindings: let them through beyond the object's key limit.
  return `${JSON.stringify(sanitize(parsed, 3 * LIMITS.keys))}\n`;
}

// Query values can carry reset/invitation tokens, OAuth codes or emails; keep only parameter names.
function redactQuery(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q + 1) + url.slice(q + 1).replace(/=[^&#]*/g, `=${REDACTED}`);
}

/** Fastify/pino serializers: whitelisted fields only; headers (Authorization, Cookie) and bodies never. */
export const requestSerializers = {
  req(req: unknown): unknown {
    if (!isRecord(req)) return undefined;
    const socket = req.socket;
    return {
      id: req.id,
      method: req.method,
      url: typeof req.url === 'string' ? redactQuery(req.url) : undefined,
      remoteAddress: req.ip ?? (isRecord(socket) ? socket.remoteAddress : undefined),
    };
  },
  res(res: unknown): unknown {
    return { statusCode: isRecord(res) ? res.statusCode : undefined };
  },
  err(err: unknown): unknown {
    return maskPii(err instanceof Error ? stdSerializers.err(err) : err);
  },
};

export function createLogger(options: { level: string; destination?: DestinationStream }): Logger {
  const loggerOptions: LoggerOptions = {
    level: options.level,
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: requestSerializers,
    formatters: {
      level: (label) => ({ level: label }),
      bindings: sanitizeLogObject,
      log: sanitizeLogObject,
    },
    hooks: { streamWrite: sanitizeLine },
  };
  return options.destination ? pino(loggerOptions, options.destination) : pino(loggerOptions);
}
