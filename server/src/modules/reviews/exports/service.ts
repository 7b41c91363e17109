// Exports of a study (issue 10): answers, assignments, analytics (timings with their flags) and
// participants as CSV or NDJSON, keyset-paginated and streamed a page at a time; and the study
// archive (all four, every questionnaire version and the case set) as one streamed ZIP. Access is
// checked and the export audited (parameters, never content) before the first byte is sent.
import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import yazl from 'yazl';
import { requireAccess } from '../../../platform/access/index.js';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import { HavenError } from '../../../platform/errors.js';
import { requestContext } from '../../../platform/http/request-context.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { recordUserEvent } from '../../../platform/user-event.js';
import { csvHeader, csvRows, ndjsonRows, type ExportFormat } from './format.js';
import { EXPORT_KINDS, EXPORT_SOURCES, type ExportKind, type Window } from './sources.js';
import { releaseRows, type ExportRow } from './source-kit.js';

type Db = Kysely<DatabaseSchema>;
type Context = ModuleContext<Record<string, never>>;

/** Rows fetched per query while streaming: small enough for flat memory, big enough for speed. */
export const EXPORT_PAGE_ROWS = 2_000;

export interface ExportRequest {
  readonly studyId: string;
  readonly kind: ExportKind;
  readonly format: ExportFormat;
  readonly since: string | undefined;
  readonly after: string | undefined;
  readonly limit: number;
}

export interface ExportStream {
  readonly body: Readable;
  readonly contentType: string;
  readonly filename: string;
  /** The cursor of the next page, when rows remain after this one. */
  readonly next: string | undefined;
}

function parseSince(since: string | undefined): Date | null {
  if (since === undefined) return null;
  const instant = new Date(since);
  if (!Number.isFinite(instant.getTime()) || instant.getUTCFullYear() < 1970) {
    throw new HavenError('VALIDATION_FAILED', 'The since time is not valid.', {
      errors: [{ field: 'since', message: 'Give an ISO 8601 time after 1970.' }],
    });
  }
  return instant;
}

/** One chunk of an export: how many rows it holds, the last one's cursor, and its text. */
export interface TextChunk {
  readonly rows: number;
  readonly last: string | undefined;
  /**
   * The text in the order it is sent (one string, or pieces: see TEXT_PART_CHARS), written when
   * asked and the rows then let go of; called once.
   */
  readonly write: () => readonly string[];
}

/** One chunk of rows after a cursor (null: from the window's start). */
export type ChunkFetcher = (after: string | null) => Promise<TextChunk>;

/** One chunk of rows as objects, for formatting here; a fresh array, emptied once formatted. */
export type RowFetcher = (after: string | null) => Promise<ExportRow[]>;

/** Chunks of rows formatted by format.ts. */
export function formattedChunks(
  fetchRows: RowFetcher,
  format: ExportFormat,
  columns: readonly string[],
): ChunkFetcher {
  return async (after) => {
    const rows = await fetchRows(after);
    return {
      rows: rows.length,
      last: rows.at(-1)?.cursor,
      write: () => {
        const text = format === 'csv' ? csvRows(columns, rows) : ndjsonRows(rows);
        // Written: nothing may keep the rows from dying young (see releaseRows).
        releaseRows(rows);
        return [text];
      },
    };
  };
}

/**
 * Rows as text, pulled a chunk of `chunkRows` at a time: a query runs only when the reply asks
 * for more (read()), so a slow client holds the server to a bounded number of chunks whatever
 * the page's size. A full chunk sends the query of the next one before its own rows are written
 * (one chunk ahead, never more, so a slow client holds at most two chunks' rows): the database
 * runs it while this process formats and sends the chunk, instead of the two taking turns
 * (formatting first and querying after left the database idle while every chunk was formatted). Readable.from over an async generator would add a
 * promise and an iterator step per chunk and keep no explicit guard against a second read()
 * while a query is in flight; this class states both.
 */
export class ExportTextStream extends Readable {
  private after: string | null;
  private fetching = false;
  private headerSent = false;
  private finished = false;
  /** The next chunk's query, started when the previous chunk came back full. */
  private ahead: Promise<TextChunk> | undefined;

