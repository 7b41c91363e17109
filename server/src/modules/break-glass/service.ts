// Break-glass use cases (Z5, L3): an admin may see one patient's record, as the patient sees it
// in the portal, only with a stated reason, a fresh MFA check (the route's step-up), for a
// limited time, read-only and fully audited. A grant opens exactly one route (the record view);
// it carries no scope, so every staff route (and every write) stays closed to the admin. Each use
// is a patient.read event with the grant id, which the patient sees in their access list; so is
// each search that lists them (patient.listed) while the admin looks for the record to open.
import type { FastifyRequest } from 'fastify';
import {
  auditPhi,
  auditPhiBatch,
  requireAccess,
  requireUser,
} from '../../platform/access/index.js';
import { HavenError, type FieldError } from '../../platform/errors.js';
import { requestContext } from '../../platform/http/request-context.js';
import type { ModuleContext } from '../../platform/module-context.js';
import { recordUserEvent } from '../../platform/user-event.js';
import { FieldErrors, cleanProse, cleanText } from '../../platform/text.js';
import { listPatientConsents } from '../patients/index.js';
import { listSharedNotes, loadPatientRecordView } from '../portal/index.js';
import type { BreakGlassSettings } from './index.js';
import * as repo from './repo.js';
import type { GrantRow, PatientLookup } from './repo.js';
import {
  GRANT_LIST_LIMIT,
  MAX_QUERY,
  MAX_REASON,
  MIN_QUERY,
  MIN_REASON,
  PATIENT_MATCH_LIMIT,
  type GrantRecord,
  type GrantRequest,
  type GrantView,
  type PatientMatch,
} from './schemas.js';

type BreakGlassContext = ModuleContext<BreakGlassSettings>;

const isActive = (row: { revoked_at: Date | null; expires_at: Date }, now: Date): boolean =>
  row.revoked_at === null && row.expires_at.getTime() > now.getTime();

function toGrantView(row: GrantRow, now: Date): GrantView {
  return {
    id: row.id,
    adminId: row.admin_id,
    adminDisplayName: row.admin_display_name,
    patientId: row.patient_id,
    patientGivenName: row.patient_given_name,
    patientFamilyName: row.patient_family_name,
    patientMrn: row.patient_mrn,
    organizationId: row.organization_id,
    organizationName: row.organization_name,
    reason: row.reason,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    revokedAt: row.revoked_at ? row.revoked_at.toISOString() : null,
    active: isActive(row, now),
  };
}

/** The most words of a query that must each start a name; more would only slow the search. */
const MAX_QUERY_WORDS = 5;

/**
 * The query as searched: NFC, trimmed, no control or invisible formatting characters, at least
 * MIN_QUERY characters (code points) and one word; its first words, split at spaces and commas.
 */
function cleanQuery(raw: string): { query: string; words: string[] } {
  const errors = new FieldErrors();
  const query = cleanText(errors, 'body.query', raw, { required: true, maxLength: MAX_QUERY });
  const words = (query ?? '').split(/[\s,]+/u).filter((word) => word.length > 0);
  if (query === undefined || Array.from(query).length < MIN_QUERY || words.length === 0) {
    if (errors.list.length === 0) {
      errors.add('body.query', `must be at least ${MIN_QUERY} characters`);
    }
    throw new HavenError('VALIDATION_FAILED', 'Enter at least two characters of a name or MRN.', {
      errors: errors.list,
    });
  }
  return { query, words: words.slice(0, MAX_QUERY_WORDS) };
}

/**
 * Patients, in any organization, the admin may pick to open: the MRN, or words that start the
 * family or given names. Each search shows PHI (names, birth dates), so every patient listed is
 * audited as patient.listed, one batch per organization (the patient's access list finds a
 * listing by the record's organization), and sees "Saw your name in a list of patients".
 */
