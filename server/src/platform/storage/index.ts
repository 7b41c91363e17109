// Where uploaded files live (F4, F6, F7): one ObjectStorage interface, the embedded encrypting
// filesystem driver and the S3 driver. The files module imports these from here.
export {
  MAX_PART_NUMBER,
  MAX_PRESIGN_SECONDS,
  MIN_PART_NUMBER,
  StorageError,
  assertValidKey,
  assertValidPartNumber,
  attachmentDisposition,
  encryptionMatches,
  type ByteRange,
  type CompletedObject,
  type CompletedPart,
  type ExpectedEncryption,
  type ObjectHead,
  type ObjectStorage,
  type PartLimits,
  type PartLister,
  type PresignGetOptions,
  type Presigner,
  type StorageErrorCodeName,
  type StoredObjectStream,
  type StoredPart,
  type UploadPartInput,
} from './storage.js';
export {
  FILESYSTEM_ENCRYPTION,
  openFilesystemStorage,
  type FilesystemStorageOptions,
} from './filesystem.js';
export {
  S3_PART_LIMITS,
  createS3Storage,
  type S3Storage,
  type S3StorageOptions,
  type ServerSideEncryption,
} from './s3.js';
export { assertValidBucketName, assertValidRegion } from './s3-checks.js';
