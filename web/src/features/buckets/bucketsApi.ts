/**
 * Storage buckets (server/src/modules/files/buckets, F1/Z6): the system default, read-only, and
 * buckets owned by a person or an organization. Credentials go to the server and never come
 * back. Answers are decoded with the server's own schemas (`@haven/contract`).
 */
import type { BucketSchema } from '@haven/contract';
import { BucketAnswer, BucketList } from '@haven/contract';
import type { Static } from 'typebox';
import { memberOf } from '../../shared/schemaDecoding';

export type Bucket = Static<typeof BucketSchema>;
export type SseMode = 'none' | 'AES256' | 'aws:kms';

export const BUCKETS_PATH = '/api/files/buckets';
export const decodeBuckets = memberOf(BucketList, 'buckets');
export const decodeBucket = memberOf(BucketAnswer, 'bucket');

export function bucketPath(bucketId: string): string {
  return `${BUCKETS_PATH}/${encodeURIComponent(bucketId)}`;
}

/** What a bucket's encryption at rest is, in words. */
export function encryptionLabel(bucket: Bucket): string {
  if (bucket.storage === 'filesystem') return 'Encrypted by Haven (AES-256-GCM)';
  if (bucket.sseMode === 'AES256') return 'Encrypted by the storage (SSE-S3, AES-256)';
  if (bucket.sseMode === 'aws:kms') {
    return `Encrypted by the storage with your KMS key${bucket.kmsKeyId ? ` ${bucket.kmsKeyId}` : ''}`;
  }
  return 'Not encrypted by the storage';
}

// The checks the server makes, so the form says what is wrong before anything is sent.
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z0-9]+(-[a-z0-9]+)*$/;

export function bucketNameProblem(name: string): string | undefined {
  if (!BUCKET_NAME.test(name) || name.includes('..') || IPV4.test(name)) {
    return 'Enter the bucket name as S3 spells it: 3 to 63 lower-case letters, digits, dots or hyphens, starting and ending with a letter or digit.';
  }
  if (name.startsWith('xn--') || name.endsWith('-s3alias') || name.endsWith('--ol-s3')) {
    return 'S3 does not allow a bucket name with that beginning or ending.';
  }
  return undefined;
}

export function endpointProblem(endpoint: string): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'Enter the storage address like https://s3.eu-central-1.amazonaws.com.';
  }
  // https only, which the server enforces and words; http is left to it (a test stand-in).
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return 'The storage address must start with https://.';
  }
  if (url.pathname !== '/' || url.search || url.hash || url.username) {
    return 'Enter only the storage address, without a path, like https://s3.example.org.';
  }
  return undefined;
}

export function regionProblem(region: string): string | undefined {
  return REGION.test(region) && region.length <= 40
    ? undefined
    : 'Enter the region like eu-central-1 (lower-case letters, digits and hyphens).';
}

/** Whole GiB in the form ↔ bytes on the wire; empty means no limit. */
export function sizeLimitProblem(gib: string): string | undefined {
  if (gib.trim() === '') return undefined;
  const value = Number(gib);
  return Number.isInteger(value) && value >= 1 && value <= 1_000_000
    ? undefined
    : 'Enter a whole number of GiB between 1 and 1,000,000, or leave it empty for no limit.';
}

const GIB = 1024 ** 3;

export function gibToBytes(gib: string): number | null {
  return gib.trim() === '' ? null : Number(gib) * GIB;
}

export function bytesToGib(bytes: number | null): string {
  return bytes === null ? '' : String(Math.round(bytes / GIB));
}
