// Files after upload (F5, F6, F8, Z4, Z6, L3): lists with names, the one file, deleting, storage
// usage, and downloads. A download is two steps: an allowed caller asks for a link to a CLEAN
// file, signed for that caller and that file for two minutes; fetching it checks the session, the
// access and the signature again, and is audited. Quarantined and unscanned files have no link.
import { createHmac } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { requireAccess, requireUser } from '../../../platform/access/index.js';
import { constantTimeEqual } from '../../../platform/crypto.js';
import { HavenError } from '../../../platform/errors.js';
import { ALLOWED_EXTENSIONS_TEXT } from '../../../platform/file-checks/names.js';
import { FILE_TYPES } from '../../../platform/file-checks/types.js';
import { requestContext } from '../../../platform/http/request-context.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import type { ByteRange, StoredObjectStream } from '../../../platform/storage/index.js';
import { recordUserEvent } from '../../../platform/user-event.js';
import { bytesInUse } from '../shared/repo.js';
import type { FilesSettings } from '../shared/settings.js';
import { partSizeFor } from '../uploads/multipart.js';
import { TUS_PART_BYTES } from '../uploads/service.js';
import { withBucket } from '../shared/bucket-storage.js';
import * as repo from './repo.js';
import { FILE_LIST_LIMIT, type FileView } from './schemas.js';

type FilesContext = ModuleContext<FilesSettings>;
type NamedFile = NonNullable<Awaited<ReturnType<typeof repo.selectNamedFile>>>;

/** F6: download links live two minutes (the control allows at most five). */
export const DOWNLOAD_LINK_SECONDS = 120;

function typeLabel(type: string): string {
  return (FILE_TYPES as Record<string, { label: string }>)[type]?.label ?? 'a file';
}

/** Why a file cannot be downloaded, in words for the person looking at it. */
function statusText(ctx: FilesContext, row: NamedFile): string | null {
  if (row.status === 'clean') return null;
  if (row.status === 'scanning') {
    return ctx.settings.scanner
      ? 'Being checked for malware. It can be downloaded once the check is done.'
      : 'Waiting for a malware check: no scanner is configured, so it cannot be downloaded yet.';
  }
  const [reason = '', detail = ''] = (row.status_reason ?? '').split(':');
  switch (reason) {
    case 'malware':
      return `Quarantined: the malware check found ${detail || 'a threat'}.`;
    case 'type_mismatch':
      return `Quarantined: its contents are not ${typeLabel(row.file_type)}, as its name says.`;
    case 'encryption_mismatch':
      return 'Quarantined: storage did not confirm that it is encrypted.';
    case 'not_scannable':
      return 'Quarantined: the malware check could not read all of it.';
    default:
      return 'Quarantined.';
  }
}

function toView(ctx: FilesContext, row: NamedFile, userId: string): FileView {
  return {
    id: row.id,
    name: row.name,
    type: row.file_type,
    typeLabel: typeLabel(row.file_type),
    size: Number(row.size),
    sha256: row.sha256,
    status: row.status as FileView['status'],
    statusText: statusText(ctx, row),
    downloadable: row.status === 'clean',
    canDelete: row.owner_id === userId,
    uploadedBy: { id: row.owner_id, name: row.owner_name },
    patient: row.patient_id === null ? null : { id: row.patient_id, name: row.patient_name ?? '' },
    createdAt: row.created_at.toISOString(),
    scannedAt: row.scanned_at ? row.scanned_at.toISOString() : null,
  };
}

export async function listFiles(
  ctx: FilesContext,
  request: FastifyRequest,
  patientId: string | undefined,
): Promise<FileView[]> {
  const { userId } = requireUser(request);
  if (patientId === undefined) {
    const rows = await repo.selectOwnFiles(ctx.db, userId, FILE_LIST_LIMIT);
    return rows.map((row) => toView(ctx, row, userId));
  }
  // Z4: the record's files for those who may read the record (staff of its organization, the
  // patient); anyone else gets the record's own 404.
  await requireAccess(ctx.db, request, 'patient:read', { patientId });
  const rows = await repo.selectPatientFiles(ctx.db, patientId, FILE_LIST_LIMIT);
  return rows.map((row) => toView(ctx, row, userId));
}

async function loadFile(ctx: FilesContext, fileId: string): Promise<NamedFile> {
  const row = await repo.selectNamedFile(ctx.db, fileId);
  if (!row) throw new HavenError('NOT_FOUND', 'The file was not found.');
  return row;
}

export async function getFile(
  ctx: FilesContext,
  request: FastifyRequest,
  fileId: string,
): Promise<FileView> {
  const { userId } = await requireAccess(ctx.db, request, 'file:read', { fileId });
  return toView(ctx, await loadFile(ctx, fileId), userId);
}

