// Request and response schemas of audit-log administration (V1, V3): strict filters, and
// answers that let only the declared fields leave the server.
import { Type, type Static } from 'typebox';
import { SECURITY_EVENTS_MAX } from './security-events/schemas.js';

export const MAX_LIMIT = 100;
const NO_CONTROL = '^[^\\u0000-\\u001f\\u007f]*$';

const Outcome = Type.Union([
  Type.Literal('success'),
  Type.Literal('failure'),
  Type.Literal('denied'),
]);

export const SearchQuery = Type.Object(
  {
    actorId: Type.Optional(Type.String({ format: 'uuid', maxLength: 36 })),
    targetType: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: NO_CONTROL })),
    targetId: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: NO_CONTROL })),
    // A family (`breakglass`), a prefix (`auth.`, `patient.note*`) or an exact action.
    action: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: NO_CONTROL })),
    outcome: Type.Optional(Outcome),
    from: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
    to: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
    before: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$', maxLength: 18 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT })),
  },
  { additionalProperties: false },
);
export type SearchFilters = Static<typeof SearchQuery>;

/** The export takes the search's filters; it has no paging, it is capped instead. */
export const ExportQuery = Type.Omit(SearchQuery, ['before', 'limit'], {
  additionalProperties: false,
});
export type ExportFilters = Static<typeof ExportQuery>;
export const ExportBody = Type.String({ description: 'CSV text, at most EXPORT_ROW_CAP rows.' });

/** What the filter form offers: known actions and their families (first segments). */
export const ActionCatalogue = Type.Object(
  {
    families: Type.Array(Type.String({ maxLength: 100 }), { maxItems: 1000 }),
    actions: Type.Array(Type.String({ maxLength: 100 }), { maxItems: 1000 }),
  },
  { additionalProperties: false },
);
export type ActionCatalogueView = Static<typeof ActionCatalogue>;

const AuditEntrySchema = Type.Object(
  {
    seq: Type.String({ maxLength: 20 }),
    id: Type.String({ maxLength: 36 }),
    occurredAt: Type.String({ maxLength: 40 }),
    actorType: Type.String({ maxLength: 20 }),
    actorId: Type.Union([Type.String({ maxLength: 128 }), Type.Null()]),
    actorDisplayName: Type.Union([Type.String({ maxLength: 100 }), Type.Null()]),
    action: Type.String({ maxLength: 100 }),
    targetType: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
    targetId: Type.Union([Type.String({ maxLength: 128 }), Type.Null()]),
    // The target's name for this reader (target-names.ts): a patient's name only when the
    // reader may open that record; null when there is nothing to name.
    targetName: Type.Optional(Type.Union([Type.String({ maxLength: 300 }), Type.Null()])),
    outcome: Outcome,
    requestId: Type.Union([Type.String({ maxLength: 128 }), Type.Null()]),
    // recordAudit only ever stores flat string/number/boolean/null values.
    details: Type.Object(
      {},
      {
        additionalProperties: Type.Union([
          Type.String({ maxLength: 200 }),
          Type.Number(),
          Type.Boolean(),
          Type.Null(),
        ]),
      },
    ),
  },
  { additionalProperties: false },
);

export const AuditPage = Type.Object(
  {
    events: Type.Array(AuditEntrySchema, { maxItems: MAX_LIMIT }),
    nextBefore: Type.Union([Type.String({ maxLength: 20 }), Type.Null()]),
  },
  { additionalProperties: false },
);
export type AuditPageView = Static<typeof AuditPage>;
export type AuditEntryView = Static<typeof AuditEntrySchema>;

/** The administrator's home panel (security-events/): the newest events worth a look, no paging. */
export const SecurityEventList = Type.Object(
  { events: Type.Array(AuditEntrySchema, { maxItems: SECURITY_EVENTS_MAX }) },
  { additionalProperties: false },
);
export type SecurityEventListView = Static<typeof SecurityEventList>;

export const VerifyRequest = Type.Object({}, { additionalProperties: false });

export const VerifyAnswer = Type.Object(
  {
    ok: Type.Boolean(),
    checked: Type.Integer({ minimum: 0 }),
    lastHash: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
    firstBadSeq: Type.Optional(Type.String({ maxLength: 20 })),
    problem: Type.Optional(
      Type.Union([
        Type.Literal('edited'),
        Type.Literal('deleted'),
        Type.Literal('reordered'),
        Type.Literal('inserted'),
      ]),
    ),
    message: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
