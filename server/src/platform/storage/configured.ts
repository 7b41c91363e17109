// The storage and scanner a configuration names, built once per process: the server hands them
// to the files module, `haven worker` to the scan and cleanup jobs. The module never sees the
// master key: it gets a storage that encrypts, and a download-link key derived for that one use.
import { hkdfSync } from 'node:crypto';
import path from 'node:path';
import type { HavenConfig } from '../../config.js';
import { keyRingOf } from '../crypto.js';
import { sealContexts } from '../key-rotation.js';
import { createOutboundGuard } from '../http-client.js';
import { createClamdClient, parseClamdAddress, type ClamdClient } from '../scanning/clamd.js';
import { openFilesystemStorage } from './filesystem.js';
import { pinnedAgents } from './pinned-agents.js';
import {
  createS3Storage,
  type S3Storage,
  type S3StorageOptions,
  type ServerSideEncryption,
} from './s3.js';
import type { ObjectStorage } from './storage.js';

export interface FileServices {
  /** The default storage: the embedded, encrypting filesystem driver in `<data dir>/files`. */
  readonly storage: ObjectStorage;
  /** Undefined when HAVEN_CLAMD_URL is unset: uploads wait for a scanner and stay undownloadable. */
  readonly scanner: ClamdClient | undefined;
  /** HMAC key of signed download links (F6), derived from the master key for that one use. */
  readonly downloadKey: Buffer;
  /** Buckets owned by people and organizations (F1), beside the default storage. */
  readonly buckets: BucketStorages;
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

/** Where the embedded default store (the filesystem driver) keeps its files. */
export const embeddedFilesDir = (config: Pick<HavenConfig, 'dataDir'>): string =>
  path.join(config.dataDir, 'files');

export async function openFileServices(
  config: HavenConfig,
  options: FileServicesOptions = {},
): Promise<FileServices> {
  const storage: ObjectStorage = config.files.storageUrl
    ? createS3Storage(parseStorageUrl(config.files.storageUrl))
    : await openFilesystemStorage({
        root: embeddedFilesDir(config),
        keyRing: keyRingOf(config),
      });
  const scanner = config.files.clamdUrl
    ? createClamdClient({ address: parseClamdAddress(config.files.clamdUrl) })
    : undefined;
  const downloadKey = Buffer.from(
    hkdfSync('sha256', config.masterKey, Buffer.alloc(0), 'haven:file-download-links:v1', 32),
  );
  return { storage, scanner, downloadKey, buckets: createBucketStorages(config, options) };
}

/** Credentials of an owned bucket: only ever in memory, sealed at rest (F1). */
export interface BucketCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Where an owned bucket is and how it is written (the columns of one `buckets` row). */
export interface BucketLocation {
  readonly endpoint: string;
  readonly region: string;
  readonly bucketName: string;
  readonly pathStyle: boolean;
  readonly serverSideEncryption: ServerSideEncryption;
}

/** A stored bucket: its location and its sealed credentials; `updatedAt` versions the cache. */
export interface StoredBucket extends BucketLocation {
  readonly id: string;
  readonly updatedAt: Date;
  readonly credentialsSealed: string;
}

/** Owned buckets (F1, V5): sealing their credentials, checking endpoints, opening drivers. */
export interface BucketStorages {
  /** Seals credentials bound to the bucket id (associated data); the sealed text names its key. */
  sealCredentials(
    bucketId: string,
    credentials: BucketCredentials,
  ): { sealed: string; keyId: string };
  /** V5: throws OutboundRequestError when the endpoint is off the allowlist or internal. */
  checkEndpoint(endpoint: string): Promise<void>;
  /**
   * A fresh, uncached driver for a bucket being added or changed (HeadBucket before saving), with
   * new credentials or the stored bucket's sealed ones (opened in memory only).
   */
  connect(
    location: BucketLocation,
    credentials: BucketCredentials | Pick<StoredBucket, 'id' | 'credentialsSealed'>,
  ): S3Storage;
  /** The driver of a stored bucket, cached per id and `updatedAt`; credentials opened in memory. */
  open(bucket: StoredBucket): ObjectStorage;
}

export interface FileServicesOptions {
  /**
   * TEST ONLY: private ranges bucket endpoints may resolve to (e.g. `127.0.0.1/32` for the local
   * S3 stand-in); plain http is allowed only together with it. Never read from configuration.
   */
  readonly bucketEndpointTestCidrs?: readonly string[];
}

const BUCKET_CACHE_LIMIT = 100;
const BUCKET_CONNECT_TIMEOUT_MS = 5000;

// Shared with the key rotation job, which must re-seal under the very same context.
const credentialsContext = sealContexts.bucketCredentials;

export function createBucketStorages(
  config: Pick<HavenConfig, 'masterKey' | 'previousMasterKey' | 'outboundAllowHosts'>,
  options: FileServicesOptions = {},
): BucketStorages {
  const ring = keyRingOf(config);
  const widened = options.bucketEndpointTestCidrs ?? [];
  const guard = createOutboundGuard({
    allowHosts: config.outboundAllowHosts,
    allowHttp: widened.length > 0,
    allowPrivateCidrs: widened,
  });
  const agents = pinnedAgents(guard, BUCKET_CONNECT_TIMEOUT_MS);
  const cache = new Map<string, { stamp: number; storage: ObjectStorage }>();

  const unseal = (bucket: Pick<StoredBucket, 'id' | 'credentialsSealed'>): BucketCredentials =>
    JSON.parse(
      ring.open(bucket.credentialsSealed, credentialsContext(bucket.id)).toString('utf8'),
    ) as BucketCredentials;

  const connect: BucketStorages['connect'] = (location, given) => {
    const credentials = 'credentialsSealed' in given ? unseal(given) : given;
    // The allowlist and protocol are checked here too: a driver never exists for an endpoint the
    // guard refuses (addresses are checked at every connection by the pinned agents).
    guard.checkUrl(new URL(location.endpoint));
    return createS3Storage({
      endpoint: location.endpoint,
      region: location.region,
      bucket: location.bucketName,
      credentials: {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
      },
      forcePathStyle: location.pathStyle,
      serverSideEncryption: location.serverSideEncryption,
      connectTimeoutMs: BUCKET_CONNECT_TIMEOUT_MS,
      maxAttempts: 2,
      agents,
    });
  };

  return {
    sealCredentials(bucketId, credentials) {
      const plain = JSON.stringify({
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
      });
      return { sealed: ring.seal(plain, credentialsContext(bucketId)), keyId: ring.currentKeyId };
    },
    async checkEndpoint(endpoint) {
      const host = guard.checkUrl(new URL(endpoint));
      await guard.pinnedAddress(host, AbortSignal.timeout(BUCKET_CONNECT_TIMEOUT_MS));
    },
    connect,
    open(bucket) {
      const stamp = bucket.updatedAt.getTime();
      const cached = cache.get(bucket.id);
      if (cached && cached.stamp === stamp) return cached.storage;
      const storage = connect(bucket, bucket);
      cache.delete(bucket.id);
      if (cache.size >= BUCKET_CACHE_LIMIT) cache.delete(cache.keys().next().value!);
      cache.set(bucket.id, { stamp, storage });
      return storage;
    },
  };
}
