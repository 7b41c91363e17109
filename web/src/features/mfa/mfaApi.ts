import { expectRecord, expectString, expectStringArray, type Decoder } from '../../shared/api';
import { decodeSignedIn, type SignedIn } from '../../auth/authTypes';

export interface Enrollment {
  secret: string;
  otpauthUri: string;
  qrSvg: string;
}

export interface EnrollmentConfirmed {
  recoveryCodes: string[];
  /** Present when enrolment completed a pending sign-in. */
  signedIn: SignedIn | null;
}

export const decodeEnrollment: Decoder<Enrollment> = (body) => {
  const r = expectRecord(body, 'enrolment');
  return {
    secret: expectString(r, 'secret'),
    otpauthUri: expectString(r, 'otpauthUri'),
    qrSvg: expectString(r, 'qrSvg'),
  };
};

export const decodeRecoveryCodes: Decoder<string[]> = (body) =>
  expectStringArray(expectRecord(body, 'answer'), 'recoveryCodes');

export const decodeEnrollmentConfirmed: Decoder<EnrollmentConfirmed> = (body) => {
  const r = expectRecord(body, 'answer');
  return {
    recoveryCodes: expectStringArray(r, 'recoveryCodes'),
    signedIn: r['status'] === 'signed_in' ? decodeSignedIn(body) : null,
  };
};

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
