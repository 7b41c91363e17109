// Upload sessions on the wire: tus carries its state in headers; the list of unfinished uploads
// is JSON.
import { Type, type Static } from 'typebox';
import { Iso, Uuid } from '../shared/schemas.js';

export const UploadParams = Type.Object({ uploadId: Uuid }, { additionalProperties: false });

export const OpenUploadSchema = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    size: Type.Integer(),
    receivedBytes: Type.Integer(),
    patientId: Type.Union([Uuid, Type.Null()]),
    /** How its bytes travel: tus through the server, or S3 multipart straight to storage. */
    protocol: Type.Union([Type.Literal('tus'), Type.Literal('s3')]),
    createdAt: Iso,
    expiresAt: Iso,
  },
  { additionalProperties: false },
);
export type OpenUploadView = Static<typeof OpenUploadSchema>;

export const OpenUploadList = Type.Object(
  { uploads: Type.Array(OpenUploadSchema) },
  { additionalProperties: false },
);

export const MultipartStart = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 1024 }),
    size: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    sha256: Type.Optional(Type.String({ maxLength: 64 })),
    patientId: Type.Optional(Uuid),
    /** An owned bucket the caller may use (F1); absent or `default`: the system default. */
    bucketId: Type.Optional(Type.Union([Uuid, Type.Literal('default')])),
  },
  { additionalProperties: false },
);

export const MultipartStarted = Type.Object(
  {
    uploadId: Uuid,
    partSize: Type.Integer(),
    partCount: Type.Integer(),
    expiresAt: Iso,
  },
  { additionalProperties: false },
);

export const PartParams = Type.Object(
  { uploadId: Uuid, partNumber: Type.Integer({ minimum: 1, maximum: 10_000 }) },
  { additionalProperties: false },
);

export const PartUrl = Type.Object(
  { url: Type.String(), expiresAt: Iso },
  { additionalProperties: false },
);

export const PartRecord = Type.Object(
  {
    etag: Type.String({ minLength: 1, maxLength: 200 }),
    size: Type.Integer({ minimum: 1, maximum: 5 * 1024 ** 3 }),
  },
  { additionalProperties: false },
);

export const PartRecorded = Type.Object(
  { receivedBytes: Type.Integer(), size: Type.Integer() },
  { additionalProperties: false },
);

export const RecordedParts = Type.Object(
  {
    partSize: Type.Integer(),
    parts: Type.Array(
      Type.Object(
        { partNumber: Type.Integer(), etag: Type.String(), size: Type.Integer() },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const MultipartCompleted = Type.Object({ fileId: Uuid }, { additionalProperties: false });
