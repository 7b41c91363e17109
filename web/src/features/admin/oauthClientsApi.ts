/**
 * OAuth clients, "connected systems" in the pages (A12; docs/api/oauth.md): machine integrations
 * and apps for patients, managed by platform administrators (every client) and by organization
 * administrators (their organization's). Answers are decoded with the server's own schemas.
 */
import {
  DELEGATED_SCOPES,
  MACHINE_CLIENT_SCOPES,
  OAuthClientList,
  OAuthClientWithSecretAnswer,
  ORGANIZATION_CLIENT_SCOPES,
  type OAuthClientSchema,
} from '@haven/contract';
import type { Static } from 'typebox';
import { answerOf, memberOf } from '../../shared/schemaDecoding';

export type OAuthClient = Static<typeof OAuthClientSchema>;
export type ClientKind = OAuthClient['kind'];

export const decodeClients = memberOf(OAuthClientList, 'clients');
export const decodeClientWithSecret = answerOf(OAuthClientWithSecretAnswer);

/** Where the clients are managed: every client, or one organization's. */
export type ClientsScope = { type: 'platform' } | { type: 'organization'; organizationId: string };

export function clientsPath(scope: ClientsScope): string {
  return scope.type === 'platform'
    ? '/api/admin/oauth-clients'
    : `/api/organizations/${encodeURIComponent(scope.organizationId)}/oauth-clients`;
}

export function clientPath(scope: ClientsScope, clientId: string, action: string): string {
  return `${clientsPath(scope)}/${encodeURIComponent(clientId)}/${action}`;
}

export const KIND_WORDS: Readonly<Record<ClientKind, string>> = {
  machine: 'Machine integration',
  app: 'App for patients',
};

export const KIND_HINTS: Readonly<Record<ClientKind, string>> = {
  machine: 'Another system (a lab feed, a security log collector) that signs in as itself.',
  app: 'An app a patient connects to their own record; it asks the patient’s permission.',
};

/** What each scope lets a client do, as an administrator reads it. */
const SCOPE_WORDS: Readonly<Record<string, string>> = {
  'audit:read': 'Read the audit log of every organization',
  'portal:read': 'Read a patient’s own record, when the patient allows it',
};

export const scopeWords = (scope: string): string => SCOPE_WORDS[scope] ?? scope;

/** The scopes a client of this kind may be given here (the server checks the same lists). */
export function grantableScopes(scope: ClientsScope, kind: ClientKind): readonly string[] {
  if (scope.type === 'organization') return ORGANIZATION_CLIENT_SCOPES[kind];
  return kind === 'machine' ? MACHINE_CLIENT_SCOPES : Object.keys(DELEGATED_SCOPES);
}

/** Whether this page may hand out a new secret for the client (the server refuses otherwise). */
export function canRotate(scope: ClientsScope, client: OAuthClient): boolean {
  if (client.disabled || client.publicClient) return false;
  const grantable = grantableScopes(scope, client.kind);
  return client.scopes.length > 0 && client.scopes.every((s) => grantable.includes(s));
}

/** The client checks of one redirect URI, as the server words them. */
export function redirectUriProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${value} is not a full address; start it with https://.`;
  }
  const loopback =
    url.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
  if (url.protocol !== 'https:' && !loopback) {
    return `${value} must start with https:// (or http://127.0.0.1 for an app on the same computer).`;
  }
  if (value.includes('#')) return `${value} must not contain #.`;
  return undefined;
}
