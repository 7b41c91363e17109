// Shapes the files module's rooms share.
import { Type } from 'typebox';

export const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
export const Iso = Type.String({ maxLength: 40 });
export const Empty = Type.Object({}, { additionalProperties: false });
/** A raw body (tus): its bytes are read by the handler, never parsed; the schema admits none. */
export const RawBody = Type.Unknown({ description: 'Raw bytes, read by the handler.' });
export const NoContent = Type.Null();