  constructor(
    private readonly fetchChunk: ChunkFetcher,
    private readonly chunkRows: number,
    /** Text before the first row (the CSV header; empty for NDJSON). */
    private readonly header: string,
    after: string | null,
  ) {
    super();
    this.after = after;
  }

  override _read(): void {
    if (this.fetching || this.finished) return;
    if (!this.headerSent) {
      this.headerSent = true;
      if (this.header !== '' && !this.push(this.header)) return;
    }
    this.fetching = true;
    this.nextChunk().then(
      (more) => {
        this.fetching = false;
        // The reply still wants data after this push: fetch on without waiting for a read().
        if (more) this._read();
      },
      (error: unknown) => this.destroy(error as Error),
    );
  }

  /** A client that went away: the chunk read ahead is not kept until the stream is collected. */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.ahead = undefined;
    callback(error);
  }

  /** Pushes one chunk; true when the consumer wants more and rows may remain. */
  private async nextChunk(): Promise<boolean> {
    const chunk = await (this.ahead ?? this.fetchChunk(this.after));
    this.ahead = undefined;
    if (this.destroyed) return false;
    if (chunk.rows < this.chunkRows || chunk.last === undefined) {
      this.finished = true;
    } else {
      this.after = chunk.last;
      this.ahead = this.fetchChunk(this.after);
      // Its failure is reported when the next chunk awaits it; a stream destroyed before then
      // (the client went away) must not leave an unhandled rejection behind.
      this.ahead.catch(() => undefined);
    }
    let wantsMore = true;
    // Every piece of a chunk already read is handed on; the last push tells whether to go on.
    for (const part of chunk.write()) if (part !== '') wantsMore = this.push(part);
    if (this.finished) {
      this.push(null);
      return false;
    }
    return wantsMore;
  }
}

function exportText(
  db: Db,
  studyId: string,
  kind: ExportKind,
  format: ExportFormat,
  window: Window,
  columns: readonly string[],
): Readable {
  const source = EXPORT_SOURCES[kind];
  const fetchRows: RowFetcher = (after) =>
    source.page(db, studyId, { ...window, after }, EXPORT_PAGE_ROWS);
  const formatted = formattedChunks(fetchRows, format, columns);
  let fetchChunk = formatted;
  const csvChunk = source.csvChunk?.bind(source);
  if (format === 'csv' && csvChunk !== undefined) {
    fetchChunk = async (after) => {
      const chunk = await csvChunk(db, studyId, { ...window, after }, EXPORT_PAGE_ROWS, columns);
      if (chunk.write !== null) return { rows: chunk.rows, last: chunk.last, write: chunk.write };
      // A row whose fields the database cannot write as format.ts would: the same window's
      // rows are formatted here instead.
      return formatted(after);
    };
  }
  const header = format === 'csv' ? csvHeader(columns) : '';
  return new ExportTextStream(fetchChunk, EXPORT_PAGE_ROWS, header, window.after);
}

async function auditExport(
  trx: Db,
  request: FastifyRequest,
  userId: string,
  studyId: string,
  details: Record<string, string | number | boolean | null>,
): Promise<void> {
  await recordUserEvent(trx, userId, requestContext(request), {
    action: 'review.exported',
    target: { type: 'study', id: studyId },
    details: { studyId, ...details },
  });
}

/** One page of an export, ready to stream; access checked and the request audited. */
export async function openExport(
  ctx: Context,
  request: FastifyRequest,
  input: ExportRequest,
): Promise<ExportStream> {
  const source = EXPORT_SOURCES[input.kind];
  const since = parseSince(input.since);
  if (input.after !== undefined) source.checkCursor(input.after);
  const after = input.after ?? null;
  const prepared = await ctx.db.transaction().execute(async (trx) => {
    const access = await requireAccess(trx, request, 'study:export', { studyId: input.studyId });
    // The page ends at its limit-th row; a row after it means a next page.
    const window: Window = { since, after, upTo: null };
    const { last, more, rows } = await source.pageEnd(trx, access.studyId, window, input.limit);
    const columns = await source.columns(trx, access.studyId);
    await auditExport(trx, request, access.userId, access.studyId, {
      kind: input.kind,
      format: input.format,
      since: input.since ?? null,
      after: input.after ?? null,
      limit: input.limit,
      rows,
    });
    return { studyId: access.studyId, columns, upTo: more ? (last ?? null) : null };
  });
  const window: Window = { since, after, upTo: prepared.upTo };
  const text = exportText(
    ctx.db,
    prepared.studyId,
    input.kind,
    input.format,
    window,
    prepared.columns,
  );
  return {
    body: text,
    contentType:
      input.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
    filename: `study-${prepared.studyId}-${input.kind}.${input.format}`,
    next: prepared.upTo ?? undefined,
  };
}

