/**
 * For answers the page does not read: every answer it reads is decoded with the server's own
 * schema (schemaDecoding.ts, `@haven/contract`).
 */
import type { Decoder } from './api';

/** The page reloads instead, or there is no body at all. */
export const ignoreBody: Decoder<null> = () => null;
