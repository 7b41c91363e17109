/** Shapes the server checks too: the SPA checks them first to point at the wrong field at once. */
export const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+$/;
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A medical record number: a letter or digit, then letters, digits or dashes (up to 32). */
export const MRN_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/;
