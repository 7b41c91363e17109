// The origin browsers send upload parts to when storage takes them directly (S3 multipart, F2):
// the one origin besides 'self' the CSP's connect-src may name (T3). It is read from a part URL
// the storage itself presigns (locally, no request is sent), so it is exactly where browsers will
// be sent, path-style or virtual-hosted, and never a pattern or a wildcard.
import type { ObjectStorage } from './storage.js';

/** The storage's direct-upload origin (`scheme://host[:port]`), or null when it has none. */
export async function directUploadOrigin(storage: ObjectStorage): Promise<string | null> {
  if (!storage.presigner) return null;
  const url = await storage.presigner.presignUploadPart(
    { key: 'uploads/origin-probe', uploadId: 'origin-probe', partNumber: 1 },
    { expiresInSeconds: 60 },
  );
  const { origin, protocol } = new URL(url);
  if (origin === 'null' || (protocol !== 'https:' && protocol !== 'http:')) {
    throw new Error(`Presigned upload URLs have no web origin (${protocol}).`);
  }
  return origin;
}
