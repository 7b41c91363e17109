/**
 * The browser's view of the session (A5, A7, A8). Tokens stay in HttpOnly cookies; this
 * store keeps only the user, the CSRF token (memory only, never storage) and the expiry
 * times. Every authenticated call goes through `api()`, which adds the CSRF header,
 * refreshes once on 401 (one tab at a time, via the Web Locks API) and asks for step-up MFA
 * on 403 STEP_UP_REQUIRED. Tabs share refresh results and sign-outs over a BroadcastChannel.
 *
 * Only a refresh answered 401 ends the session here. 429, 503 and network failures mean
 * "try again": the store waits as long as Retry-After says and retries, and a page load
 * that cannot reach the server keeps trying instead of showing the sign-in page (R1: the
 * refresh route is rate limited). A reload while the access cookie is still valid does not
 * refresh at all: the expiry times survive the reload in localStorage (they are not secret).
 */
import { ApiError, requestJson, type Decoder, type JsonRequest } from '../shared/api';
import { ignoreBody } from '../shared/decoding';
import { draftsBelongTo, forgetDrafts } from '../shared/drafts';
import { ExternalStore } from '../shared/store';
import { decodeMe, decodeSignedIn, type Me, type SessionUser, type SignedIn } from './authTypes';
import { isTransient, retryDelayMs, wait } from './retry';
import {
  readSessionHint,
  readTimings,
  writeSessionHint,
  writeTimings,
  type Timings,
} from './sessionHints';

export type SignedOutReason = 'signed_out' | 'idle' | 'expired' | 'signed_out_elsewhere';

export interface ActiveSession {
  user: SessionUser;
  /** Null until /api/auth/me answered (derived from roles meanwhile). */
  scopes: readonly string[] | null;
  /** Epoch ms; null when not known yet. */
  accessExpiresAt: number | null;
  idleExpiresAt: number | null;
}

export type AuthState =
  | { status: 'loading' }
  | { status: 'signed_out'; reason: SignedOutReason | null }
  | { status: 'signed_in'; session: ActiveSession };

type Method = JsonRequest<unknown>['method'];

type TabMessage =
  | { type: 'refreshed'; signedIn: SignedIn }
  | { type: 'signed_in'; signedIn: SignedIn }
  | { type: 'signed_out'; reason: SignedOutReason }
  | { type: 'timings_request' }
  | { type: 'timings'; accessExpiresAt: number; idleExpiresAt: number };

/** Codes on which an authenticated call is worth one refresh (others, such as MFA_INVALID, are not). */
const REFRESHABLE = new Set(['UNAUTHENTICATED', 'SESSION_EXPIRED', 'http_error']);
const TIMINGS_WAIT_MS = 250;
/** Attempts at one refresh while the server answers 429/503 or cannot be reached. */
const REFRESH_ATTEMPTS = 4;

export class StepUpCancelled extends Error {
  override readonly name = 'StepUpCancelled';
  constructor() {
    super('The MFA check was cancelled.');
  }
}

function isTabMessage(value: unknown): value is TabMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { type?: unknown }).type === 'string'
  );
}

export class SessionStore extends ExternalStore<AuthState> {
  private csrfToken: string | null = null;
  private refreshing: Promise<SignedIn | null> | null = null;
  private lastRefresh: { at: number; result: SignedIn | null } | null = null;
  private readonly channel: BroadcastChannel | null;
  private stepUpPrompt: (() => Promise<void>) | null = null;

  constructor() {
    super({ status: 'loading' });
    this.channel =
      typeof BroadcastChannel === 'function' ? new BroadcastChannel('haven-auth') : null;
    this.channel?.addEventListener('message', (event: MessageEvent<unknown>) => {
      if (isTabMessage(event.data)) this.onTabMessage(event.data);
    });
  }

  private get session(): ActiveSession | null {
    return this.state.status === 'signed_in' ? this.state.session : null;
  }

  // --- lifecycle ---

  /**
   * On page load: who am I? Then the expiry times: from this browser's last answer while the
   * access token it came with is still valid, else from another tab, else by refreshing.
   * A server that is busy or unreachable is asked again later; only a 401 signs out.
   */
  async boot(attempt = 0): Promise<void> {
    if (!readSessionHint()) {
      this.setState({ status: 'signed_out', reason: null });
      return;
    }
    let me: Me;
    try {
      me = await this.api('GET', '/api/auth/me', decodeMe);
    } catch (err) {
      if (this.state.status === 'signed_out') return;
      if (isTransient(err)) {
        // Still loading: try the whole boot again once the server is ready for us.
        setTimeout(
          () => void this.boot(attempt + 1),
          retryDelayMs(err, 2 ** Math.min(attempt, 5) * 1000),
        );
        return;
      }
      this.endLocally('expired');
      return;
    }
    this.csrfToken = me.csrfToken;
    draftsBelongTo(me.user.id);
    const current = this.session;
    const stored = readTimings();
    const storedValid = stored !== null && stored.accessExpiresAt > Date.now();
    this.setState({
      status: 'signed_in',
      session: {
        user: me.user,
        scopes: me.scopes,
        accessExpiresAt: current?.accessExpiresAt ?? (storedValid ? stored.accessExpiresAt : null),
        idleExpiresAt: current?.idleExpiresAt ?? (storedValid ? stored.idleExpiresAt : null),
      },
    });
    if (this.session?.idleExpiresAt === null && !(await this.askOtherTabsForTimings())) {
      await this.learnTimingsByRefreshing();
    }
  }

