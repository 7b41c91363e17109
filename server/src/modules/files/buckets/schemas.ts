// Buckets on the wire (F1, Z6). Credentials come in and never go out: a view carries at most the
// last four characters of the access key id.
import { Type, type Static } from 'typebox';
import { Iso, Uuid } from '../shared/schemas.js';

/** The system default bucket's id in the API: it has no row and is read-only (Z6). */
export const DEFAULT_BUCKET_ID = 'default';

export const BucketParams = Type.Object(
  { bucketId: Type.Union([Uuid, Type.Literal(DEFAULT_BUCKET_ID)]) },
  { additionalProperties: false },
);

const SseMode = Type.Union([Type.Literal('none'), Type.Literal('AES256'), Type.Literal('aws:kms')]);
const SizeLimit = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });

const fields = {
  /** S3 bucket name: checked against S3's naming rules by the service (field errors). */
  name: Type.String({ minLength: 1, maxLength: 63 }),
  /** https origin of the S3 API (e.g. `https://s3.eu-central-1.amazonaws.com`). */
  endpoint: Type.String({ minLength: 1, maxLength: 300 }),
  region: Type.String({ minLength: 1, maxLength: 40 }),
  pathStyle: Type.Boolean(),
  accessKeyId: Type.String({ minLength: 1, maxLength: 128 }),
  secretAccessKey: Type.String({ minLength: 1, maxLength: 256 }),
  sseMode: SseMode,
  /** Required with `aws:kms`, refused otherwise. */
  kmsKeyId: Type.Union([Type.String({ minLength: 1, maxLength: 2048 }), Type.Null()]),
  sizeLimitBytes: Type.Union([SizeLimit, Type.Null()]),
  notes: Type.String({ maxLength: 2000 }),
};

export const CreateBucketBody = Type.Object(
  {
    /** Owned by this organization (its administrators only); absent: the caller's own. */
    organizationId: Type.Optional(Uuid),
    name: fields.name,
    endpoint: fields.endpoint,
    region: fields.region,
    pathStyle: Type.Optional(fields.pathStyle),
    accessKeyId: fields.accessKeyId,
    secretAccessKey: fields.secretAccessKey,
    sseMode: fields.sseMode,
    kmsKeyId: Type.Optional(fields.kmsKeyId),
    sizeLimitBytes: Type.Optional(fields.sizeLimitBytes),
    notes: Type.Optional(fields.notes),
  },
  { additionalProperties: false },
);
export type CreateBucketInput = Static<typeof CreateBucketBody>;

export const UpdateBucketBody = Type.Object(
  {
    name: Type.Optional(fields.name),
    endpoint: Type.Optional(fields.endpoint),
    region: Type.Optional(fields.region),
    pathStyle: Type.Optional(fields.pathStyle),
    /** New credentials: both parts together. */
    accessKeyId: Type.Optional(fields.accessKeyId),
    secretAccessKey: Type.Optional(fields.secretAccessKey),
    sseMode: Type.Optional(fields.sseMode),
    kmsKeyId: Type.Optional(fields.kmsKeyId),
    sizeLimitBytes: Type.Optional(fields.sizeLimitBytes),
    notes: Type.Optional(fields.notes),
  },
  { additionalProperties: false },
);
export type UpdateBucketInput = Static<typeof UpdateBucketBody>;

export const BucketSchema = Type.Object(
  {
    /** A bucket id, or `default` for the system default. */
    id: Type.String(),
    isDefault: Type.Boolean(),
    /** The default bucket cannot be edited or deleted (Z6). */
    readOnly: Type.Boolean(),
    owner: Type.Object(
      {
        type: Type.Union([
          Type.Literal('system'),
          Type.Literal('user'),
          Type.Literal('organization'),
        ]),
        id: Type.Union([Uuid, Type.Null()]),
      },
      { additionalProperties: false },
    ),
    /** Where the default stores: `filesystem` (embedded, encrypted by Haven) or `s3`. */
    storage: Type.Union([Type.Literal('filesystem'), Type.Literal('s3')]),
    name: Type.Union([Type.String(), Type.Null()]),
    endpoint: Type.Union([Type.String(), Type.Null()]),
    region: Type.Union([Type.String(), Type.Null()]),
    pathStyle: Type.Boolean(),
    sseMode: Type.Union([SseMode, Type.Null()]),
    kmsKeyId: Type.Union([Type.String(), Type.Null()]),
    /** The last four characters of the access key id; the secret is never shown. */
    accessKeyHint: Type.Union([Type.String(), Type.Null()]),
    /** An owned bucket: its size limit and what everyone holds in it. The system default: the
     *  caller's own quota and what the caller holds there (the storage's total is nobody's
     *  business but an administrator's). */
    sizeLimitBytes: Type.Union([Type.Integer(), Type.Null()]),
    usedBytes: Type.Integer(),
    /** Browsers send parts of this many bytes (or more, for files over 10,000 parts) straight
     *  to this storage (S3 multipart; an owned bucket through its upload relay); null: uploads
     *  go through the server with tus. */
    multipartPartBytes: Type.Union([Type.Integer(), Type.Null()]),
    notes: Type.String(),
    canUse: Type.Boolean(),
    canManage: Type.Boolean(),
    createdAt: Type.Union([Iso, Type.Null()]),
    updatedAt: Type.Union([Iso, Type.Null()]),
  },
  { additionalProperties: false },
);
export type BucketView = Static<typeof BucketSchema>;

export const BucketAnswer = Type.Object({ bucket: BucketSchema }, { additionalProperties: false });
export const BucketList = Type.Object(
  { buckets: Type.Array(BucketSchema, { maxItems: 201 }) },
  { additionalProperties: false },
);
