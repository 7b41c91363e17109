// The files module's contract door (server/src/contract.ts): the answer schemas the SPA decodes
// with and the bodies it sends, re-exported from the rooms that serialize and read them.
export { DownloadLink, FileList, FileSchema, UsageAnswer } from './catalog/schemas.js';
export {
  MultipartCompleted,
  MultipartStart,
  MultipartStarted,
  OpenUploadList,
  PartRecord,
  PartRecorded,
  PartUrl,
  RecordedParts,
} from './uploads/schemas.js';
export { BucketAnswer, BucketList, BucketSchema } from './buckets/schemas.js';
