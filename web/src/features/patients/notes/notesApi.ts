/** Clinical notes and their versions (docs/api/clinical.md, "Clinical notes"). */
import { bool, field, listOf, num, object, optionalText, text } from '../../../shared/decoding';

export const NOTE_MAX_LENGTH = 20_000;

const decodeVersion = object('note version', {
  version: num,
  body: text,
  shareable: bool,
  author: object('author', { id: text, displayName: text }),
  createdAt: text,
  correctionReason: optionalText,
});
export type NoteVersion = ReturnType<typeof decodeVersion>;

const decodeNote = object('note', {
  id: text,
  createdAt: text,
  current: decodeVersion,
  versionCount: num,
});
export type Note = ReturnType<typeof decodeNote>;

/** A note as the patient sees it: the current version of a shareable note. */
export const decodeSharedNote = object('note', {
  id: text,
  body: text,
  createdAt: text,
  updatedAt: text,
  author: object('author', { displayName: text }),
});
export type SharedNote = ReturnType<typeof decodeSharedNote>;

export const decodeNotes = field('notes', listOf(decodeNote));
export const decodeNoteAnswer = field('note', decodeNote);
export const decodeNoteHistory = object('answer', {
  note: decodeNote,
  versions: listOf(decodeVersion),
});
export const decodeSharedNotes = field('notes', listOf(decodeSharedNote));
