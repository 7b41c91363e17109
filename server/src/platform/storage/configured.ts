// The storage and scanner a configuration names, built once per process: the server hands them
// to the files module, `haven worker` to the scan and cleanup jobs. The module never sees the
// master key: it gets a storage that encrypts, and a download-link key derived for that one use.
import { hkdfSync } from 'node:crypto';
import path from 'node:path';
import type { HavenConfig } from '../../config.js';
import { createKeyRing } from '../crypto.js';
import { createClamdClient, parseClamdAddress, type ClamdClient } from '../scanning/clamd.js';
import { openFilesystemStorage } from './filesystem.js';
import { createS3Storage, type S3StorageOptions, type ServerSideEncryption } from './s3.js';
import type { ObjectStorage } from './storage.js';

export interface FileServices {
  /** The default storage: the embedded, encrypting filesystem driver in `<data dir>/files`. */
  readonly storage: ObjectStorage;
  /** Undefined when HAVEN_CLAMD_URL is unset: uploads wait for a scanner and stay undownloadable. */
  readonly scanner: ClamdClient | undefined;
  /** HMAC key of signed download links (F6), derived from the master key for that one use. */
  readonly downloadKey: Buffer;
}

/**
 * `s3+https://<key id>:<secret>@<host>[:port]/<bucket>?region=…&sse=…&kms_key_id=…&path_style=…`
 * → the S3 driver's options. Throws a plain sentence on anything missing or unknown, at start.
 */
export function parseStorageUrl(url: string): S3StorageOptions {
  const parsed = new URL(url);
  const scheme =
    parsed.protocol === 's3+https:' ? 'https' : parsed.protocol === 's3+http:' ? 'http' : '';
  const bucket = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  const params = parsed.searchParams;
  const known = new Set(['region', 'sse', 'kms_key_id', 'path_style']);
  const unknown = [...params.keys()].filter((key) => !known.has(key));
  if (!scheme) throw new Error('HAVEN_STORAGE_URL starts with s3+https:// or s3+http://');
  if (!parsed.username || !parsed.password) {
    throw new Error('HAVEN_STORAGE_URL needs <key id>:<secret>@ before the host');
  }
  if (!bucket || bucket.includes('/')) {
    throw new Error('HAVEN_STORAGE_URL names one bucket as its path');
  }
  if (unknown.length > 0) throw new Error(`HAVEN_STORAGE_URL: unknown parameter ${unknown[0]!}`);
  const sse = params.get('sse') ?? 'AES256';
  const kmsKeyId = params.get('kms_key_id') ?? '';
  const serverSideEncryption: ServerSideEncryption =
    sse === 'none'
      ? { mode: 'none' }
      : sse === 'AES256'
        ? { mode: 'AES256' }
        : sse === 'aws:kms'
          ? { mode: 'aws:kms', kmsKeyId }
          : (() => {
              throw new Error('HAVEN_STORAGE_URL: sse is AES256, aws:kms or none');
            })();
  return {
    endpoint: `${scheme}://${parsed.host}`,
    region: params.get('region') ?? 'us-east-1',
    bucket,
    credentials: {
      accessKeyId: decodeURIComponent(parsed.username),
      secretAccessKey: decodeURIComponent(parsed.password),
    },
    forcePathStyle: params.get('path_style') === 'true',
    serverSideEncryption,
  };
}

export async function openFileServices(config: HavenConfig): Promise<FileServices> {
  const storage: ObjectStorage = config.files.storageUrl
    ? createS3Storage(parseStorageUrl(config.files.storageUrl))
    : await openFilesystemStorage({
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
