/**
 * Parts for an owned bucket go through that bucket's upload relay: a hidden same-origin frame
 * (GET /api/files/buckets/:id/upload-relay, script uploadRelayFrame.ts) whose own CSP lets it PUT
 * to that bucket's origin only, so this page's CSP never names an owned bucket (T3). One frame
 * per uploader, opened at the first part and removed when the uploads are done; each part is one
 * MessageChannel: the part goes out, progress and the ETag (or why not) come back.
 */

/** The frame tells its parent it listens (the relay document's script ran). */
export const RELAY_READY = 'haven-upload-relay-ready';
/** The parent hands the frame a port for one part. */
export const RELAY_PART = 'haven-upload-relay-part';

/** Sent on a part's port by the page. */
export type RelayRequest =
  | { readonly type: 'put'; readonly url: string; readonly body: Blob; readonly partId: string }
  | { readonly type: 'abort' };

/** Sent back on a part's port by the frame. */
export type RelayAnswer =
  | { readonly type: 'progress'; readonly loaded: number }
  | { readonly type: 'stored'; readonly etag: string | null }
  | { readonly type: 'failed'; readonly status: number; readonly expired: boolean }
  | { readonly type: 'refused' };

/** How long the relay document may take to load and start listening. */
const RELAY_START_MS = 20_000;
/** After the frame loaded, how long its script may take to say it listens. */
const RELAY_READY_AFTER_LOAD_MS = 2_000;

/** The relay could not be loaded (signed out, bucket removed, network): Retry loads it again. */
export class RelayUnavailableError extends Error {
  constructor(reason?: string) {
    super(
      reason ?? 'The upload to this bucket could not start. Check the connection and try again.',
    );
  }
}

/**
 * The server's own sentence when the frame loaded an error instead of the relay (a problem+json
 * body: the bucket is gone, access was lost, its host is no longer allowed). Same origin, so the
 * page may read it.
 */
function refusalOf(frame: HTMLIFrameElement): string | undefined {
  try {
    const text = frame.contentDocument?.body?.textContent ?? '';
    const detail = (JSON.parse(text) as { detail?: unknown }).detail;
    return typeof detail === 'string' && detail !== '' ? detail : undefined;
  } catch {
    return undefined;
  }
}

export interface RelayedPart {
  readonly url: string;
  readonly body: Blob;
  readonly partId: string;
  readonly onProgress: (event: { loaded: number; lengthComputable: true }) => void;
  readonly signal?: AbortSignal | undefined;
}

function abortError(): DOMException {
  return new DOMException('The part upload was stopped.', 'AbortError');
}

/** The failure of a PUT, as @uppy/aws-s3 reads one (its retries look at the status and text). */
function storageError(answer: { status: number; expired: boolean }): Error {
  const error = new Error(answer.expired ? 'Request has expired' : 'Non 2xx');
  return Object.assign(error, { source: { status: answer.status } });
}

export class UploadRelay {
  readonly #path: string;
  #frame: HTMLIFrameElement | null = null;
  #ready: Promise<Window> | null = null;
  /** Stops a start still waiting for its frame (timers, listener) and fails it. */
  #abandonStart: (() => void) | null = null;
  /** Parts sent and not yet answered: the frame stays while any is out. */
  #inFlight = 0;
  #closeWhenIdle = false;

  constructor(bucketId: string) {
    this.#path = `/api/files/buckets/${encodeURIComponent(bucketId)}/upload-relay`;
  }

  #open(): Promise<Window> {
    if (this.#ready) return this.#ready;
    const frame = document.createElement('iframe');
    frame.hidden = true;
    frame.title = 'Upload relay to the storage bucket';
    frame.src = this.#path;
    this.#frame = frame;
    this.#ready = new Promise<Window>((resolve, reject) => {
      let afterLoad: ReturnType<typeof setTimeout> | undefined;
      const stop = () => {
        clearTimeout(timer);
        clearTimeout(afterLoad);
        window.removeEventListener('message', onMessage);
        frame.removeEventListener('load', onLoad);
        this.#abandonStart = null;
      };
      const fail = (reason?: string) => {
        stop();
        // Only this start's frame: a later one may have replaced it meanwhile.
        frame.remove();
        if (this.#frame === frame) {
          this.#frame = null;
          this.#ready = null;
        }
        reject(new RelayUnavailableError(reason));
      };
      const onMessage = (event: MessageEvent) => {
        if (event.origin !== location.origin || event.source !== frame.contentWindow) return;
        if ((event.data as { type?: unknown } | null)?.type !== RELAY_READY) return;
        stop();
        resolve(event.source as Window);
      };
      // A frame that loaded an error page never says it listens: fail soon, with its sentence.
      const onLoad = () => {
        afterLoad = setTimeout(() => fail(refusalOf(frame)), RELAY_READY_AFTER_LOAD_MS);
      };
      const timer = setTimeout(() => fail(), RELAY_START_MS);
      window.addEventListener('message', onMessage);
      frame.addEventListener('load', onLoad);
      this.#abandonStart = () => fail();
    });
    document.body.append(frame);
    return this.#ready;
  }

  /** PUTs one part through the frame; its ETag, or null when storage's CORS rules hide it. */
  async send(part: RelayedPart): Promise<string | null> {
    if (part.signal?.aborted) throw abortError();
    this.#closeWhenIdle = false;
    this.#inFlight += 1;
    try {
      return await this.#sendOpen(part);
    } finally {
      this.#inFlight -= 1;
      if (this.#inFlight === 0 && this.#closeWhenIdle) this.close();
    }
  }

  async #sendOpen(part: RelayedPart): Promise<string | null> {
    const relay = await this.#open();
    if (part.signal?.aborted) throw abortError();
    const { port1: port, port2 } = new MessageChannel();
    return new Promise<string | null>((resolve, reject) => {
      const onAbort = () => {
        port.postMessage({ type: 'abort' } satisfies RelayRequest);
        finish();
        reject(abortError());
      };
      const finish = () => {
        part.signal?.removeEventListener('abort', onAbort);
        port.close();
      };
      part.signal?.addEventListener('abort', onAbort);
      port.onmessage = (event: MessageEvent<RelayAnswer>) => {
        const answer = event.data;
        switch (answer.type) {
          case 'progress':
            part.onProgress({ loaded: answer.loaded, lengthComputable: true });
            return;
          case 'stored':
            part.onProgress({ loaded: part.body.size, lengthComputable: true });
            finish();
            resolve(answer.etag);
            return;
          case 'failed':
            finish();
            reject(storageError(answer));
            return;
          case 'refused':
            finish();
            reject(new Error('The upload relay refused a part URL for another storage.'));
        }
      };
      relay.postMessage({ type: RELAY_PART }, location.origin, [port2]);
      const request: RelayRequest = {
        type: 'put',
        url: part.url,
        body: part.body,
        partId: part.partId,
      };
      port.postMessage(request);
    });
  }

  /**
   * Removes the frame once no part is out (another batch may still be sending when one
   * completes); the next part opens a new one.
   */
  close(): void {
    if (this.#inFlight > 0) {
      this.#closeWhenIdle = true;
      return;
    }
    this.#closeWhenIdle = false;
    this.#abandonStart?.();
    this.#frame?.remove();
    this.#frame = null;
    this.#ready = null;
  }
}
