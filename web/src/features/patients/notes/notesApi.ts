/** Clinical notes and their versions (docs/api/clinical.md, "Clinical notes"). */
import { NoteAnswer, NoteHistory, NoteList, type PortalNotesAnswer } from '@haven/contract';
import type { Static } from 'typebox';
import { answerOf, memberOf } from '../../../shared/schemaDecoding';

export const NOTE_MAX_LENGTH = 20_000;

export type Note = Static<typeof NoteAnswer>['note'];
export type NoteVersion = Note['current'];

export const decodeNotes = memberOf(NoteList, 'notes');
export const decodeNoteAnswer = memberOf(NoteAnswer, 'note');
export const decodeNoteHistory = answerOf(NoteHistory);

/** A note as the patient sees it (portal, break-glass): the current version of a shareable note. */
export type SharedNote = Static<typeof PortalNotesAnswer>['notes'][number];
