/** The audit log: search, paging to older events, and chain verification. */
export { AuditLogPage } from './AuditLogPage';
export { SecurityEventsHome } from './SecurityEventsHome';
