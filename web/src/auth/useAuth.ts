import { useStore } from '../shared/store';
import { sessionStore, type ActiveSession, type AuthState } from './sessionStore';

export function useAuth(): AuthState {
  return useStore(sessionStore);
}

/** Scopes of the session: from /api/auth/me, or derived from roles until it answered. */
export function hasScope(session: ActiveSession, scope: string): boolean {
  if (session.scopes) return session.scopes.includes(scope);
  if (scope.startsWith('account:')) return true;
  return session.user.roles.includes('admin') && scope.startsWith('users:');
}