/** Every case of the study as one JSON array, a page of cases at a time. */
async function* casesJson(db: Db, studyId: string): AsyncGenerator<string> {
  yield '[';
  let after: string | null = null;
  let first = true;
  for (;;) {
    const rows = await db
      .selectFrom('review_cases')
      .select([
        'id',
        'external_id',
        'tree',
        'ai_score',
        'ai_explanation',
        'node_count',
        'created_at',
      ])
      .where('study_id', '=', studyId)
      .$if(after !== null, (qb) => qb.where('external_id', '>', after!))
      .orderBy('external_id')
      .limit(200)
      .execute();
    for (const row of rows) {
      const entry = {
        id: row.id,
        externalId: row.external_id,
        tree: row.tree,
        aiScore: row.ai_score,
        aiExplanation: row.ai_explanation,
        nodeCount: row.node_count,
        createdAt: row.created_at.toISOString(),
      };
      yield `${first ? '' : ','}\n${JSON.stringify(entry)}`;
      first = false;
    }
    if (rows.length < 200) break;
    after = rows[rows.length - 1]!.external_id;
  }
  yield '\n]\n';
}

/** A failed entry (the database went away) ends the download with an error, never a hang. */
function failWith(zip: yazl.ZipFile, entry: Readable): Readable {
  entry.once('error', (error) => (zip.outputStream as Readable).destroy(error));
  return entry;
}

/** The study archive for publication: the four exports, every questionnaire version, the cases. */
export async function openArchive(
  ctx: Context,
  request: FastifyRequest,
  studyId: string,
): Promise<ExportStream> {
  const prepared = await ctx.db.transaction().execute(async (trx) => {
    const access = await requireAccess(trx, request, 'study:export', { studyId });
    const versions = await trx
      .selectFrom('questionnaire_versions')
      .select([
        'id',
        'version',
        'title',
        'status',
        'questions',
        'attention_check',
        'created_at',
        'published_at',
      ])
      .where('study_id', '=', access.studyId)
      .orderBy('version')
      .execute();
    const columns = new Map<ExportKind, string[]>();
    for (const kind of EXPORT_KINDS) {
      columns.set(kind, await EXPORT_SOURCES[kind].columns(trx, access.studyId));
    }
    await auditExport(trx, request, access.userId, access.studyId, {
      kind: 'archive',
      format: 'zip',
      questionnaireVersions: versions.length,
    });
    return { studyId: access.studyId, versions, columns };
  });

  const zip = new yazl.ZipFile();
  const everything: Window = { since: null, after: null, upTo: null };
  for (const kind of EXPORT_KINDS) {
    const text = exportText(
      ctx.db,
      prepared.studyId,
      kind,
      'csv',
      everything,
      prepared.columns.get(kind)!,
    );
    // yazl reads each entry's stream only when it is that entry's turn: one page at a time.
    zip.addReadStream(failWith(zip, text), `${kind}.csv`);
  }
  for (const version of prepared.versions) {
    const document = {
      id: version.id,
      version: version.version,
      title: version.title,
      status: version.status,
      questions: version.questions,
      attentionCheck: version.attention_check,
      createdAt: version.created_at.toISOString(),
      publishedAt: version.published_at?.toISOString() ?? null,
    };
    zip.addBuffer(
      Buffer.from(`${JSON.stringify(document, null, 2)}\n`),
      `questionnaire-v${version.version}.json`,
    );
  }
  zip.addReadStream(
    failWith(zip, Readable.from(casesJson(ctx.db, prepared.studyId), { objectMode: false })),
    'cases.json',
  );
  zip.end();
  return {
    body: zip.outputStream as Readable,
    contentType: 'application/zip',
    filename: `study-${prepared.studyId}-archive.zip`,
    next: undefined,
  };
}
