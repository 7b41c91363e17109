/**
 * The signed-in member's organizations and the active one (PUT /api/organizations/active).
 * The active organization belongs to the session, which every tab of this browser shares,
 * so a switch is announced to the other tabs and they re-load too.
 */
import { sessionStore } from '../../auth/sessionStore';
import { ExternalStore, useStore } from '../../shared/store';
import {
  decodeActiveOrganization,
  decodeMemberships,
  type Membership,
  type OrganizationRole,
} from './organizationsApi';

export type OrganizationState =
  | { status: 'idle' }
  | { status: 'loading'; userId: string }
  | {
      status: 'ready';
      userId: string;
      organizations: Membership[];
      /** The session's choice, or the only membership (as the server decides). */
      active: Membership | null;
    }
  | { status: 'error'; userId: string; error: unknown };

type TabMessage = { type: 'switched'; userId: string };

class OrganizationStore extends ExternalStore<OrganizationState> {
  private readonly channel: BroadcastChannel | null =
    typeof BroadcastChannel === 'function' ? new BroadcastChannel('haven-organization') : null;

  constructor() {
    super({ status: 'idle' });
    this.channel?.addEventListener('message', (event: MessageEvent<unknown>) => {
      const message = event.data as Partial<TabMessage> | null;
      const current = this.currentUserId();
      if (message?.type === 'switched' && current !== null && message.userId === current) {
        void this.load(current);
      }
    });
  }

  private currentUserId(): string | null {
    return this.state.status === 'idle' ? null : this.state.userId;
  }

  /** Loads the memberships of `userId` unless they are already loaded or loading. */
  ensureLoaded(userId: string): void {
    if (this.currentUserId() === userId && this.state.status !== 'error') return;
    void this.load(userId);
  }

  async load(userId: string): Promise<void> {
    this.setState({ status: 'loading', userId });
    try {
      const answer = await sessionStore.api('GET', '/api/organizations', decodeMemberships);
      if (this.currentUserId() !== userId) return;
      const { organizations, activeOrganizationId } = answer;
      const active =
        organizations.find((o) => o.id === activeOrganizationId) ??
        (organizations.length === 1 ? (organizations[0] ?? null) : null);
      this.setState({ status: 'ready', userId, organizations, active });
    } catch (error) {
      if (this.currentUserId() === userId) this.setState({ status: 'error', userId, error });
    }
  }

  async switchTo(organizationId: string): Promise<void> {
    const state = this.state;
    if (state.status !== 'ready') return;
    const answer = await sessionStore.api(
      'PUT',
      '/api/organizations/active',
      decodeActiveOrganization,
      { organizationId },
    );
    const chosen = state.organizations.find((o) => o.id === answer.activeOrganizationId);
    if (chosen === undefined) {
      // A membership added since the list was read: read the list again rather than guess it.
      await this.load(state.userId);
    } else {
      this.setState({ ...state, active: { ...chosen, role: answer.role } });
    }
    this.channel?.postMessage({ type: 'switched', userId: state.userId } satisfies TabMessage);
  }

  reset(): void {
    if (this.state.status !== 'idle') this.setState({ status: 'idle' });
  }
}

export const organizationStore = new OrganizationStore();

export function useOrganizations(): OrganizationState {
  return useStore(organizationStore);
}

/**
 * What clinical pages key their loads on: the active organization's id, 'none' when there is
 * none (the server then answers 409 NO_ACTIVE_ORGANIZATION, which the page shows), and null
 * while the memberships load. A switch changes the key, so every page re-loads.
 */
export function useOrganizationKey(): string | null {
  const state = useOrganizations();
  switch (state.status) {
    case 'ready':
      return state.active?.id ?? 'none';
    case 'error':
      return 'unknown';
    case 'idle':
    case 'loading':
      return null;
  }
}

export function useActiveRole(): OrganizationRole | null {
  const state = useOrganizations();
  return state.status === 'ready' ? (state.active?.role ?? null) : null;
}

/**
 * The country the active organization works in, for reading and writing phone numbers in its
 * national form; US (the server's default) while there is none.
 */
export function useOrganizationCountry(): string {
  const state = useOrganizations();
  return state.status === 'ready' ? (state.active?.country ?? 'US') : 'US';
}
