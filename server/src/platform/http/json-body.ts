// The only body parser: strict JSON. Invalid UTF-8, excessive nesting and prototype
// poisoning are refused before any handler sees the body (V1, bad-input rules).
import type { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { HavenError } from '../errors.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Maximum bracket depth of a JSON text, scanning outside strings. Written by hand because
 * the parsers we use (JSON.parse, secure-json-parse) have no depth limit, and checking the
 * parsed value afterwards would already have paid for building the deep structure.
 */
export function jsonDepthExceeds(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c /* \ */) i++;
      else if (ch === 0x22 /* " */) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b /* { */ || ch === 0x5b /* [ */) {
      if (++depth > maxDepth) return true;
    } else if (ch === 0x7d || ch === 0x5d) depth--;
  }
  return false;
}

export function installJsonBodyParser(app: FastifyInstance, maxDepth: number): void {
  app.removeAllContentTypeParsers();
  const parse = (body: Buffer, done: (error: Error | null, value?: unknown) => void): void => {
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
    if (jsonDepthExceeds(text, maxDepth)) {
      done(new HavenError('JSON_TOO_DEEP', `Nesting deeper than ${maxDepth} levels.`), undefined);
      return;
    }
    try {
      done(
        null,
        secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }),
      );
    } catch {
      done(new HavenError('INVALID_JSON'), undefined);
    }
  };
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) =>
    parse(body as Buffer, done),
  );
  app.addContentTypeParser(
    /^application\/[a-z0-9.+-]+\+json$/,
    { parseAs: 'buffer' },
    (_request, body, done) => parse(body as Buffer, done),
  );
}
