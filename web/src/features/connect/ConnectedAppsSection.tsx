import { sessionStore } from '../../auth/sessionStore';
import { ConfirmAction } from '../../shared/ConfirmAction';
import { formatDateTime } from '../../shared/dates';
import { ignoreBody } from '../../shared/decoding';
import { ActionOutcome, ProblemAlert } from '../../shared/forms';
import { useAction } from '../../shared/submission';
import { useResource } from '../../shared/useResource';
import { decodeConnectedApps, revokePath, type ConnectedApp } from './connectApi';

/** A12: the apps the user allowed, with what each may do; disconnecting one ends its access. */
export function ConnectedAppsSection() {
  const apps = useResource('connected-apps', () =>
    sessionStore.api('GET', '/api/account/connected-apps', decodeConnectedApps),
  );
  const action = useAction(apps.reload);

  const disconnect = (app: ConnectedApp) =>
    void action.act(async () => {
      await sessionStore.api('POST', revokePath(app.grantId), ignoreBody, {});
      return `${app.client.name} was disconnected and can no longer use your account.`;
    }, app.grantId);

  return (
    <section className="panel stack" aria-labelledby="connected-apps-title">
      <h2 id="connected-apps-title">Connected apps</h2>
      <ActionOutcome action={action} />
      <ProblemAlert error={apps.error} />
      {apps.data === null ? (
        !apps.error && <p role="status">Loading connected apps…</p>
      ) : apps.data.length === 0 ? (
        <p>No apps are connected to your account.</p>
      ) : (
        <ul className="cards">
          {apps.data.map((app) => (
            <li key={app.grantId} className="card">
              <p className="card-title">{app.client.name}</p>
              <dl className="facts">
                <dt>Connected</dt>
                <dd>{formatDateTime(app.grantedAt)}</dd>
              </dl>
              <p>It may:</p>
              <ul>
                {app.scopes.map((scope) => (
                  <li key={scope.scope}>
                    {scope.label}: {scope.description}
                  </li>
                ))}
              </ul>
              <ConfirmAction
                label="Disconnect"
                // Begins with the button's own words (WCAG 2.5.3, label in name).
                ariaLabel={`Disconnect ${app.client.name}`}
                consequence={`Disconnect ${app.client.name}? It stops working with your Haven account at once. To use it again, connect it from the app.`}
                confirmLabel="Yes, disconnect"
                busy={action.busyKey === app.grantId}
                onConfirm={() => disconnect(app)}
              />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
