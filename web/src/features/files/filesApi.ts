/**
 * Medical files (server/src/modules/files): my uploads or a patient record's, the usage and
 * limits the uploader checks before it starts, download links, and words for the problems the
 * upload routes answer with. Answers are decoded with the server's own schemas
 * (`@haven/contract`, the files module's contract door).
 */
import type { FileSchema } from '@haven/contract';
import {
  FileDownloadLink,
  FileList,
  FilesUsageAnswer,
  MultipartCompleted,
  MultipartStarted,
  OpenUploadList,
  PartRecorded,
  PartUrl,
  RecordedParts,
} from '@haven/contract';
import type { Static } from 'typebox';
import { ApiError, isRecord } from '../../shared/api';
import { formatBytes } from '../../shared/bytes';
import { answerOf, memberOf } from '../../shared/schemaDecoding';

export type StoredFile = Static<typeof FileSchema>;
export type FilesUsage = Static<typeof FilesUsageAnswer>;
export type OpenUpload = Static<typeof OpenUploadList>['uploads'][number];

export const decodeFiles = memberOf(FileList, 'files');
export const decodeUsage = answerOf(FilesUsageAnswer);
export const decodeOpenUploads = memberOf(OpenUploadList, 'uploads');
export const decodeDownloadLink = answerOf(FileDownloadLink);
export const decodeMultipartStarted = answerOf(MultipartStarted);
export const decodePartUrl = answerOf(PartUrl);
export const decodePartRecorded = answerOf(PartRecorded);
export const decodeRecordedParts = answerOf(RecordedParts);
export const decodeMultipartCompleted = answerOf(MultipartCompleted);
export const ignoreBody = (): null => null;

/** The tus endpoint (creation); each upload lives at `<endpoint>/<id>`. */
export const TUS_ENDPOINT = '/api/files/uploads';

/** My uploads, or the files of a patient's record. */
export function filesPath(patientId?: string): string {
  return patientId === undefined
    ? '/api/files'
    : `/api/files?patientId=${encodeURIComponent(patientId)}`;
}

export function filePath(fileId: string, rest = ''): string {
  return `/api/files/${encodeURIComponent(fileId)}${rest}`;
}

export function openUploadPath(uploadId: string): string {
  return `${TUS_ENDPOINT}/${encodeURIComponent(uploadId)}`;
}

/** S3 multipart (storage takes parts directly): start, and each session's own routes. */
export const MULTIPART_ENDPOINT = '/api/files/multipart';

export function multipartPath(uploadId: string, rest = ''): string {
  return `${MULTIPART_ENDPOINT}/${encodeURIComponent(uploadId)}${rest}`;
}

/** The allowed extension `name` ends with (longest match, so ".nii.gz" before ".gz"), or null. */
export function matchingExtension(name: string, allowed: readonly string[]): string | null {
  const lower = name.toLowerCase();
  let best: string | null = null;
  for (const extension of allowed) {
    const ext = extension.toLowerCase();
    if (lower.endsWith(ext) && lower.length > ext.length && (!best || ext.length > best.length)) {
      best = ext;
    }
  }
  return best;
}

/** The person's free space, less what uploads still in flight will take. */
export const freeBytes = (usage: FilesUsage, pendingBytes = 0): number =>
  Math.max(0, usage.quotaBytes - usage.usedBytes - pendingBytes);

/**
 * Fast feedback before any byte leaves the browser: the extension list, the size limit, the
 * quota left. The server checks all of this again (and more: the name rules, the contents);
 * these checks only spare the uploader a refused upload.
 */
