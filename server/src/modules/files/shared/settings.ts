// The files module's configuration slice: its storage and scanner (built by the platform from
// configuration, platform/storage/configured.ts) and its limits.
import type { ClamdClient } from '../../../platform/scanning/clamd.js';
import type { ObjectStorage } from '../../../platform/storage/index.js';

export interface FilesSettings {
  readonly storage: ObjectStorage;
  readonly scanner: ClamdClient | undefined;
  readonly downloadKey: Buffer;
  readonly maxFileBytes: number;
  readonly userQuotaBytes: number;
  readonly storageQuotaBytes: number;
}

/** The one storage Haven has today; owned buckets (F1) will name theirs. */
export const DEFAULT_BUCKET = 'default';
