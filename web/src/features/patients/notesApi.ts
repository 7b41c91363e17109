/** Clinical notes and their versions (docs/api/clinical.md, "Clinical notes"). */
import {
  expectBoolean,
  expectNumber,
  expectRecord,
  expectString,
  optionalString,
  type Decoder,
} from '../../shared/api';
import { expectArray, field } from '../../shared/decoding';

export interface NoteVersion {
  version: number;
  body: string;
  shareable: boolean;
  author: { id: string; displayName: string };
  createdAt: string;
  correctionReason: string | null;
}

export interface Note {
  id: string;
  createdAt: string;
  current: NoteVersion;
  versionCount: number;
}

/** A note as the patient sees it: the current version of a shareable note. */
export interface SharedNote {
  id: string;
  body: string;
  createdAt: string;
  updatedAt: string;
  author: { displayName: string };
}

function decodeVersion(value: unknown): NoteVersion {
  const r = expectRecord(value, 'note version');
  const author = expectRecord(r['author'], 'author');
  return {
    version: expectNumber(r, 'version'),
    body: expectString(r, 'body'),
    shareable: expectBoolean(r, 'shareable'),
    author: { id: expectString(author, 'id'), displayName: expectString(author, 'displayName') },
    createdAt: expectString(r, 'createdAt'),
    correctionReason: optionalString(r, 'correctionReason'),
  };
}

function decodeNote(value: unknown): Note {
  const r = expectRecord(value, 'note');
  return {
    id: expectString(r, 'id'),
    createdAt: expectString(r, 'createdAt'),
    current: decodeVersion(r['current']),
    versionCount: expectNumber(r, 'versionCount'),
  };
}

export function decodeSharedNote(value: unknown): SharedNote {
  const r = expectRecord(value, 'note');
  const author = expectRecord(r['author'], 'author');
  return {
    id: expectString(r, 'id'),
    body: expectString(r, 'body'),
    createdAt: expectString(r, 'createdAt'),
    updatedAt: expectString(r, 'updatedAt'),
    author: { displayName: expectString(author, 'displayName') },
  };
}

export const decodeNotes: Decoder<Note[]> = (body) =>
  expectArray(expectRecord(body, 'answer'), 'notes', decodeNote);

export const decodeNoteAnswer = field('note', decodeNote);

export const decodeNoteHistory: Decoder<{ note: Note; versions: NoteVersion[] }> = (body) => {
  const r = expectRecord(body, 'answer');
  return { note: decodeNote(r['note']), versions: expectArray(r, 'versions', decodeVersion) };
};

export const decodeSharedNotes: Decoder<SharedNote[]> = (body) =>
  expectArray(expectRecord(body, 'answer'), 'notes', decodeSharedNote);

export const NOTE_MAX_LENGTH = 20_000;
