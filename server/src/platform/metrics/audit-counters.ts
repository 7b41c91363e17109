// Security counters derived from audit events (L4), in this one place: every sign-in failure,
// lockout, refresh-token reuse, break-glass grant and scan result is already an audit event,
// written by recordAudit, so counting them here (and nowhere in the modules) keeps the metrics
// and the audit log from disagreeing. Labels take the action and outcome, which are constants
// in the code; an event's actor, target, address and details other than the reason never
// reach a label.
import type { AuditEvent } from '../audit/audit.js';
import type { MetricSet } from './registry.js';

/** The steps where a person proves who they are; a refusal there is an authentication failure. */
const AUTH_ACTIONS = new Set(['auth.login', 'auth.mfa', 'auth.step_up']);

/**
 * How the scan job's quarantine reasons (modules/files/scanning/scan-job.ts) read as a scan
 * result: `malware:<signature>` is infected, `not_scannable:<why>` is clamd failing to scan it,
 * and the rest (type, storage or encryption checks) are rejected before clamd.
 */
function scanResultOf(event: Readonly<AuditEvent>): string | undefined {
  if (event.action === 'file.scan.clean') return 'clean';
  if (event.action !== 'file.quarantine') return undefined;
  const reason = event.details?.reason;
  if (typeof reason !== 'string') return 'rejected';
  if (reason.startsWith('malware:')) return 'infected';
  if (reason.startsWith('not_scannable:')) return 'error';
  return 'rejected';
}

/** Counts one audit event into the metrics it bears on. */
export function countAuditEvent(metrics: MetricSet, event: Readonly<AuditEvent>): void {
  const { action, outcome } = event;
  metrics.auditEvents.inc({ action, outcome });
  if (AUTH_ACTIONS.has(action) && outcome !== 'success') {
    metrics.authFailures.inc({ action, outcome });
    if (event.details?.reason === 'backoff') metrics.lockouts.inc({ action });
  }
  if (action === 'auth.refresh_reuse') metrics.refreshReuse.inc();
  if (action === 'breakglass.granted' && outcome === 'success') metrics.breakGlassGrants.inc();
  const scan = scanResultOf(event);
  if (scan !== undefined) metrics.fileScans.inc({ result: scan });
}
