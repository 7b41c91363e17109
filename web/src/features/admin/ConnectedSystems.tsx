/**
 * Connected systems (A12, issue 12 item 4): the OAuth clients an administrator manages, listed
 * in words, registered, given a new secret and disabled. The same component serves platform
 * administrators (every client) and organization administrators (their organization's); the
 * server decides, under step-up MFA, which the caller may do (sessionStore asks for the code).
 * A secret is shown once, right after it was made, and never again.
 */
import { useEffect, useRef, useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { ConfirmAction } from '../../shared/ConfirmAction';
import { formatDateTime } from '../../shared/dates';
import { ignoreBody } from '../../shared/decoding';
import { CheckboxField, Field, SelectField, TextAreaField } from '../../shared/fields';
import { ActionOutcome, FormFooter, ProblemAlert, SubmissionForm } from '../../shared/forms';
import { useAction, useForm } from '../../shared/submission';
import { useResource } from '../../shared/useResource';
import {
  KIND_HINTS,
  KIND_WORDS,
  canRotate,
  clientPath,
  clientsPath,
  decodeClientWithSecret,
  decodeClients,
  grantableScopes,
  redirectUriProblem,
  scopeWords,
  type ClientKind,
  type ClientsScope,
  type OAuthClient,
} from './oauthClientsApi';

/** A secret just made: what the page shows once. */
interface FreshSecret {
  name: string;
  clientId: string;
  secret: string | null;
}

export function ConnectedSystems({ scope }: { scope: ClientsScope }) {
  const path = clientsPath(scope);
  const list = useResource(path, () => sessionStore.api('GET', path, decodeClients));
  const [fresh, setFresh] = useState<FreshSecret | null>(null);
  const [registering, setRegistering] = useState(false);
  const kinds = (['machine', 'app'] as const).filter((k) => grantableScopes(scope, k).length > 0);

  return (
    <>
      {fresh && <SecretOnce fresh={fresh} onDone={() => setFresh(null)} />}
      <section className="panel stack" aria-labelledby="client-register-title">
        <h2 id="client-register-title">Register a connected system</h2>
        {scope.type === 'organization' && !kinds.includes('machine') && (
          <p className="hint">
            Machine integrations can read data beyond your organization, so a platform administrator
            registers them.
          </p>
        )}
        {registering ? (
          <RegisterForm
            scope={scope}
            kinds={kinds}
            onRegistered={(made) => {
              setRegistering(false);
              setFresh(made);
              list.reload();
            }}
            onCancel={() => setRegistering(false)}
          />
        ) : (
          <button type="button" className="button" onClick={() => setRegistering(true)}>
            Register a system
          </button>
        )}
      </section>
      <section className="panel stack" aria-labelledby="clients-title">
        <h2 id="clients-title">Registered systems</h2>
        <ProblemAlert error={list.error} />
        {list.data === null ? (
          !list.error && <p role="status">Loading connected systems…</p>
        ) : list.data.length === 0 ? (
          <p>No system is connected yet.</p>
        ) : (
          <ul className="cards" aria-label="Connected systems">
            {list.data.map((client) => (
              <ClientCard
                key={client.clientId}
                scope={scope}
                client={client}
                onChanged={list.reload}
                onRotated={setFresh}
              />
            ))}
          </ul>
        )}
      </section>
    </>
  );
}

/** The secret, once: copied with a button, gone when the administrator says it is stored. */
function SecretOnce({ fresh, onDone }: { fresh: FreshSecret; onDone: () => void }) {
  const headingRef = useRef<HTMLHeadingElement>(null);
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  useEffect(() => headingRef.current?.focus(), [fresh]);

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(fresh.secret ?? '');
      setCopied('yes');
    } catch {
      setCopied('failed');
    }
  };

  return (
    <section className="panel stack" aria-labelledby="client-secret-title">
      <h2 id="client-secret-title" ref={headingRef} tabIndex={-1}>
        {fresh.secret === null ? `${fresh.name} is registered` : `The secret of ${fresh.name}`}
      </h2>
      {fresh.secret === null ? (
        <p>
          This app has no secret: it proves itself with its client id and the patient’s sign-in.
        </p>
      ) : (
        <p>
          <strong>Copy the secret now: it will not be shown again.</strong> Put it in the system’s
          configuration. If it is lost, give the system a new secret here.
        </p>
      )}
      <dl className="facts">
        <dt>Client id</dt>
        <dd>
          <code>{fresh.clientId}</code>
        </dd>
        {fresh.secret !== null && (
          <>
            <dt>Secret</dt>
            <dd>
              <code aria-label="Client secret">{fresh.secret}</code>
            </dd>
          </>
        )}
      </dl>
      <div className="actions">
        {fresh.secret !== null && (
          <button type="button" className="button secondary" onClick={() => void copy()}>
            Copy the secret
          </button>
        )}
        <button type="button" className="button" onClick={onDone}>
          {fresh.secret === null ? 'Done' : 'I have stored the secret'}
        </button>
      </div>
      {copied && (
        <p role="status">
          {copied === 'yes'
            ? 'The secret is copied.'
            : 'Copying did not work here; select the secret and copy it by hand.'}
        </p>
      )}
    </section>
  );
}

