/**
 * The tus client of the uploader (@uppy/tus), used when uploads go through the server (the
 * filesystem storage). Uploads are sent in chunks of the size the server names, each request
 * carrying the session's CSRF token (A8) after a refresh of an access token about to expire.
 * Each upload's URL is kept in localStorage under the file's fingerprint (name, type, size,
 * modification time, and the instance id, which names the person and the target), so adding
 * the same file again after a reload continues it.
 */
import type Uppy from '@uppy/core';
import Tus, { type TusDetailedError } from '@uppy/tus';
import { sessionStore } from '../../auth/sessionStore';
import { TUS_ENDPOINT } from './filesApi';
import {
  RETRY_DELAYS,
  freshSession,
  type Answer,
  type Body,
  type CsrfSource,
  type Meta,
  type Protocol,
  type UploadTarget,
} from './uppyClient';

type TusResponse = NonNullable<TusDetailedError['originalResponse']>;

function read(response: TusResponse | null | undefined): Answer {
  return {
    status: response?.getStatus(),
    body: response?.getBody(),
    retryAfter: response?.getHeader('retry-after') ?? null,
  };
}

export function installTus(
  uppy: Uppy<Meta, Body>,
  target: UploadTarget,
  chunkBytes: number,
  csrf: CsrfSource,
): Protocol {
  let refreshing: Promise<unknown> | null = null;
  // Uppy stops the failed upload (aborting its finished request, which empties status and
  // body) before it reports the error, so each error answer is read when it arrives.
  const answers = new WeakMap<TusResponse, Answer>();
  const answerTo = (error: unknown): Answer => {
    const response = (error as Partial<TusDetailedError> | null)?.originalResponse;
    return (response && answers.get(response)) ?? read(response);
  };
  uppy.use(Tus<Meta, Body>, {
    // tus resolves the Location of each upload against the endpoint: it must be absolute.
    endpoint: new URL(TUS_ENDPOINT, window.location.origin).href,
    chunkSize: chunkBytes,
    retryDelays: RETRY_DELAYS,
    limit: 2,
    // Only what Haven reads: the name (sent as `filename`), the record and the bucket.
    allowedMetaFields: [
      'name',
      ...(target.patientId === undefined ? [] : ['patientId']),
      ...(target.bucketId === undefined ? [] : ['bucketId']),
    ],
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
  return {
    answerTo,
    sessionOf: (file) => file.tus?.uploadUrl?.split('/').pop(),
    prepare: () => undefined,
    detach(fileId) {
      uppy.getPlugin<Tus<Meta, Body>>('Tus')?.resetUploaderReferences(fileId);
    },
  };
}
