/**
 * The script of an owned bucket's upload relay (a Vite entry of its own, loaded by the relay
 * document the server sends, server/src/modules/files/buckets/upload-relay.ts). It takes parts
 * only from the Haven page that framed it, and PUTs each one only to the origin the server baked
 * into the document, so a forged message cannot turn it into a relay for other requests; the
 * document's CSP enforces the same origin again. Types only from uploadRelay.ts: this bundle
 * shares no code with the SPA.
 */
import type { RELAY_PART, RELAY_READY, RelayAnswer, RelayRequest } from './uploadRelay';

const READY: typeof RELAY_READY = 'haven-upload-relay-ready';
const PART: typeof RELAY_PART = 'haven-upload-relay-part';

/** The one origin parts may go to, as the server wrote it into the document. */
const bucketOrigin = document.documentElement.dataset['uploadOrigin'];

function urlForBucket(text: unknown): string | null {
  if (typeof text !== 'string' || bucketOrigin === undefined) return null;
  try {
    const url = new URL(text);
    return url.origin === bucketOrigin ? url.href : null;
  } catch {
    return null;
  }
}

/** The ETag of a stored part, or null when the bucket's CORS rules do not expose it. */
function etagOf(request: XMLHttpRequest): string | null {
  // getAllResponseHeaders lists only what CORS exposes (getResponseHeader would log an error).
  for (const line of request
    .getAllResponseHeaders()
    .trim()
    .split(/[\r\n]+/)) {
    const [name, ...value] = line.split(': ');
    if (name?.toLowerCase() === 'etag') return value.join(': ');
  }
  return null;
}

/** One part on its own port: PUT, progress, then the ETag or the failure, then the port closes. */
function servePart(port: MessagePort): void {
  let put: XMLHttpRequest | null = null;
  const answer = (message: RelayAnswer) => port.postMessage(message);
  const end = (message: RelayAnswer) => {
    answer(message);
    port.close();
  };
  port.onmessage = (event: MessageEvent<RelayRequest>) => {
    const request = event.data;
    if (request.type === 'abort') {
      put?.abort();
      port.close();
      return;
    }
    if (put !== null) return;
    const url = urlForBucket(request.url);
    if (url === null || !(request.body instanceof Blob)) {
      end({ type: 'refused' });
      return;
    }
    const xhr = new XMLHttpRequest();
    put = xhr;
    xhr.open('PUT', url);
    xhr.responseType = 'text';
    xhr.upload.addEventListener('progress', (progress) => {
      answer({ type: 'progress', loaded: progress.loaded });
    });
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        end({ type: 'stored', etag: etagOf(xhr) });
        return;
      }
      const expired = xhr.responseText.includes('<Message>Request has expired</Message>');
      end({ type: 'failed', status: xhr.status, expired });
    });
    xhr.addEventListener('error', () => end({ type: 'failed', status: 0, expired: false }));
    xhr.send(request.body);
  };
}

if (bucketOrigin !== undefined && window.parent !== window) {
  window.addEventListener('message', (event: MessageEvent) => {
    // Only the Haven page that framed this one; anyone else's message is ignored.
    if (event.origin !== location.origin || event.source !== window.parent) return;
    const port = event.ports[0];
    if ((event.data as { type?: unknown } | null)?.type !== PART || port === undefined) return;
    servePart(port);
  });
  window.parent.postMessage({ type: READY }, location.origin);
}
