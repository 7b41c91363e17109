// Clinical notes: a note with its current version, the full version history, and the bodies
// of a new note and of a correction.
import { Type, type Static } from 'typebox';
import { UUID } from '../records/schemas.js';

export const NoteVersionSchema = Type.Object(
  {
    version: Type.Integer({ minimum: 1 }),
    body: Type.String({ maxLength: 20_000 }),
    shareable: Type.Boolean(),
    author: Type.Object(
      { id: Type.String({ maxLength: 36 }), displayName: Type.String({ maxLength: 100 }) },
      { additionalProperties: false },
    ),
    createdAt: Type.String({ maxLength: 40 }),
    correctionReason: Type.Union([Type.String({ maxLength: 500 }), Type.Null()]),
  },
  { additionalProperties: false },
);
export const NoteSchema = Type.Object(
  {
    id: Type.String({ maxLength: 36 }),
    createdAt: Type.String({ maxLength: 40 }),
    current: NoteVersionSchema,
    versionCount: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);
export type NoteVersionView = Static<typeof NoteVersionSchema>;
export type NoteView = Static<typeof NoteSchema>;

export const NoteAnswer = Type.Object({ note: NoteSchema }, { additionalProperties: false });
export const NoteList = Type.Object(
  { notes: Type.Array(NoteSchema, { maxItems: 100_000 }) },
  { additionalProperties: false },
);
export const NoteHistory = Type.Object(
  { note: NoteSchema, versions: Type.Array(NoteVersionSchema, { maxItems: 100_000 }) },
  { additionalProperties: false },
);
export const NoteParams = Type.Object(
  { patientId: UUID, noteId: UUID },
  { additionalProperties: false },
);

const NoteBody = Type.String({ minLength: 1, maxLength: 20_000 });
export const NewNoteBody = Type.Object(
  { body: NoteBody, shareable: Type.Boolean() },
  { additionalProperties: false },
);
export type NewNoteInput = Static<typeof NewNoteBody>;
export const CorrectionBody = Type.Object(
  {
    body: NoteBody,
    shareable: Type.Boolean(),
    reason: Type.String({ minLength: 1, maxLength: 500 }),
  },
  { additionalProperties: false },
);
export type CorrectionInput = Static<typeof CorrectionBody>;

/** 20 000 characters of up to 4 UTF-8 bytes each, plus the rest of the body. */
export const NOTE_BODY_LIMIT = 90_000;
