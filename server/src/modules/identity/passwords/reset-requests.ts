// A password-reset request kept until it is done (A10). The answer (202) must not wait for the
// account lookup — a known email costs two more writes, which made its answer measurably slower —
// so the lookup and the mail happen after the answer. Doing them only in the answering process's
// memory lost an acknowledged request to a database outage (the lookup failed, logged, gone), a
// crash or a restart: the person was told "sent" and never got mail. So before answering, every
// request is recorded in the one statement that costs the same for every email, a job row; the
// answering process then runs that job at once (`runJobNow`), and if it cannot (the database
// away, the process stopping, the relay refusing the mail) the job stays in the queue and a worker
// runs it (jobs/registry.ts). With the database unreachable the record fails, and the caller gets
// 503 with Retry-After instead of a 202 that nothing stands behind.
import type { Logger } from 'pino';
import { enqueueJob, type JobHandler } from '../../../platform/jobs.js';
import { runJobNow } from '../../../platform/job-now.js';
import type { RequestContext } from '../../../platform/http/request-context.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { requestPasswordReset } from './service.js';

export const PASSWORD_RESET_QUEUE = 'identity.password-reset';

/** What the job needs from the process that runs it. */
export type ResetRequestContext = Pick<ModuleContext, 'mailer' | 'now' | 'publicOrigin'>;

/** Records the request (one INSERT whatever the email); the job id, to run it at once. */
export async function recordResetRequest(
  context: Pick<ModuleContext, 'db'>,
  email: string,
  audit: RequestContext,
): Promise<string> {
  const job = await enqueueJob(context.db, PASSWORD_RESET_QUEUE, {
    email,
    requestId: audit.requestId,
    clientAddress: audit.clientAddress,
  });
  if (!job) throw new Error('the password-reset request was not recorded');
  return job.id;
}

/**
 * The job: the link and its mail when the email names an active account. A mail the relay
 * refuses fails the job, and the queue tries again later (a newer link voids the older). Done,
 * its payload (an email address) is emptied.
 */
export function passwordResetJob(context: ResetRequestContext): JobHandler {
  return async (payload, { db, jobId }) => {
    const { email, requestId, clientAddress } = payload;
    if (typeof email !== 'string' || typeof requestId !== 'string') return;
    const audit = {
      requestId,
      clientAddress: typeof clientAddress === 'string' ? clientAddress : '',
    };
    const mail = await requestPasswordReset({ ...context, db }, email, audit);
    if (mail) await context.mailer.send(mail);
    await db
      .updateTable('jobs')
      .set({ payload: JSON.stringify({}) })
      .where('id', '=', jobId)
      .execute();
  };
}

/** After the answer: the job, here and now; what fails stays queued for a worker. */
export function runResetRequestNow(
  context: ResetRequestContext & Pick<ModuleContext, 'db'>,
  jobId: string,
  log: Logger,
): void {
  runJobNow(context.db, jobId, passwordResetJob(context), log).catch((error: unknown) => {
    // Without the email: it may name someone's account. The job stays queued.
    log.warn(
      { resetError: error instanceof Error ? error.name : 'unknown' },
      'password reset request left to the job worker',
    );
  });
}