function RegisterForm({
  scope,
  kinds,
  onRegistered,
  onCancel,
}: {
  scope: ClientsScope;
  kinds: readonly ClientKind[];
  onRegistered: (fresh: FreshSecret) => void;
  onCancel: () => void;
}) {
  const form = useForm({
    name: '',
    kind: kinds[0] ?? 'app',
    redirectUris: '',
    publicClient: false,
  });
  const [scopes, setScopes] = useState<string[]>([]);
  const v = form.values;
  const kind: ClientKind = v.kind === 'machine' ? 'machine' : 'app';
  const offered = grantableScopes(scope, kind);
  const chosen = scopes.filter((s) => offered.includes(s));

  const submit = () => {
    const name = v.name.trim();
    const redirectUris = v.redirectUris
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '');
    const ok = form.validate({
      name:
        name === '' ? 'Enter a name people will recognise, like “Lab results feed”.' : undefined,
      scopes: chosen.length === 0 ? 'Choose at least one thing the system may do.' : undefined,
      redirectUris:
        kind !== 'app'
          ? undefined
          : redirectUris.length === 0
            ? 'Enter the address the app receives patients back at, like https://app.example/callback.'
            : redirectUris.length > 5
              ? 'Enter at most 5 addresses.'
              : redirectUris.map(redirectUriProblem).find((p) => p !== undefined),
    });
    if (!ok) return;
    void form.run(async () => {
      const made = await sessionStore.api('POST', clientsPath(scope), decodeClientWithSecret, {
        name,
        kind,
        scopes: chosen,
        ...(kind === 'app' ? { redirectUris, publicClient: v.publicClient } : {}),
      });
      onRegistered({
        name: made.client.name,
        clientId: made.client.clientId,
        secret: made.clientSecret,
      });
    });
  };

  return (
    <SubmissionForm submission={form} onSubmit={submit}>
      <Field label="Name" autoComplete="off" maxLength={120} required {...form.bind('name')} />
      {kinds.length > 1 ? (
        <SelectField
          label="Kind"
          hint={KIND_HINTS[kind]}
          choices={kinds.map((k) => ({ value: k, label: KIND_WORDS[k] }))}
          {...form.bind('kind')}
        />
      ) : (
        <p>
          Kind: {KIND_WORDS[kind]}. {KIND_HINTS[kind]}
        </p>
      )}
      <fieldset>
        <legend>What it may do</legend>
        {offered.map((s) => (
          <CheckboxField
            key={s}
            label={scopeWords(s)}
            checked={chosen.includes(s)}
            onCheckedChange={(checked) =>
              setScopes((current) =>
                checked ? [...current, s] : current.filter((other) => other !== s),
              )
            }
          />
        ))}
        {form.fieldError('scopes') && (
          <p className="field-error" role="alert">
            {form.fieldError('scopes')}
          </p>
        )}
      </fieldset>
      {kind === 'app' && (
        <>
          <TextAreaField
            label="Return addresses"
            hint="Where the app receives patients back after they allow it, one address per line, exactly as the app sends it."
            rows={3}
            {...form.bind('redirectUris')}
          />
          <CheckboxField
            label="App without a secret (it runs on the patient’s own device and cannot keep one)"
            {...form.bindCheckbox('publicClient')}
          />
        </>
      )}
      <FormFooter submission={form} onCancel={onCancel}>
        Register
      </FormFooter>
    </SubmissionForm>
  );
}

function ClientCard({
  scope,
  client,
  onChanged,
  onRotated,
}: {
  scope: ClientsScope;
  client: OAuthClient;
  onChanged: () => void;
  onRotated: (fresh: FreshSecret) => void;
}) {
  const action = useAction(onChanged);
  return (
    <li className="card stack">
      <p className="card-title">{client.name}</p>
      <dl className="facts">
        <dt>Kind</dt>
        <dd>
          {KIND_WORDS[client.kind]}
          {client.publicClient && ', without a secret'}
        </dd>
        <dt>May</dt>
        <dd>{client.scopes.map(scopeWords).join('; ') || 'Nothing'}</dd>
        <dt>Status</dt>
        <dd>{client.disabled ? 'Disabled: it can no longer connect' : 'Active'}</dd>
        <dt>Client id</dt>
        <dd>
          <code>{client.clientId}</code>
        </dd>
        {client.redirectUris.length > 0 && (
          <>
            <dt>Return addresses</dt>
            <dd>{client.redirectUris.join(', ')}</dd>
          </>
        )}
        <dt>Registered</dt>
        <dd>{formatDateTime(client.createdAt)}</dd>
      </dl>
      {!client.disabled && (
        <div className="actions">
          {canRotate(scope, client) && (
            <ConfirmAction
              label="New secret"
              ariaLabel={`New secret for ${client.name}`}
              consequence={`The current secret of ${client.name} stops working at once; the system connects again only with the new one.`}
              confirmLabel="Yes, make a new secret"
              className="button secondary"
              busy={action.busy}
              onConfirm={() =>
                void action.act(async () => {
                  const rotated = await sessionStore.api(
                    'POST',
                    clientPath(scope, client.clientId, 'secret'),
                    decodeClientWithSecret,
                    {},
                  );
                  onRotated({
                    name: rotated.client.name,
                    clientId: rotated.client.clientId,
                    secret: rotated.clientSecret,
                  });
                })
              }
            />
          )}
          <ConfirmAction
            label="Disable"
            ariaLabel={`Disable ${client.name}`}
            consequence={`${client.name} stops working at once, and so do the permissions it holds; it cannot be turned back on.`}
            confirmLabel="Yes, disable"
            busy={action.busy}
            onConfirm={() =>
              void action.act(async () => {
                await sessionStore.api(
                  'POST',
                  clientPath(scope, client.clientId, 'disable'),
                  ignoreBody,
                  {},
                );
                return `${client.name} is disabled.`;
              })
            }
          />
        </div>
      )}
      <ActionOutcome action={action} />
    </li>
  );
}
