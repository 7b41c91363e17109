/** TOTP enrolment and recovery codes (A9). */
import { decodeSignedIn, type SignedIn } from '../../auth/authTypes';
import type { Decoder } from '../../shared/api';
import { expectRecord, field, object, text, textList } from '../../shared/decoding';

export const decodeEnrollment = object('enrolment', {
  secret: text,
  otpauthUri: text,
  qrSvg: text,
});
export type Enrollment = ReturnType<typeof decodeEnrollment>;

export const decodeRecoveryCodes = field('recoveryCodes', textList);

export interface EnrollmentConfirmed {
  recoveryCodes: string[];
  /** Present when enrolment completed a pending sign-in. */
  signedIn: SignedIn | null;
}

export const decodeEnrollmentConfirmed: Decoder<EnrollmentConfirmed> = (body) => ({
  recoveryCodes: decodeRecoveryCodes(body),
  signedIn: expectRecord(body, 'answer')['status'] === 'signed_in' ? decodeSignedIn(body) : null,
});

/** The QR SVG as an image URL: rendered by <img>, never inserted as markup (CSP allows data: images). */
export function svgDataUrl(svg: string): string {
  const bytes = new TextEncoder().encode(svg);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `data:image/svg+xml;base64,${btoa(binary)}`;
}

/** "JBSWY3DPEHPK3PXP" → "JBSW Y3DP EHPK 3PXP", easier to type. */
export function groupSecret(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ');
}