export function checkBeforeUpload(
  file: { name: string; size: number },
  usage: FilesUsage,
  pendingBytes: number,
): string | null {
  if (matchingExtension(file.name, usage.allowedExtensions) === null) {
    return `"${file.name}" cannot be uploaded: Haven accepts ${usage.allowedExtensions.join(', ')} files.`;
  }
  if (file.size === 0) return `"${file.name}" is empty.`;
  if (file.size > usage.maxFileBytes) {
    return `"${file.name}" is ${formatBytes(file.size)}; files can be at most ${formatBytes(usage.maxFileBytes)}.`;
  }
  const free = freeBytes(usage, pendingBytes);
  if (file.size > free) {
    return `"${file.name}" needs ${formatBytes(file.size)}, and ${formatBytes(free)} of your ${formatBytes(usage.quotaBytes)} are free.`;
  }
  return null;
}

/** What a tus answer body says, when it is a problem document. */
function problemOf(body: string | undefined): Record<string, unknown> | null {
  if (!body) return null;
  try {
    const parsed: unknown = JSON.parse(body);
    return isRecord(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value : undefined;

/** The first field error of a problem (`errors: [{ field, message }]`), e.g. a name rule. */
function fieldError(problem: Record<string, unknown>): { field: string; message: string } | null {
  const errors = problem['errors'];
  if (!Array.isArray(errors)) return null;
  for (const item of errors) {
    const message = isRecord(item) ? text(item['message']) : undefined;
    if (isRecord(item) && message) return { field: text(item['field']) ?? '', message };
  }
  return null;
}

function sentence(value: string): string {
  return /[.!?]$/.test(value) ? value : `${value}.`;
}

/**
 * A failed upload in words: the server's problem detail where it explains (quota, size, name
 * rules, consent), otherwise a sentence that says what to do. Never a status code alone.
 */
export function describeUploadProblem(
  status: number | undefined,
  body: string | undefined,
  retryAfter?: string | null,
  name?: string,
): string {
  const problem = problemOf(body);
  const code = problem ? text(problem['code']) : undefined;
  const detail = problem ? text(problem['detail']) : undefined;
  switch (code) {
    case 'QUOTA_EXCEEDED':
      return `Not enough storage: ${sentence(detail ?? 'your storage quota is full')} Delete files you no longer need, or ask an administrator for more room.`;
    case 'FILE_TOO_LARGE':
      return sentence(detail ?? 'The file is larger than Haven accepts');
    case 'VALIDATION_FAILED': {
      const field = problem && fieldError(problem);
      // The name rules answer "must not …": said of the name, they read as a sentence.
      if (field?.field === 'filename' && /^must\b/.test(field.message)) {
        return `The name ${name ? `"${name}" ` : ''}cannot be used: a file name ${sentence(field.message)} Rename the file and add it again.`;
      }
      return `The file cannot be uploaded: ${sentence(field?.message ?? detail ?? 'it was refused')}`;
    }
    case 'CONSENT_REQUIRED':
      return `The patient has not given the consent needed to add files to their record. ${sentence(detail ?? 'Record the consent first')}`;
    case 'UPLOAD_EXPIRED':
      return 'The upload expired or was cancelled. Add the file again to start over.';
    case 'NOT_FOUND':
      return 'The upload is gone (it expired or was cancelled). Add the file again to start over.';
    default:
      break;
  }
  if (status === 429) {
    const wait = retryAfter ? ` Try again in ${retryAfter} seconds.` : ' Try again in a minute.';
    return `Too many requests.${wait}`;
  }
  if (status === 401) return 'Your session ended. Sign in again, then add the file to resume.';
  if (status === 403) {
    return `You may not upload here. ${sentence(detail ?? 'Ask an administrator for access')}`;
  }
  if (detail) return sentence(detail);
  if (status === undefined || status === 0) {
    return 'The server could not be reached. Check the connection, then retry.';
  }
  return `The upload failed (HTTP ${status}). Retry, or add the file again later.`;
}

/** A download link refused while the file is being checked or quarantined: the server's words. */
export function describeDownloadProblem(err: unknown): string | null {
  if (err instanceof ApiError && err.code === 'FILE_NOT_READY') {
    return err.detail ?? 'The file cannot be downloaded yet.';
  }
  return null;
}
