// The storage and scanner a configuration names, built once per process: the server hands them
// to the files module, `haven worker` to the scan and cleanup jobs. The module never sees the
// master key: it gets a storage that encrypts, and a download-link key derived for that one use.
import { hkdfSync } from 'node:crypto';
import path from 'node:path';
import type { HavenConfig } from '../../config.js';
import { createKeyRing } from '../crypto.js';
import { createClamdClient, parseClamdAddress, type ClamdClient } from '../scanning/clamd.js';
import { openFilesystemStorage } from './filesystem.js';
import type { ObjectStorage } from './storage.js';

export interface FileServices {
  /** The default storage: the embedded, encrypting filesystem driver in `<data dir>/files`. */
  readonly storage: ObjectStorage;
  /** Undefined when HAVEN_CLAMD_URL is unset: uploads wait for a scanner and stay undownloadable. */
  readonly scanner: ClamdClient | undefined;
  /** HMAC key of signed download links (F6), derived from the master key for that one use. */
  readonly downloadKey: Buffer;
}

export async function openFileServices(config: HavenConfig): Promise<FileServices> {
  const storage = await openFilesystemStorage({
    root: path.join(config.dataDir, 'files'),
    keyRing: createKeyRing(config.masterKey),
  });
  const scanner = config.files.clamdUrl
    ? createClamdClient({ address: parseClamdAddress(config.files.clamdUrl) })
    : undefined;
  const downloadKey = Buffer.from(
    hkdfSync('sha256', config.masterKey, Buffer.alloc(0), 'haven:file-download-links:v1', 32),
  );
  return { storage, scanner, downloadKey };
}
