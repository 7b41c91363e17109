// The query of GET /api/admin/audit-events/security (the administrator's home panel): only how
// many events to answer. Its answer, `SecurityEventList`, is a list of the search's own
// entries and lives beside them in the module's contract door (../schemas.ts).
import { Type, type Static } from 'typebox';

/** What the home panel shows when it does not ask for another number. */
export const SECURITY_EVENTS_DEFAULT = 8;
/** The most events one answer carries. */
export const SECURITY_EVENTS_MAX = 50;

export const SecurityEventsQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: SECURITY_EVENTS_MAX })) },
  { additionalProperties: false },
);
export type SecurityEventsFilters = Static<typeof SecurityEventsQuery>;
