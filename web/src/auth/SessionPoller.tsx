import { useEffect } from 'react';
import { sessionStore } from './sessionStore';
import { useAuth } from './useAuth';

const POLL_MS = 60_000;
const ACTIVITY_EVENTS = ['pointerdown', 'keydown'] as const;

/**
 * While the tab is visible, re-checks the session every minute so one revoked elsewhere
 * (A7) signs this tab out. Polling alone must not keep an idle session alive, so once the
 * access token has expired it only polls if the user did something in the last minute.
 */
export function SessionPoller() {
  const auth = useAuth();
  const signedIn = auth.status === 'signed_in';

  useEffect(() => {
    if (!signedIn) return;
    let lastActivity = Date.now();
    const onActivity = () => {
      lastActivity = Date.now();
    };
    for (const name of ACTIVITY_EVENTS) {
      window.addEventListener(name, onActivity, { passive: true });
    }
    const timer = window.setInterval(() => {
      if (document.visibilityState !== 'visible') return;
      const state = sessionStore.getState();
      if (state.status !== 'signed_in') return;
      const accessValid = (state.session.accessExpiresAt ?? 0) > Date.now();
      if (accessValid || Date.now() - lastActivity < POLL_MS) void sessionStore.recheck();
    }, POLL_MS);
    return () => {
      window.clearInterval(timer);
      for (const name of ACTIVITY_EVENTS) window.removeEventListener(name, onActivity);
    };
  }, [signedIn]);

  return null;
}
