// The files module's configuration slice: its storage and scanner (built by the platform from
// configuration, platform/storage/configured.ts) and its limits.
import type { ClamdClient } from '../../../platform/scanning/clamd.js';
import type { ObjectStorage } from '../../../platform/storage/index.js';
import type { BucketStorages } from '../../../platform/storage/configured.js';

export interface FilesSettings {
  /** The storage of this request's bucket: the system default, or an owned bucket's driver
   *  (shared/bucket-storage.ts swaps it in for a session's or a file's bucket). */
  readonly storage: ObjectStorage;
  /** Owned buckets (F1): sealing, endpoint checks and cached drivers. */
  readonly buckets: BucketStorages;
  /** Set when `storage` is an owned bucket's: its id and size limit (F8). */
  readonly bucket?: { readonly id: string; readonly sizeLimitBytes: number | null };
  readonly scanner: ClamdClient | undefined;
  readonly downloadKey: Buffer;
  readonly maxFileBytes: number;
  readonly userQuotaBytes: number;
  readonly storageQuotaBytes: number;
}

/** The `bucket` column of sessions and files in the system default; owned buckets write their id. */
export const DEFAULT_BUCKET = 'default';
