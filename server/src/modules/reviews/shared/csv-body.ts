// CSV uploads (case files, assignment sheets): the reviews plugin accepts `text/csv` bodies as
// strict UTF-8 text, byte order mark removed. Invalid UTF-8 is refused before any handler runs;
// the rows themselves are parsed by csv-parse in the room that owns the upload, which reports
// bad quoting, column counts and oversized records with their line numbers.
import type { FastifyInstance } from 'fastify';
import { HavenError } from '../../../platform/errors.js';

/** The largest CSV upload (100,000 assignment rows fit with room to spare). */
export const CSV_BODY_LIMIT = 32 * 1024 * 1024;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Registers the parser on the reviews plugin's own instance (encapsulated: no other module). */
export function acceptCsvBodies(app: FastifyInstance): void {
  app.addContentTypeParser(
    ['text/csv'],
    { parseAs: 'buffer', bodyLimit: CSV_BODY_LIMIT },
    (_request, body, done) => {
      try {
        // TextDecoder drops a leading BOM itself (ignoreBOM: false).
        done(null, strictUtf8.decode(body as Buffer));
      } catch {
        done(new HavenError('INVALID_UTF8', 'The file is not valid UTF-8 text.'), undefined);
      }
    },
  );
}
