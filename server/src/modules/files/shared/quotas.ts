// F8: storage quotas, per person and per bucket (the default storage's quota, or an owned bucket's
// size limit), checked at start and at completion.
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import { HavenError } from '../../../platform/errors.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { bytesInUse } from './repo.js';
import { DEFAULT_BUCKET, type FilesSettings } from './settings.js';

type Db = Kysely<DatabaseSchema>;

export function mib(bytes: number): string {
  return `${Math.floor(bytes / (1024 * 1024)).toLocaleString('en')} MiB`;
}

/** F8 at start and at completion: the person's quota and the storage's. */
export async function assertWithinQuotas(
  ctx: ModuleContext<FilesSettings>,
  db: Db,
  ownerId: string,
  size: number,
  exceptSession?: string,
): Promise<void> {
  const { userQuotaBytes, storageQuotaBytes } = ctx.settings;
  const except = exceptSession === undefined ? {} : { exceptSession };
  const mine = await bytesInUse(db, { ownerId, ...except });
  if (mine + size > userQuotaBytes) {
    throw new HavenError(
      'QUOTA_EXCEEDED',
      `This upload needs ${mib(size)}, and ${mib(Math.max(0, userQuotaBytes - mine))} of your ${mib(userQuotaBytes)} are free.`,
    );
  }
  // The context's bucket: an owned one (its size limit, none when unset) or the default.
  const owned = ctx.settings.bucket;
  const limit = owned ? owned.sizeLimitBytes : storageQuotaBytes;
  if (limit === null) return;
  const everyone = await bytesInUse(db, { bucket: owned?.id ?? DEFAULT_BUCKET, ...except });
  if (everyone + size > limit) {
    throw new HavenError(
      'QUOTA_EXCEEDED',
      owned
        ? `The bucket is full: this upload needs ${mib(size)}, and ${mib(Math.max(0, limit - everyone))} of its ${mib(limit)} are free.`
        : 'The storage is full; ask an administrator for room.',
    );
  }
}