export async function searchPatientsToOpen(
  ctx: BreakGlassContext,
  request: FastifyRequest,
  rawQuery: string,
): Promise<PatientMatch[]> {
  requireUser(request);
  const { query, words } = cleanQuery(rawQuery);
  return ctx.db.transaction().execute(async (trx) => {
    const rows = await repo.searchPatients(trx, { query, words, limit: PATIENT_MATCH_LIMIT });
    const listedByOrganization = new Map<string, string[]>();
    for (const row of rows) {
      const listed = listedByOrganization.get(row.organization_id) ?? [];
      listed.push(row.id);
      listedByOrganization.set(row.organization_id, listed);
    }
    for (const [organizationId, patientIds] of listedByOrganization) {
      await auditPhiBatch(trx, request, {
        action: 'patient.listed',
        patientIds,
        organizationId,
        details: { via: 'break_glass_search' },
      });
    }
    return rows.map((row) => ({
      id: row.id,
      givenName: row.given_name,
      familyName: row.family_name,
      birthDate: row.birth_date,
      mrn: row.mrn,
      organizationId: row.organization_id,
      organizationName: row.organization_name,
    }));
  });
}

/** Exactly one way of naming the patient: their id, or their organization and MRN. */
function patientLookup(body: GrantRequest): PatientLookup {
  const errors: FieldError[] = [];
  const { patientId, organizationId, mrn } = body;
  if (patientId !== undefined && organizationId === undefined && mrn === undefined) {
    return { by: 'id', patientId };
  }
  if (patientId === undefined && organizationId !== undefined && mrn !== undefined) {
    return { by: 'mrn', organizationId, mrn };
  }
  if (patientId !== undefined) {
    errors.push({
      field: 'patientId',
      message: 'Give either patientId, or organizationId and mrn.',
    });
  } else {
    if (organizationId === undefined) {
      errors.push({ field: 'organizationId', message: 'organizationId is required with mrn.' });
    }
    if (mrn === undefined) {
      errors.push({ field: 'mrn', message: 'mrn is required with organizationId.' });
    }
  }
  throw new HavenError('VALIDATION_FAILED', 'Name the patient in exactly one way.', { errors });
}

/**
 * The reason as stored and shown to the patient: NFC, trimmed, with no invisible or reordering
 * characters (bidirectional overrides, C1 controls, lone surrogates), and 10–500 characters
 * counted in code points, as the database's length() counts them.
 */
function cleanReason(raw: string): string {
  const errors = new FieldErrors();
  const prose = cleanProse(errors, 'reason', raw, MAX_REASON);
  if (prose === undefined) {
    throw new HavenError('VALIDATION_FAILED', 'State the reason for this access.', {
      errors: errors.list,
    });
  }
  const reason = prose.trim();
  if (Array.from(reason).length < MIN_REASON) {
    throw new HavenError('VALIDATION_FAILED', 'State the reason for this access.', {
      errors: [{ field: 'reason', message: `At least ${MIN_REASON} characters.` }],
    });
  }
  return reason;
}

/** A denial that must outlive the request's failure: written in its own transaction. */
async function auditDenied(
  ctx: BreakGlassContext,
  request: FastifyRequest,
  denial: {
    adminId: string;
    action: 'breakglass.denied' | 'breakglass.refused';
    target: { type: string; id: string };
    details: Record<string, string | number | boolean | null>;
  },
): Promise<void> {
  const { adminId, ...event } = denial;
  await recordUserEvent(ctx.db, adminId, requestContext(request), { ...event, outcome: 'denied' });
}

/** Opens a grant on the named patient; 404 (audited without the MRN) when there is none. */
export async function requestGrant(
  ctx: BreakGlassContext,
  request: FastifyRequest,
  body: GrantRequest,
): Promise<GrantView> {
  const { userId } = requireUser(request);
  const lookup = patientLookup(body);
  const reason = cleanReason(body.reason);
  const now = ctx.now();
  const { grantMs } = ctx.settings;
  const grant = await ctx.db.transaction().execute(async (trx) => {
    const patient = await repo.findPatient(trx, lookup);
    if (!patient) return undefined;
    const grantId = await repo.insertGrant(trx, {
      adminId: userId,
      patientId: patient.id,
      organizationId: patient.organization_id,
      reason,
      createdAt: now,
      expiresAt: new Date(now.getTime() + grantMs),
    });
    // The reason lives in the grant row (shown to the patient); the audit log gets its length.
    await auditPhi(trx, request, {
      action: 'breakglass.granted',
      patientId: patient.id,
      grantId,
      details: { reasonLength: reason.length, minutes: Math.round(grantMs / 60_000) },
    });
    return repo.findGrant(trx, grantId);
  });
  if (!grant) {
    // The MRN is PHI: the denial records only how the patient was named, never the value.
    await auditDenied(ctx, request, {
      adminId: userId,
      action: 'breakglass.denied',
      target:
        lookup.by === 'id'
          ? { type: 'patient', id: lookup.patientId }
          : { type: 'organization', id: lookup.organizationId },
      details: { lookup: lookup.by === 'id' ? 'patient_id' : 'organization_mrn' },
    });
    throw new HavenError('NOT_FOUND', 'No such patient.');
  }
  return toGrantView(grant, now);
}

