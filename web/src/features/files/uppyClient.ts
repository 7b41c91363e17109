/**
 * What the uploader's two protocols share (uploadClient.ts picks one): the file types, the
 * session's CSRF token (A8), a refresh before the access token expires, and the answer behind
 * a failed request, in the shape the problem texts read (filesApi.ts describeUploadProblem).
 */
import type { UppyFile } from '@uppy/core';
import { decodeMe } from '../../auth/authTypes';
import { sessionStore } from '../../auth/sessionStore';
import { ApiError } from '../../shared/api';

export type Meta = { patientId?: string; bucketId?: string };

/** Where uploads go: a patient's record or the person's own files, in a bucket or the default. */
export interface UploadTarget {
  readonly patientId: string | undefined;
  readonly bucketId: string | undefined;
}
export type Body = Record<string, never>;
export type Upload = UppyFile<Meta, Body>;

/**
 * Retries of a chunk the network or a busy server lost, in milliseconds. They span more than the
 * 20 s after which the server frees an upload whose writer died (a node that crashed mid-chunk
 * answers 423 until then), so a resume after such a crash goes on by itself.
 */
export const RETRY_DELAYS = [0, 1000, 3000, 5000, 10_000, 15_000];
/** A token that expires within this margin is refreshed before the next chunk leaves. */
const ACCESS_MARGIN_MS = 30_000;

/** The CSRF token of this session (A8), read from /api/auth/me once: it is per session. */
export interface CsrfSource {
  token(): Promise<string>;
  /** The server refused the token (CSRF_FAILED): read it again before the next request. */
  forget(): void;
}

export function csrfSource(): CsrfSource {
  let token: Promise<string> | null = null;
  return {
    token() {
      token ??= sessionStore.api('GET', '/api/auth/me', decodeMe).then((me) => me.csrfToken);
      token.catch(() => {
        token = null;
      });
      return token;
    },
    forget() {
      token = null;
    },
  };
}

/** The access token lasts minutes and an upload hours: refresh it before a chunk would 401. */
export async function freshSession(): Promise<void> {
  const state = sessionStore.getState();
  const expiresAt = state.status === 'signed_in' ? state.session.accessExpiresAt : null;
  if (expiresAt !== null && expiresAt - Date.now() < ACCESS_MARGIN_MS) {
    await sessionStore.refresh();
  }
}

/** What the server answered to a failed request: status, problem body, Retry-After. */
export interface Answer {
  readonly status: number | undefined;
  readonly body: string | undefined;
  readonly retryAfter: string | null;
}

/** A failed Haven API call (ApiError) or storage request (an XHR as `source`), as an Answer. */
export function answerOfError(error: unknown): Answer {
  if (error instanceof ApiError) {
    const problem = { ...error.extensions, code: error.code, detail: error.detail };
    return {
      status: error.status,
      body: JSON.stringify(problem),
      retryAfter: error.retryAfter ?? null,
    };
  }
  const source = (error as { source?: { status?: unknown } } | null)?.source;
  const status = typeof source?.status === 'number' ? source.status : undefined;
  return { status, body: undefined, retryAfter: null };
}

/** One protocol's hooks into the uploader. */
export interface Protocol {
  /** The answer behind an upload-error. */
  answerTo(error: unknown): Answer;
  /** The server's upload session this file is being sent to, once known. */
  sessionOf(file: Upload): string | undefined;
  /** Before a file (just added, or retried) starts: continue the session it left unfinished. */
  prepare(fileId: string, openSessions: ReadonlySet<string> | null): void;
  /** Stop the file's transfers without ending its upload on the server (leaving the page). */
  detach(fileId: string): void;
}
