// Every background job Haven knows, in one place: the server's embedded worker and
// `haven worker` both take their handlers and schedules from here.
import type { JobHandler } from '../platform/jobs.js';

export function jobHandlers(): Record<string, JobHandler> {
  return {};
}

export function jobSchedules(): Array<{ queue: string; everyMs: number }> {
  return [];
}