type GrantUse =
  | { readonly inactive: 'revoked' | 'expired'; readonly grant: GrantRow }
  | ({ readonly inactive: undefined; readonly grant: GrantRow } & Omit<GrantRecord, 'grant'>);

/** The patient's record under the caller's own live grant, audited as a read with its id. */
export async function readUnderGrant(
  ctx: BreakGlassContext,
  request: FastifyRequest,
  grantId: string,
): Promise<GrantRecord> {
  const { userId } = requireUser(request);
  const now = ctx.now();
  const use = await ctx.db.transaction().execute(async (trx): Promise<GrantUse> => {
    const grant = await repo.findHeldGrantForShare(trx, grantId, userId);
    if (!grant) throw new HavenError('NOT_FOUND');
    if (!isActive(grant, now)) {
      return { inactive: grant.revoked_at ? 'revoked' : 'expired', grant };
    }
    const access = await requireAccess(
      trx,
      request,
      'patient:read',
      { patientId: grant.patient_id, grantId: grant.id },
      { now },
    );
    const record = await loadPatientRecordView(trx, access.patientId);
    if (!record) throw new HavenError('NOT_FOUND');
    const consents = await listPatientConsents(trx, access.patientId);
    const notes = await listSharedNotes(trx, access.patientId);
    await auditPhi(trx, request, {
      action: 'patient.read',
      patientId: access.patientId,
      grantId: grant.id,
      details: { via: 'break_glass' },
    });
    return { inactive: undefined, grant, record, consents, notes };
  });
  if (use.inactive !== undefined) {
    await auditDenied(ctx, request, {
      adminId: userId,
      action: 'breakglass.refused',
      target: { type: 'break_glass_grant', id: use.grant.id },
      details: { grantId: use.grant.id, state: use.inactive },
    });
    throw new HavenError(
      'BREAK_GLASS_INACTIVE',
      `This grant was ${use.inactive === 'revoked' ? 'revoked' : 'expired'}; request a new one.`,
    );
  }
  const { grant, record, consents, notes } = use;
  return { grant: toGrantView(grant, now), record, consents, notes };
}

/** Every admin's grants (the oversight view), newest first; the listing itself is audited. */
export async function listGrants(
  ctx: BreakGlassContext,
  request: FastifyRequest,
  active: boolean | undefined,
): Promise<GrantView[]> {
  const { userId } = requireUser(request);
  const now = ctx.now();
  const rows = await repo.listGrants(ctx.db, { active, now, limit: GRANT_LIST_LIMIT });
  await recordUserEvent(ctx.db, userId, requestContext(request), {
    action: 'breakglass.listed',
    details: { count: rows.length, active: active ?? null },
  });
  return rows.map((row) => toGrantView(row, now));
}

/** Ends a live grant (any admin may); 409 when it already ended. */
export async function revokeGrant(
  ctx: BreakGlassContext,
  request: FastifyRequest,
  grantId: string,
): Promise<GrantView> {
  const { userId } = requireUser(request);
  const now = ctx.now();
  const grant = await ctx.db.transaction().execute(async (trx) => {
    const current = await repo.lockGrant(trx, grantId);
    if (!current) throw new HavenError('NOT_FOUND');
    if (!isActive(current, now)) {
      throw new HavenError(
        'CONFLICT',
        current.revoked_at ? 'This grant was already revoked.' : 'This grant has expired.',
      );
    }
    await repo.markRevoked(trx, grantId, userId, now);
    await auditPhi(trx, request, {
      action: 'breakglass.revoked',
      patientId: current.patient_id,
      grantId,
    });
    return repo.findGrant(trx, grantId);
  });
  return toGrantView(grant, now);
}
