// The four row exports by name (`kind` in the route).
import { analytics, answers } from './answer-sources.js';
import { assignments, participants } from './roster-sources.js';
import type { ExportSource } from './source-kit.js';

export const EXPORT_KINDS = ['answers', 'assignments', 'analytics', 'participants'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

export { QUESTION_COLUMN_PREFIX, type Cell, type ExportRow, type Window } from './source-kit.js';

export const EXPORT_SOURCES: Readonly<Record<ExportKind, ExportSource>> = Object.freeze({
  answers,
  assignments,
  analytics,
  participants,
});
