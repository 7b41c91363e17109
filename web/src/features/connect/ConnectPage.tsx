import { useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { ApiError } from '../../shared/api';
import { ProblemAlert } from '../../shared/forms';
import { Page } from '../../shared/Page';
import { useAction } from '../../shared/submission';
import { useResource } from '../../shared/useResource';
import { decodeInteraction, decodeRedirect, interactionPath, type Interaction } from './connectApi';

/** The request is gone: it expired, was decided already, or never existed. */
const isGone = (err: unknown): boolean => err instanceof ApiError && err.status === 404;

/**
 * A12 consent: an app sent the user here from its "sign in with Haven". The user, signed in
 * with Haven's own sign-in (and MFA), sees which app asks for which permissions and allows or
 * denies; either way the browser goes back through the authorization endpoint to the app.
 */
export function ConnectPage({ uid }: { uid: string }) {
  const interaction = useResource(`interaction:${uid}`, () =>
    sessionStore.api('GET', interactionPath(uid), decodeInteraction),
  );
  const decision = useAction();
  // Set once the browser is on its way to the app: the buttons stay off until the page is gone.
  const [leaving, setLeaving] = useState(false);

  const decide = (allow: boolean) =>
    void decision.act(
      async () => {
        const redirectTo = await sessionStore.api(
          'POST',
          `${interactionPath(uid)}/decision`,
          decodeRedirect,
          { allow },
        );
        setLeaving(true);
        window.location.assign(redirectTo);
      },
      allow ? 'allow' : 'deny',
    );

  if (isGone(interaction.error) || isGone(decision.error)) {
    return (
      <Page title="This sign-in request has ended">
        <p>
          This sign-in request has expired or was already used. Go back to the app and start again.
        </p>
      </Page>
    );
  }
  const data = interaction.data;
  if (data === null) {
    return (
      <Page title="Connect an app">
        <ProblemAlert error={interaction.error} />
        {!interaction.error && <p role="status">Loading the app’s request…</p>}
      </Page>
    );
  }
  return (
    <Page title={`${data.client.name} wants to access your Haven account`}>
      <Consent
        interaction={data}
        busyKey={leaving ? 'leaving' : decision.busyKey}
        error={decision.error}
        onDecide={decide}
      />
    </Page>
  );
}

interface ConsentProps {
  interaction: Interaction;
  /** Which decision is on its way ('allow', 'deny'), 'leaving' after it, null before. */
  busyKey: string | null;
  error: unknown;
  onDecide: (allow: boolean) => void;
}

function Consent({ interaction, busyKey, error, onDecide }: ConsentProps) {
  const { client, redirectOrigin, scopes, grantable } = interaction;
  const busy = busyKey !== null;
  return (
    <>
      <dl className="facts">
        <dt>App</dt>
        <dd>{client.name}</dd>
        <dt>Returns you to</dt>
        <dd className="mono">{redirectOrigin}</dd>
      </dl>
      <p className="note">Only continue if you recognise this app and this address.</p>
      <section className="panel stack" aria-labelledby="connect-permissions-title">
        <h2 id="connect-permissions-title">What the app asks for</h2>
        <ul className="cards">
          {scopes.map((scope) => (
            <li key={scope.scope} className="card">
              <p className="card-title">
                {scope.label}
                {!scope.held && <span className="badge badge-muted">Not granted</span>}
              </p>
              <p>{scope.description}</p>
              {!scope.held && (
                <p className="note">
                  Your account does not have this permission, so the app will not get it.
                </p>
              )}
            </li>
          ))}
        </ul>
      </section>
      {grantable ? (
        <p>
          If you allow, {client.name} can do these things as you until you disconnect it on your
          account page.
        </p>
      ) : (
        <p>
          Your account has none of the permissions {client.name} asks for, so it cannot be
          connected. Return to the app to let it know.
        </p>
      )}
      <ProblemAlert error={error} />
      <div className="actions">
        {grantable && (
          <button
            type="button"
            className="button"
            disabled={busy}
            aria-busy={busyKey === 'allow'}
            onClick={() => onDecide(true)}
          >
            Allow
          </button>
        )}
        <button
          type="button"
          className={grantable ? 'button secondary' : 'button'}
          disabled={busy}
          aria-busy={busyKey === 'deny'}
          onClick={() => onDecide(false)}
        >
          {grantable ? 'Deny' : 'Return to the app'}
        </button>
      </div>
    </>
  );
}
