// Upload sessions and the parts storage acknowledged for them (F2).
import { sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import type { DatabaseSchema, UploadSessionsTable } from '../../../platform/db/schema.js';

type Db = Kysely<DatabaseSchema>;

/** A live writer (a PATCH, a completion, a cancel) renews its mark this often (keepWriterAlive). */
export const WRITER_HEARTBEAT_MS = 5_000;
/**
 * A mark not renewed for this long belongs to a PATCH that died (its node crashed, or its
 * release met a database outage): four renewals missed. The upload is then free for the client's
 * next attempt within seconds, not after every request timeout could have run out. A writer that
 * lost its mark records nothing (recordHeldParts needs it), and its part files are versions no
 * record names, so a late writer cannot replace what another recorded.
 */
const WRITER_STALE = '20 seconds';

const SESSION_COLUMNS = [
  'id',
  'owner_id',
  'patient_id',
  'organization_id',
  'bucket',
  'bucket_id',
  'protocol',
  'object_key',
  'storage_upload_id',
  'file_name',
  'file_type',
  'content_type',
  'declared_size',
  'declared_sha256',
  'received_bytes',
  'status',
  'failure_reason',
  'created_at',
  'expires_at',
] as const;

/** A session as SESSION_COLUMNS reads it. */
export type SessionRow = Pick<Selectable<UploadSessionsTable>, (typeof SESSION_COLUMNS)[number]>;

export async function insertSession(
  db: Db,
  session: Insertable<UploadSessionsTable>,
): Promise<SessionRow> {
  return db
    .insertInto('upload_sessions')
    .values(session)
    .returning(SESSION_COLUMNS)
    .executeTakeFirstOrThrow();
}

/** The caller's own session; anyone else's is not found (Z4). */
export async function selectOwnSession(
  db: Db,
  ownerId: string,
  sessionId: string,
): Promise<SessionRow | undefined> {
  return db
    .selectFrom('upload_sessions')
    .select(SESSION_COLUMNS)
    .where('id', '=', sessionId)
    .where('owner_id', '=', ownerId)
    .executeTakeFirst();
}

/** The caller's unfinished uploads, newest first. */
export async function selectOpenSessions(db: Db, ownerId: string, limit: number) {
  return db
    .selectFrom('upload_sessions')
    .select(SESSION_COLUMNS)
    .where('owner_id', '=', ownerId)
    .where('status', '=', 'open')
    .orderBy('created_at', 'desc')
    .limit(limit)
    .execute();
}

/**
 * Marks the session as being written by `token`, unless another live request holds it. Returns
 * false when it is held (or no longer open). Compared on the database clock, so nodes agree.
 */
export async function claimWriter(db: Db, sessionId: string, token: string): Promise<boolean> {
  const result = await claimQuery(db, sessionId, token).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

function claimQuery(db: Db, sessionId: string, token: string) {
  return db
    .updateTable('upload_sessions')
    .set({ writer_token: token, writer_since: sql<Date>`now()` })
    .where('id', '=', sessionId)
    .where('status', '=', 'open')
    .where((eb) =>
      eb.or([
        eb('writer_token', 'is', null),
        eb('writer_since', '<', sql<Date>`now() - ${WRITER_STALE}::interval`),
      ]),
    );
}

/**
 * claimWriter for a PATCH, in the same statement as the ownership check (Z4) and the read of the
 * session with how many parts it has: one round trip instead of two. Undefined when the session
 * is not the owner's of this protocol, is held by a live writer, or is no longer open; the caller
 * reads the session again only then, to tell which.
 *
 * Its commit is not waited onto the disk (`synchronous_commit` off for this statement only): the
 * mark is never acknowledged to anyone by itself, it is flushed with the PATCH's next commit (its
 * parts, or the release), and one lost to a crash leaves the upload as a crash leaves it anyway,
 * with no live writer. The other requests see it as soon as it commits, flushed or not. On the
 * embedded database that saves a WAL flush per PATCH that blocks the event loop. Never call it
 * inside a transaction: the setting would cover that whole transaction's commit.
 */
export async function claimOwnWriter(
  db: Db,
  ownerId: string,
  sessionId: string,
  protocol: 'tus' | 's3',
  token: string,
): Promise<{ session: SessionRow; parts: number } | undefined> {
  const row = await claimQuery(db, sessionId, token)
    .where('owner_id', '=', ownerId)
    .where('protocol', '=', protocol)
    .returning((eb) => [
      ...SESSION_COLUMNS,
      eb
        .selectFrom('upload_parts')
        .select((parts) => parts.fn.countAll<string>().as('count'))
        .whereRef('upload_parts.session_id', '=', 'upload_sessions.id')
        .as('parts'),
      sql<string>`set_config('synchronous_commit', 'off', true)`.as('synchronous_commit'),
    ])
    .executeTakeFirst();
  if (!row) return undefined;
  const session = Object.fromEntries(SESSION_COLUMNS.map((column) => [column, row[column]]));
  return { session: session as SessionRow, parts: Number(row.parts) };
}

/** Keeps this writer's mark alive (a no-op when it lost the mark). */
export async function renewWriter(db: Db, sessionId: string, token: string): Promise<void> {
  await db
    .updateTable('upload_sessions')
    .set({ writer_since: sql<Date>`now()` })
    .where('id', '=', sessionId)
    .where('writer_token', '=', token)
    .execute();
}

/**
 * Renews this writer's mark every WRITER_HEARTBEAT_MS until the returned function is called: a
 * PATCH whose body arrives slowly, a completion assembling a large object or a cancel waiting on
 * storage outlives the stale time and still holds the upload, while a mark whose process died
 * stops being renewed and goes stale.
 */
export function keepWriterAlive(db: Db, sessionId: string, token: string): () => void {
  const heartbeat = setInterval(() => {
    renewWriter(db, sessionId, token).catch(() => undefined);
  }, WRITER_HEARTBEAT_MS);
  heartbeat.unref();
  return () => clearInterval(heartbeat);
}

export async function releaseWriter(db: Db, sessionId: string, token: string): Promise<void> {
  await db
    .updateTable('upload_sessions')
    .set({ writer_token: null, writer_since: null })
    .where('id', '=', sessionId)
    .where('writer_token', '=', token)
    .execute();
}

/** Locks the open session row this writer holds; undefined when it lost the mark or it closed. */
export async function lockHeldSession(
  db: Db,
  sessionId: string,
  token: string,
): Promise<SessionRow | undefined> {
  return db
    .selectFrom('upload_sessions')
    .select(SESSION_COLUMNS)
    .where('id', '=', sessionId)
    .where('writer_token', '=', token)
    .where('status', '=', 'open')
    .forUpdate()
    .executeTakeFirst();
}

/**
 * Records a PATCH's parts for the open session this writer holds, in one statement (atomic
 * without a transaction's extra round trips): the session's bytes grow from exactly `from`
 * (the UPDATE locks the row) and, with `release`, the writer mark is given up; the parts are
 * inserted only when that UPDATE took. Returns the session after; undefined when the writer lost
 * the mark, the session closed, or its offset is no longer `from` (nothing recorded then).
 */
export async function recordHeldParts(
  db: Db,
  sessionId: string,
  token: string,
  from: number,
  parts: ReadonlyArray<{ partNumber: number; etag: string; size: number }>,
  release: boolean,
): Promise<SessionRow | undefined> {
  const bytes = parts.reduce((sum, part) => sum + part.size, 0);
  const held = db
    .updateTable('upload_sessions')
    .set({
      received_bytes: sql<number>`received_bytes + ${bytes}`,
      ...(release && { writer_token: null, writer_since: null }),
    })
    .where('id', '=', sessionId)
    .where('writer_token', '=', token)
    .where('status', '=', 'open')
    .where('received_bytes', '=', from)
    .returning(SESSION_COLUMNS);
  if (parts.length === 0) return held.executeTakeFirst();
  const values = sql.join(
    parts.map(
      (part) => sql`(${part.partNumber}::integer, ${part.etag}::text, ${part.size}::bigint)`,
    ),
  );
  return db
    .with('held', () => held)
    .with('recorded', (qb) =>
      qb
        .insertInto('upload_parts')
        .columns(['session_id', 'part_number', 'etag', 'size'])
        .expression(
          sql`SELECT held.id, part.number, part.etag, part.size FROM held
              CROSS JOIN (VALUES ${values}) AS part (number, etag, size)`,
        ),
    )
    .selectFrom('held')
    .selectAll()
    .executeTakeFirst();
}

/** Whether `token` still holds the open session (to tell why recordHeldParts did not take). */
export async function holdsWriter(db: Db, sessionId: string, token: string): Promise<boolean> {
  const row = await db
    .selectFrom('upload_sessions')
    .select('id')
    .where('id', '=', sessionId)
    .where('writer_token', '=', token)
    .where('status', '=', 'open')
    .executeTakeFirst();
  return row !== undefined;
}

export async function lockOpenSession(db: Db, sessionId: string): Promise<SessionRow | undefined> {
  return db
    .selectFrom('upload_sessions')
    .select(SESSION_COLUMNS)
    .where('id', '=', sessionId)
    .where('status', '=', 'open')
    .forUpdate()
    .executeTakeFirst();
}

export async function selectParts(db: Db, sessionId: string) {
  const rows = await db
    .selectFrom('upload_parts')
    .select(['part_number', 'etag', 'size'])
    .where('session_id', '=', sessionId)
    .orderBy('part_number')
    .execute();
  return rows.map((row) => ({
    partNumber: row.part_number,
    etag: row.etag,
    size: Number(row.size),
  }));
}

export async function closeSession(
  db: Db,
  sessionId: string,
  status: 'completed' | 'aborted' | 'expired' | 'failed',
  failureReason: string | null = null,
): Promise<void> {
  await db
    .updateTable('upload_sessions')
    .set({
      status,
      failure_reason: failureReason,
      closed_at: sql<Date>`now()`,
      writer_token: null,
      writer_since: null,
    })
    .where('id', '=', sessionId)
    .where('status', '=', 'open')
    .execute();
}

export async function insertFile(
  db: Db,
  session: SessionRow,
  stored: { size: number; sha256: string | null },
): Promise<{ id: string }> {
  return db
    .insertInto('files')
    .values({
      session_id: session.id,
      owner_id: session.owner_id,
      patient_id: session.patient_id,
      organization_id: session.organization_id,
      bucket: session.bucket,
      bucket_id: session.bucket_id,
      object_key: session.object_key,
      name: session.file_name,
      file_type: session.file_type,
      content_type: session.content_type,
      size: stored.size,
      sha256: stored.sha256,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
}

/** The file a completed session produced (HEAD after completion, retries). */
export async function selectFileOfSession(db: Db, sessionId: string) {
  return db
    .selectFrom('files')
    .select(['id', 'status'])
    .where('session_id', '=', sessionId)
    .executeTakeFirst();
}

/** Records a part, replacing the record of the same part number (a part uploaded again). */
export async function upsertPart(
  db: Db,
  sessionId: string,
  part: { partNumber: number; etag: string; size: number },
): Promise<void> {
  await db
    .insertInto('upload_parts')
    .values({
      session_id: sessionId,
      part_number: part.partNumber,
      etag: part.etag,
      size: part.size,
    })
    .onConflict((oc) =>
      oc.columns(['session_id', 'part_number']).doUpdateSet({ etag: part.etag, size: part.size }),
    )
    .execute();
}

export async function sumParts(db: Db, sessionId: string): Promise<number> {
  const row = await db
    .selectFrom('upload_parts')
    .select(sql<string>`coalesce(sum(size), 0)::text`.as('bytes'))
    .where('session_id', '=', sessionId)
    .executeTakeFirstOrThrow();
  return Number(row.bytes);
}

export async function setReceivedBytes(db: Db, sessionId: string, bytes: number): Promise<void> {
  await db
    .updateTable('upload_sessions')
    .set({ received_bytes: bytes })
    .where('id', '=', sessionId)
    .execute();
}
