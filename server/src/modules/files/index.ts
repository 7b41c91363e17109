// Medical files (SPEC domain 6, issue 11): resumable uploads (tus through the server, one
// session model for every protocol), type checks and malware scans before anyone may download,
// encryption at rest, quotas, the consent gate for uploads to a patient's record, and short-lived
// signed downloads. Every file is reached through requireAccess (kind `file`,
// platform/access/file-access.ts): one deny-by-default check, 404 for anyone unrelated.
//
// Rooms: uploads (sessions, tus), catalog (lists, one file, delete, usage, downloads),
// scanning (the scan job), cleanup (expired sessions), and buckets (the system default and
// buckets owned by a person or an organization, F1/Z5/Z6; access kind `bucket`).
import { defineModule } from '../../platform/module-context.js';
import type { ClinicalModuleOptions } from '../identity/index.js';
import { registerBucketRoutes } from './buckets/routes.js';
import { registerCatalogRoutes } from './catalog/routes.js';
import type { FilesSettings } from './shared/settings.js';
import { registerMultipartRoutes } from './uploads/multipart-routes.js';
import { registerUploadRoutes } from './uploads/routes.js';

export type { FilesSettings } from './shared/settings.js';

/** The module's front door: app.register(filesModule, options). */
export const filesModule = defineModule<ClinicalModuleOptions<FilesSettings>>(
  (app, { context }) => {
    registerUploadRoutes(app, context);
    registerMultipartRoutes(app, context);
    registerBucketRoutes(app, context);
    registerCatalogRoutes(app, context);
  },
);

export { expireAbandonedUploads, type CleanupCounts } from './cleanup/cleanup-job.js';
export {
  ScanRetryError,
  enqueuePendingScans,
  scanFile,
  type ScanDependencies,
} from './scanning/scan-job.js';
export { SCAN_QUEUE } from './uploads/complete.js';
