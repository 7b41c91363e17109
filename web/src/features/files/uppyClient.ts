/**
 * The tus client of the uploader (@uppy/core + @uppy/tus, headless). Uploads are sent in chunks
 * of the size the server names, each request carrying the session's CSRF token (A8) after a
 * refresh of an access token about to expire. Each upload's URL is kept in localStorage under
 * the file's fingerprint (name, type, size, modification time, and the instance id, which names
 * the person and the target), so adding the same file again after a reload continues it.
 */
import Uppy, { type UppyFile } from '@uppy/core';
import Tus, { type TusDetailedError } from '@uppy/tus';
import { decodeMe } from '../../auth/authTypes';
import { sessionStore } from '../../auth/sessionStore';
import { TUS_ENDPOINT } from './filesApi';

export type Meta = { patientId?: string };
export type Body = Record<string, never>;
export type Upload = UppyFile<Meta, Body>;

/** Retries of a chunk the network or a busy server lost, in milliseconds. */
const RETRY_DELAYS = [0, 1000, 3000, 5000];
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
async function freshSession(): Promise<void> {
  const state = sessionStore.getState();
  const expiresAt = state.status === 'signed_in' ? state.session.accessExpiresAt : null;
  if (expiresAt !== null && expiresAt - Date.now() < ACCESS_MARGIN_MS) {
    await sessionStore.refresh();
  }
}

/** What the server answered to a failed tus request: status, problem body, Retry-After. */
interface Answer {
  readonly status: number | undefined;
  readonly body: string | undefined;
  readonly retryAfter: string | null;
}

type TusResponse = NonNullable<TusDetailedError['originalResponse']>;

function read(response: TusResponse | null | undefined): Answer {
  return {
    status: response?.getStatus(),
    body: response?.getBody(),
    retryAfter: response?.getHeader('retry-after') ?? null,
  };
}

export function createUppy(
  id: string,
  patientId: string | undefined,
  chunkBytes: number,
  csrf: CsrfSource,
): { uppy: Uppy<Meta, Body>; answerTo: (error: unknown) => Answer } {
  let refreshing: Promise<unknown> | null = null;
  // Uppy stops the failed upload (aborting its finished request, which empties status and
  // body) before it reports the error, so each error answer is read when it arrives.
  const answers = new WeakMap<TusResponse, Answer>();
  const answerTo = (error: unknown): Answer => {
    const response = (error as Partial<TusDetailedError> | null)?.originalResponse;
    return (response && answers.get(response)) ?? read(response);
  };
  const uppy = new Uppy<Meta, Body>({ id, autoProceed: true, allowMultipleUploadBatches: true });
  uppy.use(Tus<Meta, Body>, {
    // tus resolves the Location of each upload against the endpoint: it must be absolute.
    endpoint: new URL(TUS_ENDPOINT, window.location.origin).href,
    chunkSize: chunkBytes,
    retryDelays: RETRY_DELAYS,
    limit: 2,
    // Only what Haven reads: the name (sent as `filename`) and the record it goes to.
    allowedMetaFields: patientId === undefined ? ['name'] : ['name', 'patientId'],
    // A finished upload must not be "resumed" when the same file is uploaded again.
    removeFingerprintOnSuccess: true,
    async onBeforeRequest(request) {
      if (refreshing) await refreshing.catch(() => undefined);
      await freshSession();
      request.setHeader('X-CSRF-Token', await csrf.token());
    },
    onAfterResponse(_request, response) {
      if (response.getStatus() >= 400) answers.set(response, read(response));
    },
    onShouldRetry(error, attempt, _options, next) {
      const { status, body } = answerTo(error);
      // An expired access token: refresh once, then send the chunk again.
      if (status === 401 && attempt === 0) {
        refreshing = sessionStore.refresh().finally(() => {
          refreshing = null;
        });
        return true;
      }
      // A token the server no longer takes: read it again, then send the request again.
      if (status === 403 && body?.includes('CSRF_FAILED') && attempt === 0) {
        csrf.forget();
        return true;
      }
      // tus uses 409 for an offset mismatch (worth a retry); a missing consent is not.
      if (status === 409 && body?.includes('CONSENT_REQUIRED')) return false;
      return next(error);
    },
  });
  return { uppy, answerTo };
}
