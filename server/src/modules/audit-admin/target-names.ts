// Names for the targets of one page of audit events (issue 14: people read names, not UUIDs).
//
// Two kinds of target, two rules:
// - Things an auditor may name anyway — accounts, organizations, studies, consent documents,
//   experiments, buckets — are named from their own table, one batched query per kind.
// - Records about a patient (the patient, a file, a break-glass grant) are health data. Their
//   name is shown only when the one access function (requireAccess) lets the reader open that
//   record right now: as staff of its organization, as the patient themself, or under their own
//   unexpired break-glass grant. Everyone else reads "A patient at <clinic>", which is what the
//   audit trail needs and no more. A resolver answering "not allowed" never throws past here.
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../platform/db/schema.js';
import { requireAccess } from '../../platform/access/index.js';
import { HavenError } from '../../platform/errors.js';

type Db = Kysely<DatabaseSchema>;

/** Target ids are text in audit_events; only a UUID can be looked up in a uuid column. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface AuditTarget {
  readonly targetType: string | null;
  readonly targetId: string | null;
}

/** What naming a page cost in health data: how many patients were shown by name. */
export interface TargetNames {
  readonly labelOf: (target: AuditTarget) => string | null;
  readonly patientsShown: number;
}

const keyOf = (type: string, id: string) => `${type}:${id}`;
const sentenceCase = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** The distinct UUID ids of one target type on the page. */
function idsOf(targets: readonly AuditTarget[], type: string): string[] {
  const ids = new Set<string>();
  for (const t of targets) {
    if (t.targetType === type && t.targetId !== null && UUID.test(t.targetId)) ids.add(t.targetId);
  }
  return [...ids];
}

/** True when requireAccess allows it; its refusals (404, 403, 409) mean "not by name". */
async function allowed(check: () => Promise<unknown>): Promise<boolean> {
  try {
    await check();
    return true;
  } catch (error) {
    if (error instanceof HavenError) return false;
    throw error;
  }
}

/** Accounts, organizations and the research and storage things named by their own title. */
async function nameOpenKinds(db: Db, targets: readonly AuditTarget[], names: Map<string, string>) {
  const users = idsOf(targets, 'user');
  const organizations = idsOf(targets, 'organization');
  const studies = idsOf(targets, 'study');
  const documents = idsOf(targets, 'consent_document');
  const experiments = idsOf(targets, 'experiment');
  const buckets = idsOf(targets, 'bucket');
  const [userRows, orgRows, studyRows, documentRows, experimentRows, bucketRows] =
    await Promise.all([
      users.length === 0
        ? []
        : db
            .selectFrom('users')
            .select(['id', 'display_name as name'])
            .where('id', 'in', users)
            .execute(),
      organizations.length === 0
        ? []
        : db
            .selectFrom('organizations')
            .select(['id', 'name'])
            .where('id', 'in', organizations)
            .execute(),
      studies.length === 0
        ? []
        : db
            .selectFrom('studies')
            .select(['id', 'title as name'])
            .where('id', 'in', studies)
            .execute(),
      documents.length === 0
        ? []
        : db
            .selectFrom('consent_documents')
            .select(['id', 'title as name'])
            .where('id', 'in', documents)
            .execute(),
      experiments.length === 0
        ? []
        : db
            .selectFrom('experiments')
            .select(['id', 'name'])
            .where('id', 'in', experiments)
            .execute(),
      buckets.length === 0
        ? []
        : db
            .selectFrom('buckets')
            .select(['id', 'bucket_name as name'])
            .where('id', 'in', buckets)
            .execute(),
    ]);
  const kinds: Array<[string, ReadonlyArray<{ id: string; name: string }>]> = [
    ['user', userRows],
    ['organization', orgRows],
    ['study', studyRows],
    ['consent_document', documentRows],
    ['experiment', experimentRows],
    ['bucket', bucketRows],
  ];
  for (const [type, rows] of kinds) {
    for (const row of rows) names.set(keyOf(type, row.id), row.name);
  }
}

interface PatientFacts {
  readonly id: string;
  readonly name: string;
  readonly organizationName: string;
}

/** Patients by id with their clinic, for every patient the page mentions directly or through a grant or file. */
async function patientFacts(db: Db, ids: readonly string[]): Promise<Map<string, PatientFacts>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('patients as p')
    .innerJoin('organizations as o', 'o.id', 'p.organization_id')
    .select(['p.id', 'p.given_name', 'p.family_name', 'o.name as organization_name'])
    .where('p.id', 'in', ids)
    .execute();
  return new Map(
    rows.map((r) => [
      r.id,
      { id: r.id, name: `${r.given_name} ${r.family_name}`, organizationName: r.organization_name },
    ]),
  );
}

