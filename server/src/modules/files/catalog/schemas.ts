// Files on the wire.
import { Type, type Static } from 'typebox';
import { openAnswer } from '../../../platform/http/schemas.js';
import { Iso, Uuid } from '../shared/schemas.js';

export const FILE_LIST_LIMIT = 200;

export const FileParams = Type.Object({ fileId: Uuid }, { additionalProperties: false });

export const FileListQuery = Type.Object(
  {
    /** A patient's record (staff of its organization, or the patient); absent: my uploads. */
    patientId: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);

export const FileStatusSchema = Type.Union([
  Type.Literal('scanning'),
  Type.Literal('clean'),
  Type.Literal('quarantined'),
]);

export const FileSchema = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    type: Type.String(),
    typeLabel: Type.String(),
    size: Type.Integer(),
    sha256: Type.Union([Type.String(), Type.Null()]),
    status: FileStatusSchema,
    /** A sentence for people: why it is not downloadable, or null. */
    statusText: Type.Union([Type.String(), Type.Null()]),
    downloadable: Type.Boolean(),
    canDelete: Type.Boolean(),
    uploadedBy: Type.Object({ id: Uuid, name: Type.String() }, { additionalProperties: false }),
    patient: Type.Union([
      Type.Object({ id: Uuid, name: Type.String() }, { additionalProperties: false }),
      Type.Null(),
    ]),
    createdAt: Iso,
    scannedAt: Type.Union([Iso, Type.Null()]),
  },
  { additionalProperties: false },
);
export type FileView = Static<typeof FileSchema>;

export const FileAnswer = Type.Object({ file: FileSchema }, { additionalProperties: false });
export const FileList = Type.Object(
  { files: Type.Array(FileSchema) },
  { additionalProperties: false },
);

export const DownloadQuery = Type.Object(
  {
    expires: Type.String({ pattern: '^[0-9]{1,12}$', maxLength: 12 }),
    signature: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$', maxLength: 43 }),
  },
  { additionalProperties: false },
);

export const DownloadLink = Type.Object(
  { url: Type.String(), expiresAt: Iso },
  { additionalProperties: false },
);

export const UsageAnswer = Type.Object(
  {
    usedBytes: Type.Integer(),
    quotaBytes: Type.Integer(),
    maxFileBytes: Type.Integer(),
    /** Extensions Haven accepts, with the dot: the SPA checks names before uploading. */
    allowedExtensions: Type.Array(Type.String()),
    /** 'not_configured': uploads wait for a scanner and cannot be downloaded meanwhile. */
    scanner: Type.Union([Type.Literal('configured'), Type.Literal('not_configured')]),
    /** Bytes per tus PATCH the SPA sends (a chunk cut off is resent from its last whole part). */
    chunkBytes: Type.Integer(),
    /**
     * Null: uploads go through the server (tus). A number: the browser sends parts straight to
     * storage (S3 multipart, /api/files/multipart), each this many bytes, rounded up to whole MiB
     * for a file that would need more than 10,000 parts.
     */
    multipartPartBytes: Type.Union([Type.Integer(), Type.Null()]),
  },
  { additionalProperties: false },
);

// A byte stream sent as it is read from storage, never through the JSON serializer.
export const DownloadContent = openAnswer(Type.Unknown({ description: 'The file bytes.' }));
