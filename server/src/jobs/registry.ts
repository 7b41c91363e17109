// Every background job Haven knows, in one place: the server's embedded worker and
// `haven worker` both take their handlers and schedules from here.
import type { JobHandler } from '../platform/jobs.js';
import { purgeExpiredIdentityRecords } from '../modules/identity/cleanup.js';

export function jobHandlers(): Record<string, JobHandler> {
  return {
    // A13: idempotent conditional deletes, so overlapping runs on several nodes are harmless.
    'identity.cleanup': async (_payload, { db, log }) => {
      const counts = await purgeExpiredIdentityRecords(db, new Date());
      log.info(counts, 'identity records purged');
    },
  };
}

export function jobSchedules(): Array<{ queue: string; everyMs: number }> {
  return [{ queue: 'identity.cleanup', everyMs: 10 * 60_000 }];
}
