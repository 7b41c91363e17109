// Access to clinical records (Z4, Z5, L3): the caller's scopes, the one deny-by-default check,
// and the PHI audit. Modules import these from here.
export {
  ORGANIZATION_STAFF_SCOPE,
  accountRoleForMembership,
  organizationScope,
  patientSelfScope,
  requireOrganizationAdmin,
  requireUser,
  type OrganizationScope,
  type PatientSelfScope,
} from './scopes.js';
export {
  PHI_ACTIONS,
  PHI_BATCH_ID_CAP,
  auditPhi,
  auditPhiBatch,
  type PhiAccess,
  type PhiAction,
  type PhiBatchAccess,
} from './phi-audit.js';
export { requireAccess } from './require-access.js';
export { ownerStillRelated } from './file-access.js';
export {
  OWN_RECORD,
  RESOURCE_ACTIONS,
  type AccessResults,
  type AccessTargets,
  type AssignmentAccess,
  type BucketAccess,
  type FileAccess,
  type StudyAccess,
  type OrganizationTarget,
  type PatientAccess,
  type PatientAccessBasis,
  type PatientTarget,
  type Permission,
  type ResourceKind,
} from './permissions.js';