  /** Signed in but the expiry times are unknown: refresh, and if the server is busy, later. */
  private async learnTimingsByRefreshing(): Promise<void> {
    try {
      if (!(await this.refresh()) && this.state.status !== 'signed_out') this.endLocally('expired');
    } catch (err) {
      // Still signed in (the access token works); the idle warning waits for the times. Any
      // other failure is left to the next call that needs a refresh.
      if (!isTransient(err)) return;
      setTimeout(
        () => {
          if (this.session?.idleExpiresAt === null) void this.learnTimingsByRefreshing();
        },
        retryDelayMs(err, 5_000),
      );
    }
  }

  /** After sign-in, MFA, enrolment or invitation acceptance: this tab and the others are signed in. */
  adopt(signedIn: SignedIn): void {
    this.apply(signedIn);
    this.post({ type: 'signed_in', signedIn });
    void this.recheck();
  }

  /** Ends the session on the server (refreshing first if the access token expired), then everywhere. */
  async signOut(reason: SignedOutReason = 'signed_out'): Promise<void> {
    try {
      await this.api('DELETE', '/api/auth/session', ignoreBody);
    } catch {
      // Already ended on the server (idle, revoked): signing out locally is what remains.
    }
    this.endLocally(reason);
    this.post({
      type: 'signed_out',
      reason: reason === 'signed_out' ? 'signed_out_elsewhere' : reason,
    });
  }

  /** The session ended (expired, revoked, signed out elsewhere): forget it in this tab. */
  endLocally(reason: SignedOutReason): void {
    this.csrfToken = null;
    // Unsaved work waits for its author only when the session ended by itself (idle, expired):
    // after a deliberate sign-out the next person at this computer must find nothing.
    if (reason === 'signed_out' || reason === 'signed_out_elsewhere') forgetDrafts();
    writeSessionHint(false);
    writeTimings(null);
    this.setState({ status: 'signed_out', reason });
  }

  /**
   * Re-reads /api/auth/me: right after sign-in for the scopes, then every minute (the poll).
   * A revoked session ends up signed out.
   */
  async recheck(): Promise<void> {
    if (!this.session) return;
    try {
      const me = await this.api('GET', '/api/auth/me', decodeMe);
      const current = this.session;
      if (current) {
        this.setState({
          status: 'signed_in',
          session: { ...current, user: me.user, scopes: me.scopes },
        });
      }
    } catch {
      // api() already signed this tab out when the session is gone; other failures are transient.
    }
  }

  updateUser(user: SessionUser): void {
    const current = this.session;
    if (current) this.setState({ status: 'signed_in', session: { ...current, user } });
  }

  /** The UI that asks for an MFA code when a route needs step-up; resolves once it succeeded. */
  setStepUpPrompt(prompt: (() => Promise<void>) | null): void {
    this.stepUpPrompt = prompt;
  }

  // --- requests ---

  /**
   * An authenticated call: CSRF header on writes; one refresh + retry on 401; one step-up +
   * retry on 403 STEP_UP_REQUIRED. A refresh refused with 401 signs this tab out; one that
   * could not be done now (429, 503, network) throws that error and keeps the session.
   */
  async api<T>(method: Method, path: string, decode: Decoder<T>, body?: unknown): Promise<T> {
    let refreshed = false;
    let steppedUp = false;
    for (;;) {
      try {
        return await requestJson({ method, path, decode, body, csrfToken: this.csrfToken });
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        if (err.status === 401 && REFRESHABLE.has(err.code) && !refreshed) {
          refreshed = true;
          if (await this.refresh()) continue;
          if (this.state.status !== 'signed_out') this.endLocally('expired');
          throw err;
        }
        if (
          err.status === 403 &&
          err.code === 'STEP_UP_REQUIRED' &&
          !steppedUp &&
          this.stepUpPrompt
        ) {
          steppedUp = true;
          await this.stepUpPrompt();
          continue;
        }
        throw err;
      }
    }
  }

