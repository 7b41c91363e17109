/**
 * Third-party apps on a user's behalf (A12, docs/api/oauth.md): the consent request an app's
 * sign-in opened, the user's decision, and the apps already connected to the account.
 */
import { ConnectedAppList, OAuthDecisionAnswer, OAuthInteractionAnswer } from '@haven/contract';
import type { Static } from 'typebox';
import { answerOf, memberOf } from '../../shared/schemaDecoding';

/** The interaction id the authorization endpoint puts in `/connect/<uid>`. */
export const INTERACTION_UID_PATTERN = /^[A-Za-z0-9_-]{10,64}$/;

export type Interaction = Static<typeof OAuthInteractionAnswer>['interaction'];
export type ConnectedApp = Static<typeof ConnectedAppList>['apps'][number];

export const decodeInteraction = memberOf(OAuthInteractionAnswer, 'interaction');
export const decodeConnectedApps = memberOf(ConnectedAppList, 'apps');
const decodeDecision = answerOf(OAuthDecisionAnswer);

export function interactionPath(uid: string): string {
  return `/api/oauth/interactions/${encodeURIComponent(uid)}`;
}

export function revokePath(grantId: string): string {
  return `/api/account/connected-apps/${encodeURIComponent(grantId)}/revoke`;
}

/**
 * Where the browser goes after a decision: only an address on Haven's own origin (the
 * authorization endpoint, which then answers the app). Anything else the answer held would
 * send the user somewhere Haven never chose, so it is refused as an invalid answer.
 */
export function decodeRedirect(body: unknown): string {
  const { redirectTo } = decodeDecision(body);
  let target: URL | null = null;
  try {
    target = new URL(redirectTo);
  } catch {
    // Not an absolute address: refused below like any other.
  }
  if (target?.origin !== window.location.origin) {
    throw new Error('"redirectTo" is not an address on this site.');
  }
  return target.href;
}