export async function deleteFile(
  ctx: FilesContext,
  request: FastifyRequest,
  fileId: string,
): Promise<void> {
  const { userId } = await requireAccess(ctx.db, request, 'file:delete', { fileId });
  const row = await loadFile(ctx, fileId);
  await ctx.db.transaction().execute(async (trx) => {
    if (!(await repo.markDeleted(trx, fileId))) return;
    await recordUserEvent(trx, userId, requestContext(request), {
      action: 'file.delete',
      target: { type: 'file', id: fileId },
    });
  });
  // After the commit: the row no longer offers the object to anyone, so removing it can only
  // fail harmlessly (logged; the key is in the audit trail's file id).
  const { storage } = (await withBucket(ctx, row.bucket_id, { active: false })).settings;
  await storage.deleteObject(row.object_key).catch((error: unknown) => {
    request.log.warn(
      { fileId, reason: error instanceof Error ? error.message : 'unknown' },
      'deleting the stored object failed',
    );
  });
}

export async function usage(ctx: FilesContext, request: FastifyRequest) {
  const { userId } = requireUser(request);
  return {
    usedBytes: await bytesInUse(ctx.db, { ownerId: userId }),
    quotaBytes: ctx.settings.userQuotaBytes,
    maxFileBytes: ctx.settings.maxFileBytes,
    allowedExtensions: ALLOWED_EXTENSIONS_TEXT.split(', '),
    scanner: ctx.settings.scanner ? ('configured' as const) : ('not_configured' as const),
    chunkBytes: TUS_PART_BYTES,
    multipartPartBytes: ctx.settings.storage.presigner ? partSizeFor(ctx, 0) : null,
  };
}

function signature(key: Buffer, fileId: string, userId: string, expires: number): string {
  return createHmac('sha256', key)
    .update(`haven-file-download\n${fileId}\n${userId}\n${expires}`)
    .digest('base64url');
}

function assertDownloadable(ctx: FilesContext, row: NamedFile): void {
  if (row.status !== 'clean') {
    throw new HavenError('FILE_NOT_READY', statusText(ctx, row) ?? 'The file is not ready.');
  }
}

export async function createDownloadLink(
  ctx: FilesContext,
  request: FastifyRequest,
  fileId: string,
): Promise<{ url: string; expiresAt: string }> {
  const { userId } = await requireAccess(ctx.db, request, 'file:download', { fileId });
  assertDownloadable(ctx, await loadFile(ctx, fileId));
  const expires = Math.floor(ctx.now().getTime() / 1000) + DOWNLOAD_LINK_SECONDS;
  const query = new URLSearchParams({
    expires: String(expires),
    signature: signature(ctx.settings.downloadKey, fileId, userId, expires),
  });
  return {
    url: `/api/files/${fileId}/content?${query.toString()}`,
    expiresAt: new Date(expires * 1000).toISOString(),
  };
}

/** `bytes=a-b`, `bytes=a-` or `bytes=-n`: one range; several, or none that fits, are 416. */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const refuse = () =>
    new HavenError('RANGE_NOT_SATISFIABLE', `Ask for one range of bytes within 0-${size - 1}.`, {
      headers: { 'content-range': `bytes */${size}` },
    });
  const match = /^bytes=(\d{0,16})-(\d{0,16})$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) throw refuse();
  let start: number;
  let end: number;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) throw refuse();
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start > end || start >= size) throw refuse();
  return { start, end };
}

export interface Download {
  readonly object: StoredObjectStream;
  readonly name: string;
  readonly range: ByteRange | undefined;
}

/** The bytes of a clean file, for a caller holding a valid, unexpired link signed for them. */
export async function openDownload(
  ctx: FilesContext,
  request: FastifyRequest,
  input: { fileId: string; expires: string; signature: string; range: string | undefined },
): Promise<Download> {
  const { fileId } = input;
  const { userId } = await requireAccess(ctx.db, request, 'file:download', { fileId });
  const expires = Number(input.expires);
  const expected = signature(ctx.settings.downloadKey, fileId, userId, expires);
  if (!constantTimeEqual(expected, input.signature)) {
    throw new HavenError('FORBIDDEN', 'The download link is not valid; ask for a new one.');
  }
  if (expires * 1000 <= ctx.now().getTime()) {
    throw new HavenError('FORBIDDEN', 'The download link has expired; ask for a new one.');
  }
  const row = await loadFile(ctx, fileId);
  assertDownloadable(ctx, row);
  const range = parseRange(request.headers.range, Number(row.size));
  // The file's own bucket (F1), whatever the request says.
  const { storage } = (await withBucket(ctx, row.bucket_id, { active: false })).settings;
  const object = await storage.getObject(row.object_key, range ? { range } : {});
  await recordUserEvent(ctx.db, userId, requestContext(request), {
    action: 'file.download',
    target: { type: 'file', id: fileId },
    details: range ? { rangeStart: range.start, rangeEnd: range.end } : {},
  });
  return { object, name: row.name, range };
}