  /**
   * A public credential call (sign-in, MFA, enrolment with the pending cookie, onboarding):
   * never refreshes; sends the CSRF token when there is a session (signed-in enrolment).
   */
  credentialCall<T>(path: string, decode: Decoder<T>, body: unknown = {}): Promise<T> {
    return requestJson({ method: 'POST', path, decode, body, csrfToken: this.csrfToken });
  }

  /** Fresh MFA for step-up routes. */
  async stepUp(code: string): Promise<void> {
    const signedIn = await this.api('POST', '/api/auth/step-up', decodeSignedIn, { code });
    this.apply(signedIn);
    this.post({ type: 'refreshed', signedIn });
  }

  /**
   * "Stay signed in" and the 401 path: one refresh at a time across every tab. Resolves null
   * when the session is over (401); rejects when the server stayed busy or out of reach.
   */
  refresh(): Promise<SignedIn | null> {
    this.refreshing ??= this.refreshAcrossTabs().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async refreshAcrossTabs(): Promise<SignedIn | null> {
    const askedAt = Date.now();
    const run = async (): Promise<SignedIn | null> => {
      // Another tab refreshed while this one waited for the lock: its result is ours too
      // (same cookies). Refreshing again would only rotate the token once more.
      if (this.lastRefresh && this.lastRefresh.at >= askedAt) return this.lastRefresh.result;
      let result: SignedIn | null = null;
      for (let attempt = 1; ; attempt += 1) {
        try {
          result = await requestJson({
            method: 'POST',
            path: '/api/auth/refresh',
            decode: decodeSignedIn,
            body: {},
          });
          break;
        } catch (err) {
          if (err instanceof ApiError && err.status === 401) break;
          // Rate limited or unavailable: the session is fine, the answer is "not now". Wait
          // as told (holding the lock, so other tabs wait for this result) and try again.
          if (!isTransient(err) || attempt >= REFRESH_ATTEMPTS) throw err;
          await wait(retryDelayMs(err, 1000 * 2 ** (attempt - 1)));
          if (this.lastRefresh && this.lastRefresh.at >= askedAt) return this.lastRefresh.result;
        }
      }
      this.lastRefresh = { at: Date.now(), result };
      if (result) {
        this.apply(result);
        this.post({ type: 'refreshed', signedIn: result });
      } else {
        this.post({ type: 'signed_out', reason: 'expired' });
      }
      return result;
    };
    const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
    return locks ? locks.request('haven-refresh', run) : run();
  }

  private apply(signedIn: SignedIn): void {
    // Before any page renders for this person: another account's unsaved drafts are dropped.
    draftsBelongTo(signedIn.user.id);
    this.csrfToken = signedIn.csrfToken;
    writeSessionHint(true);
    const current = this.session;
    const sameUser = current?.user.id === signedIn.user.id;
    const timings: Timings = {
      accessExpiresAt: signedIn.accessExpiresAt * 1000,
      idleExpiresAt: Date.parse(signedIn.idleExpiresAt),
    };
    writeTimings(timings);
    this.setState({
      status: 'signed_in',
      session: { user: signedIn.user, scopes: sameUser ? current.scopes : null, ...timings },
    });
  }

  // --- other tabs ---

  private post(message: TabMessage): void {
    this.channel?.postMessage(message);
  }

  private onTabMessage(message: TabMessage): void {
    switch (message.type) {
      case 'refreshed':
        this.lastRefresh = { at: Date.now(), result: message.signedIn };
        if (this.state.status !== 'signed_out') this.apply(message.signedIn);
        return;
      case 'signed_in':
        this.apply(message.signedIn);
        void this.recheck();
        return;
      case 'signed_out':
        this.lastRefresh = { at: Date.now(), result: null };
        if (this.state.status === 'signed_in') this.endLocally(message.reason);
        return;
      case 'timings_request': {
        const s = this.session;
        if (s?.accessExpiresAt && s.idleExpiresAt) {
          this.post({
            type: 'timings',
            accessExpiresAt: s.accessExpiresAt,
            idleExpiresAt: s.idleExpiresAt,
          });
        }
        return;
      }
      case 'timings': {
        const s = this.session;
        if (s && s.idleExpiresAt === null) {
          this.setState({
            status: 'signed_in',
            session: {
              ...s,
              accessExpiresAt: message.accessExpiresAt,
              idleExpiresAt: message.idleExpiresAt,
            },
          });
        }
        return;
      }
    }
  }

  private askOtherTabsForTimings(): Promise<boolean> {
    if (!this.channel) return Promise.resolve(false);
    this.post({ type: 'timings_request' });
    return new Promise((resolve) => {
      setTimeout(() => resolve(typeof this.session?.idleExpiresAt === 'number'), TIMINGS_WAIT_MS);
    });
  }
}

export const sessionStore = new SessionStore();
