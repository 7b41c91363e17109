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
