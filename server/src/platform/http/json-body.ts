// The only body parser: strict JSON. Invalid UTF-8, excessive nesting, prototype poisoning,
// property names repeated in one object and strings that text columns cannot hold are refused
// before any handler sees the body (V1, bad-input rules).
import type { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { HavenError, type FieldError } from '../errors.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * NUL, or a lone surrogate (in a /u pattern, paired surrogates form one code point and do not
 * match). Strict UTF-8 decoding cannot see them: JSON escapes ("\u0000", "\ud800") carry them
 * through. PostgreSQL refuses NUL in text and stores a lone surrogate as U+FFFD, so a string
 * holding either would fail as a 500 or come back changed; every module gets the refusal here
 * instead of each schema remembering a pattern.
 */
// eslint-disable-next-line no-control-regex -- refusing NUL is the point
const UNSTORABLE = /[\u0000\uD800-\uDFFF]/u;
const UNSTORABLE_MESSAGE = 'must not contain U+0000 or an unpaired surrogate';
/** As many as the schema validator reports: enough to fix a form, bounded for a hostile body. */
const MAX_FIELD_ERRORS = 20;
const MAX_FIELD_LENGTH = 500;

/** What one walk over a parsed body found: unstorable strings, and how many members it has. */
interface BodyInspection {
  readonly found: FieldError[];
  members: number;
}

/**
 * Records the path (`body.contacts.0.value`) of every string holding an unstorable character,
 * whether a value or a property name, and counts the objects' members. A refused property name
 * is reported at its object's path, so the answer never echoes what was sent. Recursion is
 * bounded: the depth limit ran first.
 */
function inspectParsed(value: unknown, path: string, inspection: BodyInspection): void {
  const { found } = inspection;
  if (found.length >= MAX_FIELD_ERRORS) return;
  if (typeof value === 'string') {
    if (UNSTORABLE.test(value)) {
      found.push({ field: path.slice(0, MAX_FIELD_LENGTH), message: UNSTORABLE_MESSAGE });
    }
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const entries: Array<[string, unknown]> = Array.isArray(value)
    ? value.map((item, index) => [String(index), item])
    : Object.entries(value);
  if (!Array.isArray(value)) inspection.members += entries.length;
  for (const [key, child] of entries) {
    if (found.length >= MAX_FIELD_ERRORS) return;
    if (UNSTORABLE.test(key)) {
      found.push({
        field: path.slice(0, MAX_FIELD_LENGTH),
        message: `property names ${UNSTORABLE_MESSAGE}`,
      });
      continue;
    }
    inspectParsed(child, `${path}.${key}`, inspection);
  }
}

/**
 * The 400 for a parsed body holding unstorable strings or fewer members than its text wrote
 * (a property named twice in one object, which JSON.parse resolves silently to the last one: a
 * proxy or log reading the first would see another request than Haven acts on), or undefined.
 */
function parsedBodyError(body: unknown, membersInText: number): HavenError | undefined {
  const inspection: BodyInspection = { found: [], members: 0 };
  inspectParsed(body, 'body', inspection);
  const first = inspection.found[0];
  if (first) {
    return new HavenError('VALIDATION_FAILED', `${first.field}: ${first.message}`, {
      errors: inspection.found,
    });
  }
  if (inspection.members === membersInText) return undefined;
  return new HavenError('VALIDATION_FAILED', `body: ${DUPLICATE_MESSAGE}`, {
    errors: [{ field: 'body', message: DUPLICATE_MESSAGE }],
  });
}

const DUPLICATE_MESSAGE = 'an object names the same property more than once';

/** What one scan of a JSON text found before parsing it. */
export interface JsonTextScan {
  /** Brackets nest deeper than allowed (the scan stopped there). */
  readonly tooDeep: boolean;
  /** Object members written (in valid JSON, a colon outside a string ends a member's name). */
  readonly members: number;
}

/**
 * Bracket depth and member count of a JSON text, scanning outside strings. Written by hand
 * because the parsers we use (JSON.parse, secure-json-parse) have no depth limit and drop a
 * repeated property name without a trace; checking the parsed value afterwards would already
 * have paid for building the deep structure, and cannot see the lost member.
 */
export function scanJsonText(text: string, maxDepth: number): JsonTextScan {
  let depth = 0;
  let members = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c /* \ */) i++;
      else if (ch === 0x22 /* " */) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x3a /* : */) members++;
    else if (ch === 0x7b /* { */ || ch === 0x5b /* [ */) {
      if (++depth > maxDepth) return { tooDeep: true, members };
    } else if (ch === 0x7d || ch === 0x5d) depth--;
  }
  return { tooDeep: false, members };
}

/** The `charset` parameter of a Content-Type, lower case, quotes removed; undefined if none. */
const CHARSET_PARAMETER = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i;

/**
 * Whether a JSON body's declared charset is one Haven reads it in. JSON on the wire is UTF-8
 * (RFC 8259 §8.1) and the body is decoded as strict UTF-8 whatever the header says: a body
 * labelled UTF-16 or Latin-1 would be read by Haven as one text and by a proxy, a firewall or a
 * log that honours the label as another. Such a label is refused (415), not ignored.
 */
export function acceptableJsonCharset(contentType: string | undefined): boolean {
  const match = CHARSET_PARAMETER.exec(contentType ?? '');
  if (!match) return true;
  const charset = (match[1] ?? match[2] ?? '').toLowerCase();
  return charset === 'utf-8' || charset === 'utf8';
}

export function installJsonBodyParser(app: FastifyInstance, maxDepth: number): void {
  app.removeAllContentTypeParsers();
  const parse = (
    contentType: string | undefined,
    body: Buffer,
    done: (error: Error | null, value?: unknown) => void,
  ): void => {
    if (!acceptableJsonCharset(contentType)) {
      done(new HavenError('UNSUPPORTED_MEDIA_TYPE', 'JSON bodies are UTF-8.'), undefined);
      return;
    }
    let text: string;
    try {
      text = strictUtf8.decode(body);
    } catch {
      done(new HavenError('INVALID_UTF8'), undefined);
      return;
    }
    if (text.trim() === '') {
      done(new HavenError('INVALID_JSON', 'The body is empty.'), undefined);
      return;
    }
    const scan = scanJsonText(text, maxDepth);
    if (scan.tooDeep) {
      done(new HavenError('JSON_TOO_DEEP', `Nesting deeper than ${maxDepth} levels.`), undefined);
      return;
    }
    let value: unknown;
    try {
      value = secureJson.parse(text, undefined, {
        protoAction: 'error',
        constructorAction: 'error',
      });
    } catch {
      done(new HavenError('INVALID_JSON'), undefined);
      return;
    }
    const refused = parsedBodyError(value, scan.members);
    if (refused) done(refused, undefined);
    else done(null, value);
  };
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) =>
    parse(request.headers['content-type'], body as Buffer, done),
  );
  app.addContentTypeParser(
    /^application\/[a-z0-9.+-]+\+json$/,
    { parseAs: 'buffer' },
    (request, body, done) => parse(request.headers['content-type'], body as Buffer, done),
  );
}
