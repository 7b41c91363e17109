import {
  expectBoolean,
  expectNumber,
  expectRecord,
  expectString,
  optionalString,
  type Decoder,
} from '../../shared/api';
import { decodeUser, type SessionUser } from '../../auth/authTypes';

export interface SessionSummary {
  id: string;
  /** True for the session making the request (absent in admin views). */
  current: boolean;
  createdAt: string;
  lastSeenAt: string;
  userAgent: string | null;
  clientAddress: string | null;
}

export interface MfaStatus {
  enrolled: boolean;
  required: boolean;
  recoveryCodesRemaining: number;
}

function decodeSession(value: unknown): SessionSummary {
  const r = expectRecord(value, 'session');
  return {
    id: expectString(r, 'id'),
    current: r['current'] === true,
    createdAt: expectString(r, 'createdAt'),
    lastSeenAt: expectString(r, 'lastSeenAt'),
    userAgent: optionalString(r, 'userAgent'),
    clientAddress: optionalString(r, 'clientAddress'),
  };
}

export const decodeSessions: Decoder<SessionSummary[]> = (body) => {
  const list = expectRecord(body, 'answer')['sessions'];
  if (!Array.isArray(list)) throw new Error('Missing "sessions".');
  return list.map(decodeSession);
};

export const decodeMfaStatus: Decoder<MfaStatus> = (body) => {
  const r = expectRecord(body, 'answer');
  return {
    enrolled: expectBoolean(r, 'enrolled'),
    required: expectBoolean(r, 'required'),
    recoveryCodesRemaining: expectNumber(r, 'recoveryCodesRemaining'),
  };
};

export const decodeUserAnswer: Decoder<SessionUser> = (body) =>
  decodeUser(expectRecord(body, 'answer')['user']);

export const decodeRevokedCount =
  (key: 'revoked' | 'revokedSessions'): Decoder<number> =>
  (body) =>
    expectNumber(expectRecord(body, 'answer'), key);

export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}
