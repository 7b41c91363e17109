import { sessionStore } from '../../auth/sessionStore';
import { CheckboxField, Field, SelectField, TextAreaField } from '../../shared/fields';
import { FormFooter, SubmissionForm } from '../../shared/forms';
import { useForm } from '../../shared/submission';
import type { Membership } from '../organizations';
import {
  bucketNameProblem,
  bucketPath,
  BUCKETS_PATH,
  bytesToGib,
  decodeBucket,
  endpointProblem,
  gibToBytes,
  regionProblem,
  sizeLimitProblem,
  type Bucket,
  type SseMode,
} from './bucketsApi';

const ENCRYPTION_CHOICES: ReadonlyArray<{ value: SseMode; label: string }> = [
  { value: 'AES256', label: 'SSE-S3 (AES-256, keys kept by the storage)' },
  { value: 'aws:kms', label: 'SSE-KMS (your KMS key)' },
  { value: 'none', label: 'None (not recommended for medical files)' },
];

const MINE = 'me';

/**
 * Adds a bucket (`bucket` absent) or changes one. New access keys are sent only when both parts
 * are filled in; the server checks the bucket answers before it keeps anything, and asks for a
 * fresh authenticator code (step-up) when the keys or the address change.
 */
export function BucketForm({
  bucket,
  organizations,
  onDone,
  onCancel,
}: {
  bucket?: Bucket;
  /** Organizations the person administers: they may own a bucket for one of them. */
  organizations: readonly Membership[];
  onDone: () => void;
  onCancel: () => void;
}) {
  const editing = bucket !== undefined;
  const form = useForm({
    owner: MINE,
    name: bucket?.name ?? '',
    endpoint: bucket?.endpoint ?? 'https://',
    region: bucket?.region ?? '',
    pathStyle: bucket?.pathStyle ?? false,
    accessKeyId: '',
    secretAccessKey: '',
    sseMode: bucket?.sseMode ?? 'AES256',
    kmsKeyId: bucket?.kmsKeyId ?? '',
    sizeLimitGib: bytesToGib(bucket?.sizeLimitBytes ?? null),
    notes: bucket?.notes ?? '',
  });
  const v = form.values;
  const ownerChoices = [
    { value: MINE, label: 'Me' },
    ...organizations.map((o) => ({ value: o.id, label: o.name })),
  ];

  const submit = () => {
    const name = v.name.trim();
    const endpoint = v.endpoint.trim().replace(/\/+$/, '');
    const region = v.region.trim();
    const accessKeyId = v.accessKeyId.trim();
    const kmsKeyId = v.kmsKeyId.trim();
    const keysGiven = accessKeyId !== '' || v.secretAccessKey !== '';
    const keysNeeded = !editing || keysGiven;
    const ok = form.validate({
      name: bucketNameProblem(name),
      endpoint: endpointProblem(endpoint),
      region: regionProblem(region),
      accessKeyId:
        keysNeeded && accessKeyId === ''
          ? 'Enter the access key id of a key that may read and write this bucket.'
          : undefined,
      secretAccessKey:
        keysNeeded && v.secretAccessKey === '' ? 'Enter the secret of that access key.' : undefined,
      kmsKeyId:
        v.sseMode === 'aws:kms' && kmsKeyId === ''
          ? 'Enter the KMS key id or ARN the storage encrypts with.'
          : undefined,
      sizeLimitGib: sizeLimitProblem(v.sizeLimitGib),
      notes: v.notes.length > 2000 ? 'Keep the notes under 2,000 characters.' : undefined,
    });
    if (!ok) return;
    const fields = {
      name,
      endpoint,
      region,
      pathStyle: v.pathStyle,
      sseMode: v.sseMode,
      kmsKeyId: v.sseMode === 'aws:kms' ? kmsKeyId : null,
      sizeLimitBytes: gibToBytes(v.sizeLimitGib),
      notes: v.notes.trim(),
      ...(keysGiven ? { accessKeyId, secretAccessKey: v.secretAccessKey } : {}),
    };
    void form.run(async () => {
      const saved = bucket
        ? await sessionStore.api('PATCH', bucketPath(bucket.id), decodeBucket, fields)
        : await sessionStore.api('POST', BUCKETS_PATH, decodeBucket, {
            ...fields,
            ...(v.owner === MINE ? {} : { organizationId: v.owner }),
          });
      form.clear('accessKeyId', 'secretAccessKey');
      onDone();
      return `${saved.name ?? 'The bucket'} was ${editing ? 'saved' : 'added'}.`;
    });
  };

  return (
    <SubmissionForm submission={form} onSubmit={submit}>
      {!editing && ownerChoices.length > 1 && (
        <SelectField
          label="Owned by"
          choices={ownerChoices}
          {...form.bind('owner', 'organizationId')}
        />
      )}
      <Field
        label="Bucket name"
        autoComplete="off"
        maxLength={63}
        required
        {...form.bind('name')}
      />
      <Field
        label="Storage address"
        hint="The S3 API address of your provider, like https://s3.eu-central-1.amazonaws.com."
        type="url"
        autoComplete="off"
        maxLength={300}
        required
        {...form.bind('endpoint')}
      />
      <Field label="Region" autoComplete="off" maxLength={40} required {...form.bind('region')} />
      <CheckboxField
        label="Path-style addresses (for providers that need them, such as MinIO)"
        {...form.bindCheckbox('pathStyle')}
      />
      <Field
        label="Access key id"
        hint={editing ? 'Leave both key fields empty to keep the current key.' : undefined}
        autoComplete="off"
        maxLength={128}
        required={!editing}
        {...form.bind('accessKeyId')}
      />
      <Field
        label="Secret access key"
        type="password"
        autoComplete="new-password"
        maxLength={256}
        required={!editing}
        {...form.bind('secretAccessKey')}
      />
      <SelectField
        label="Encryption at rest"
        choices={ENCRYPTION_CHOICES}
        {...form.bind('sseMode')}
      />
      {v.sseMode === 'aws:kms' && (
        <Field
          label="KMS key id or ARN"
          autoComplete="off"
          maxLength={2048}
          required
          {...form.bind('kmsKeyId')}
        />
      )}
      <Field
        label="Size limit in GiB"
        hint="Leave empty for no limit of its own (your storage quota still applies)."
        inputMode="numeric"
        autoComplete="off"
        {...form.bind('sizeLimitGib', 'sizeLimitBytes')}
      />
      <TextAreaField label="Notes" maxLength={2000} {...form.bind('notes')} />
      <FormFooter submission={form} onCancel={onCancel}>
        {editing ? 'Save bucket' : 'Add bucket'}
      </FormFooter>
    </SubmissionForm>
  );
}