/**
 * Which of these patients the reader may open now, by requireAccess: membership or self first,
 * then under one of the reader's own live grants (a grant is never implied, so it is named).
 */
async function readablePatients(
  db: Db,
  request: FastifyRequest,
  patientIds: readonly string[],
): Promise<Set<string>> {
  const readable = new Set<string>();
  if (patientIds.length === 0 || request.principal?.kind !== 'user') return readable;
  const now = new Date();
  const grants = await db
    .selectFrom('break_glass_grants')
    .select(['id', 'patient_id'])
    .where('admin_id', '=', request.principal.subject)
    .where('patient_id', 'in', patientIds)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .execute();
  for (const patientId of patientIds) {
    const byRelationship = await allowed(() =>
      requireAccess(db, request, 'patient:read', { patientId }, { now }),
    );
    const grant = grants.find((g) => g.patient_id === patientId);
    const byGrant =
      !byRelationship &&
      grant !== undefined &&
      (await allowed(() =>
        requireAccess(db, request, 'patient:read', { patientId, grantId: grant.id }, { now }),
      ));
    if (byRelationship || byGrant) readable.add(patientId);
  }
  return readable;
}

/** The names of a page's targets, by the two rules at the top of this file. */
export async function nameTargets(
  db: Db,
  request: FastifyRequest,
  targets: readonly AuditTarget[],
): Promise<TargetNames> {
  const names = new Map<string, string>();
  await nameOpenKinds(db, targets, names);

  const grantIds = idsOf(targets, 'break_glass_grant');
  const fileIds = idsOf(targets, 'file');
  const [grants, files] = await Promise.all([
    grantIds.length === 0
      ? []
      : db
          .selectFrom('break_glass_grants')
          .select(['id', 'patient_id'])
          .where('id', 'in', grantIds)
          .execute(),
    fileIds.length === 0
      ? []
      : db
          .selectFrom('files')
          .leftJoin('organizations as o', 'o.id', 'files.organization_id')
          .select(['files.id', 'files.name', 'files.patient_id', 'o.name as organization_name'])
          .where('files.id', 'in', fileIds)
          .execute(),
  ]);
  const patientIds = [
    ...new Set([
      ...idsOf(targets, 'patient'),
      ...grants.map((g) => g.patient_id),
      ...files.flatMap((f) => (f.patient_id === null ? [] : [f.patient_id])),
    ]),
  ];
  const patients = await patientFacts(db, patientIds);
  const readable = await readablePatients(db, request, [...patients.keys()]);
  const named = new Set<string>();
  const patientLabel = (patientId: string): string | null => {
    const facts = patients.get(patientId);
    if (!facts) return null;
    // Lower case: the phrase also ends "Emergency access to …" and "scan.pdf (…)".
    if (!readable.has(patientId)) return `a patient at ${facts.organizationName}`;
    named.add(patientId);
    return facts.name;
  };

  for (const id of idsOf(targets, 'patient')) {
    const label = patientLabel(id);
    if (label !== null) names.set(keyOf('patient', id), sentenceCase(label));
  }
  for (const grant of grants) {
    const label = patientLabel(grant.patient_id);
    if (label !== null) {
      names.set(keyOf('break_glass_grant', grant.id), `Emergency access to ${label}`);
    }
  }
  for (const file of files) {
    // A file's own name can carry health data too: it is shown with the same rule as the
    // patient's (personal files, attached to no one, only to a reader file access allows).
    const readableFile = await allowed(() =>
      requireAccess(db, request, 'file:read', { fileId: file.id }),
    );
    const owner = !readableFile || file.patient_id === null ? null : patientLabel(file.patient_id);
    names.set(
      keyOf('file', file.id),
      readableFile
        ? owner === null
          ? file.name
          : `${file.name} (${owner})`
        : file.organization_name === null
          ? 'A personal file'
          : `A file at ${file.organization_name}`,
    );
  }

  return {
    labelOf: ({ targetType, targetId }) =>
      targetType === null || targetId === null
        ? null
        : (names.get(keyOf(targetType, targetId)) ?? null),
    patientsShown: named.size,
  };
}
