/** TOTP enrolment and recovery codes (A9). */
import {
  EnrolledCodes,
  EnrollmentSecret,
  RegeneratedCodes,
  SignedInWithCodes,
} from '@haven/contract';
import type { Static } from 'typebox';
import type { SignedIn } from '../../auth/authTypes';
import type { Decoder } from '../../shared/api';
import { answerOf, decodeWith, memberOf } from '../../shared/schemaDecoding';

export const decodeEnrollment = answerOf(EnrollmentSecret);
export type Enrollment = Static<typeof EnrollmentSecret>;

/** New recovery codes for an enrolled account (the old ones stop working). */
export const decodeRecoveryCodes = memberOf(RegeneratedCodes, 'recoveryCodes');

export interface EnrollmentConfirmed {
  recoveryCodes: string[];
  /** Present when enrolment completed a pending sign-in. */
  signedIn: SignedIn | null;
}

/** Enrolment that finishes a pending sign-in: the codes and the session, in one answer. */
export const decodePendingEnrollmentConfirmed: Decoder<EnrollmentConfirmed> = (body) => {
  const { recoveryCodes, ...signedIn } = decodeWith(SignedInWithCodes, body);
  return { recoveryCodes, signedIn };
};

/** Enrolment from the account page: the session already exists, only the codes come back. */
export const decodeAccountEnrollmentConfirmed: Decoder<EnrollmentConfirmed> = (body) => ({
  recoveryCodes: decodeWith(EnrolledCodes, body).recoveryCodes,
  signedIn: null,
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
