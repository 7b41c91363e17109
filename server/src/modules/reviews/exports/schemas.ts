// Exports of a study: which rows, in which format, from where.
import { Type, type Static } from 'typebox';
import { Uuid } from '../shared/schemas.js';

export const DEFAULT_EXPORT_LIMIT = 10_000;
export const MAX_EXPORT_LIMIT = 100_000;

/** `kind` is one of four literals, so `archive` (its own static route) is never a kind. */
export const ExportParams = Type.Object(
  {
    studyId: Uuid,
    kind: Type.Union([
      Type.Literal('answers'),
      Type.Literal('assignments'),
      Type.Literal('analytics'),
      Type.Literal('participants'),
    ]),
  },
  { additionalProperties: false },
);

export const ArchiveParams = Type.Object({ studyId: Uuid }, { additionalProperties: false });

export const ExportQuery = Type.Object(
  {
    format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('ndjson')])),
    since: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
    /** The cursor of the previous page's `Link: <…>; rel="next"`. */
    after: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, pattern: '^[0-9A-Za-z:.~-]+$' }),
    ),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_EXPORT_LIMIT, default: DEFAULT_EXPORT_LIMIT }),
    ),
  },
  { additionalProperties: false },
);
export type ExportQueryView = Static<typeof ExportQuery>;

/** The body is a stream (CSV, NDJSON or ZIP); the schema documents it for the route table. */
export const ExportBody = Type.String({ description: 'CSV, NDJSON or ZIP bytes, streamed.' });
