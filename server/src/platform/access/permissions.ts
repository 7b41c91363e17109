// The vocabulary of requireAccess (Z4, Z5): which actions exist on which kind of resource, how a
// resource of each kind is named, and what an allowed caller learns about it. A permission is
// "<kind>:<action>"; anything not listed here grants nothing.
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { DatabaseSchema, OrganizationRole, StudyRole, StudyStatus } from '../db/schema.js';
import type { OrganizationScope } from './scopes.js';

type Db = Kysely<DatabaseSchema>;

/** The actions of each resource kind. */
export const RESOURCE_ACTIONS = {
  patient: ['read', 'write'],
  organization: ['read', 'administer', 'list_patients', 'add_patients', 'run_studies'],
  study: ['read', 'manage', 'administer', 'export', 'participate'],
  assignment: ['read', 'answer'],
  file: ['read', 'download', 'delete'],
  bucket: ['read', 'use', 'manage'],
} as const satisfies Record<string, readonly string[]>;

export type ResourceKind = keyof typeof RESOURCE_ACTIONS;
export type ActionOf<K extends ResourceKind> = (typeof RESOURCE_ACTIONS)[K][number];
export type Permission = { [K in ResourceKind]: `${K}:${ActionOf<K>}` }[ResourceKind];
export type KindOf<P extends Permission> = P extends `${infer K extends ResourceKind}:${string}`
  ? K
  : never;

/**
 * One patient record, named by its id — under a break-glass grant when `grantId` is given, as
 * staff of the active organization only when `via` is 'organization' (the staff routes, which
 * show what a patient may not see, such as notes not shared) — or as "the record linked to my
 * account" (the portal, whose URLs carry no patient id).
 */
export type PatientTarget =
  | { readonly patientId: string; readonly grantId?: string }
  | { readonly patientId: string; readonly via: 'organization' }
  | { readonly ownRecord: true };

/** The record linked to the caller's account (patients.portal_user_id). */
export const OWN_RECORD: PatientTarget = Object.freeze({ ownRecord: true });

/**
 * The organization the session works in, or, with an id, that organization, which the caller
 * must be a member of (active or not: choosing the active one and managing members name it).
 */
export interface OrganizationTarget {
  readonly organizationId?: string;
}

/** Why the caller may touch the record. */
export type PatientAccessBasis =
  | { readonly via: 'organization'; readonly role: OrganizationRole }
  | { readonly via: 'self' }
  | { readonly via: 'break_glass'; readonly grantId: string };

/** An allowed access to one patient record: the scope every later query is keyed on. */
export interface PatientAccess {
  readonly userId: string;
  readonly patientId: string;
  readonly organizationId: string;
  readonly basis: PatientAccessBasis;
}

/** One research study, named by its id. */
export interface StudyTarget {
  readonly studyId: string;
}

/**
 * An allowed access to one study: its team role decides which actions (owner and researchers
 * run it, participants take part), and every later query is keyed on `studyId`.
 */
export interface StudyAccess {
  readonly userId: string;
  readonly studyId: string;
  readonly organizationId: string;
  readonly role: StudyRole;
  readonly status: StudyStatus;
}

/** One review assignment (participant × case), named by its id. */
export interface AssignmentTarget {
  readonly assignmentId: string;
}

/** The caller's own assignment in a study they still take part in. */
export interface AssignmentAccess {
  readonly userId: string;
  readonly assignmentId: string;
  readonly studyId: string;
  readonly caseId: string;
  readonly status: StudyStatus;
}

/** One uploaded file, named by its id. */
export interface FileTarget {
  readonly fileId: string;
}

/** Why the caller may see one file. */
export type FileAccessBasis = 'owner' | 'organization' | 'self';

/** An allowed access to one file (deleted files are never found). */
export interface FileAccess {
  readonly userId: string;
  readonly fileId: string;
  readonly basis: FileAccessBasis;
}

/** One owned storage bucket, named by its id (the system default is never a target). */
export interface BucketTarget {
  readonly bucketId: string;
}

/** Why the caller may touch one bucket. */
export type BucketAccessBasis = 'owner' | 'organization_admin' | 'organization_member';

/** An allowed access to one owned bucket (deleted buckets are never found). */
export interface BucketAccess {
  readonly userId: string;
  readonly bucketId: string;
  readonly basis: BucketAccessBasis;
  /** The owning organization, when an organization owns it. */
  readonly organizationId: string | null;
}

export interface AccessTargets {
  patient: PatientTarget;
  organization: OrganizationTarget;
  study: StudyTarget;
  assignment: AssignmentTarget;
  file: FileTarget;
  bucket: BucketTarget;
}

export interface AccessResults {
  patient: PatientAccess;
  organization: OrganizationScope;
  study: StudyAccess;
  assignment: AssignmentAccess;
  file: FileAccess;
  bucket: BucketAccess;
}

export interface ResolverInput<K extends ResourceKind> {
  readonly db: Db;
  readonly request: FastifyRequest;
  readonly userId: string;
  readonly action: ActionOf<K>;
  readonly target: AccessTargets[K];
  readonly now: Date;
}

/**
 * Decides one kind of resource: the access when some relationship of the caller to it allows
 * the action, undefined otherwise (requireAccess turns that into the same 404 as a missing
 * resource). A resolver throws only for answers that reveal nothing about the resource, e.g.
 * 409 NO_ACTIVE_ORGANIZATION, or 403 for a member who may see an organization but not run it.
 */
export type AccessResolver<K extends ResourceKind> = (
  input: ResolverInput<K>,
) => Promise<AccessResults[K] | undefined>;

/** The 404 detail of a denied or missing resource of each kind. */
export const NOT_FOUND_DETAIL: Readonly<Record<ResourceKind, string>> = Object.freeze({
  patient: 'The patient was not found.',
  organization: 'The organization was not found.',
  study: 'The study was not found.',
  assignment: 'The assignment was not found.',
  file: 'The file was not found.',
  bucket: 'The bucket was not found.',
});
