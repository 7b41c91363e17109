// The one check of an OAuth client's name (V1), apart from the service so it stays short.
import type { FieldError } from '../../platform/errors.js';
import { FieldErrors, cleanText } from '../../platform/text.js';

/**
 * The client's name as stored: trimmed, NFC, visible (platform/text.ts). The consent page tells
 * a person "<name> wants to access your Haven account": an invisible or reordering character
 * would let an app registered by an organization pass for another there (V1).
 */
export function checkClientName(raw: string): { name: string | undefined; errors: FieldError[] } {
  const found = new FieldErrors();
  const name = cleanText(found, 'name', raw, { required: true, maxLength: 120 });
  return { name, errors: found.list.map((error) => ({ ...error, code: 'invalid' })) };
}
