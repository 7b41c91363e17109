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

/** The relay could not be loaded (signed out, bucket removed, network): Retry loads it again. */
export class RelayUnavailableError extends Error {
  constructor() {
    super('The upload to this bucket could not start. Check the connection and try again.');
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
      const stop = () => {
        clearTimeout(timer);
        window.removeEventListener('message', onMessage);
      };
      const onMessage = (event: MessageEvent) => {
        if (event.origin !== location.origin || event.source !== frame.contentWindow) return;
        if ((event.data as { type?: unknown } | null)?.type !== RELAY_READY) return;
        stop();
        resolve(event.source as Window);
      };
      const timer = setTimeout(() => {
        stop();
        this.close();
        reject(new RelayUnavailableError());
      }, RELAY_START_MS);
      window.addEventListener('message', onMessage);
    });
    document.body.append(frame);
    return this.#ready;
  }

  /** PUTs one part through the frame; its ETag, or null when storage's CORS rules hide it. */
  async send(part: RelayedPart): Promise<string | null> {
    if (part.signal?.aborted) throw abortError();
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

  /** Removes the frame; the next part opens a new one. */
  close(): void {
    this.#frame?.remove();
    this.#frame = null;
    this.#ready = null;
  }
}
