import { useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { ConfirmAction } from '../../shared/ConfirmAction';
import { formatDateTime } from '../../shared/dates';
import { ActionOutcome, ProblemAlert } from '../../shared/forms';
import { formatBytes } from '../../shared/bytes';
import { Page } from '../../shared/Page';
import { useAction } from '../../shared/submission';
import { showToast } from '../../shared/Toast';
import { useResource } from '../../shared/useResource';
import { useOrganizations } from '../organizations';
import { BucketForm } from './BucketForm';
import {
  bucketPath,
  BUCKETS_PATH,
  decodeBuckets,
  encryptionLabel,
  type Bucket,
} from './bucketsApi';

/**
 * Where uploads are kept: the system default (set by the server's configuration, read-only
 * here) and S3 buckets owned by the person or by an organization they administer.
 */
export function BucketsPage() {
  const list = useResource(BUCKETS_PATH, () =>
    sessionStore.api('GET', BUCKETS_PATH, decodeBuckets),
  );
  const [adding, setAdding] = useState(false);
  const organizations = useOrganizations();
  const administered =
    organizations.status === 'ready'
      ? organizations.organizations.filter((o) => o.role === 'org_admin')
      : [];

  return (
    <Page title="Storage buckets">
      <p>
        Uploads go to the default storage unless you pick one of your own S3 buckets. Access keys
        are stored encrypted and are never shown again; changing them asks for your authenticator
        code.
      </p>
      <ProblemAlert error={list.error} />
      {list.data === null ? (
        !list.error && <p role="status">Loading buckets…</p>
      ) : (
        <ul className="cards" aria-label="Storage buckets">
          {list.data.map((bucket) => (
            <BucketCard key={bucket.id} bucket={bucket} onChanged={list.reload} />
          ))}
        </ul>
      )}
      <section className="panel stack" aria-labelledby="bucket-add-title">
        <h2 id="bucket-add-title">Add an S3 bucket</h2>
        {adding ? (
          <BucketForm
            organizations={administered}
            onDone={() => {
              setAdding(false);
              list.reload();
            }}
            onCancel={() => setAdding(false)}
          />
        ) : (
          <button type="button" className="button" onClick={() => setAdding(true)}>
            Add a bucket
          </button>
        )}
      </section>
    </Page>
  );
}

function ownerLabel(bucket: Bucket, organizationName: (id: string) => string | undefined) {
  if (bucket.owner.type === 'system') return 'Haven (set by the server’s configuration)';
  if (bucket.owner.type === 'user') return 'You';
  return organizationName(bucket.owner.id ?? '') ?? 'Your organization';
}

function BucketCard({ bucket, onChanged }: { bucket: Bucket; onChanged: () => void }) {
  const [editing, setEditing] = useState(false);
  const remove = useAction(onChanged);
  const organizations = useOrganizations();
  const organizationName = (id: string) =>
    organizations.status === 'ready'
      ? organizations.organizations.find((o) => o.id === id)?.name
      : undefined;
  const title = bucket.isDefault ? 'Default storage' : (bucket.name ?? 'Bucket');
  const manageable = bucket.canManage && !bucket.readOnly;

  return (
    <li className="card stack">
      <p className="card-title">{title}</p>
      <dl className="facts">
        <dt>Owner</dt>
        <dd>{ownerLabel(bucket, organizationName)}</dd>
        <dt>Where</dt>
        <dd>
          {bucket.storage === 'filesystem'
            ? 'This server’s disk'
            : `${bucket.endpoint ?? ''}${bucket.name ? ` · ${bucket.name}` : ''}${bucket.region ? ` (${bucket.region})` : ''}`}
        </dd>
        <dt>Encryption</dt>
        <dd>{encryptionLabel(bucket)}</dd>
        <dt>In use</dt>
        <dd>
          {formatBytes(bucket.usedBytes)}
          {bucket.sizeLimitBytes !== null && ` of ${formatBytes(bucket.sizeLimitBytes)}`}
        </dd>
        {bucket.accessKeyHint && (
          <>
            <dt>Access key</dt>
            <dd>ending in {bucket.accessKeyHint}</dd>
          </>
        )}
        {bucket.notes && (
          <>
            <dt>Notes</dt>
            <dd>{bucket.notes}</dd>
          </>
        )}
        {bucket.updatedAt && (
          <>
            <dt>Last changed</dt>
            <dd>{formatDateTime(bucket.updatedAt)}</dd>
          </>
        )}
      </dl>
      {bucket.readOnly && (
        <p className="hint">Read-only here: the server’s configuration sets it.</p>
      )}
      {manageable && !editing && (
        <div className="actions">
          <button
            type="button"
            className="button secondary"
            aria-label={`Edit ${title}`}
            onClick={() => setEditing(true)}
          >
            Edit
          </button>
          <ConfirmAction
            label="Delete"
            ariaLabel={`Delete ${title}`}
            consequence={`${title} will no longer take uploads. A bucket that still holds files or unfinished uploads cannot be deleted.`}
            confirmLabel="Yes, delete"
            busy={remove.busy}
            onConfirm={() =>
              void remove.act(async () => {
                await sessionStore.api('DELETE', bucketPath(bucket.id), () => null);
                // Said in the page's toast region: this card, and any note in it, is about to go.
                showToast(`${title} was deleted.`);
              })
            }
          />
        </div>
      )}
      <ActionOutcome action={remove} />
      {editing && (
        <BucketForm
          bucket={bucket}
          organizations={[]}
          onDone={() => {
            setEditing(false);
            onChanged();
          }}
          onCancel={() => setEditing(false)}
        />
      )}
    </li>
  );
}
