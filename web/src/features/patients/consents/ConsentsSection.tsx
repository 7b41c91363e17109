import { sessionStore } from '../../../auth/sessionStore';
import { SelectField } from '../../../shared/fields';
import { FormFooter, ProblemAlert, SubmissionForm } from '../../../shared/forms';
import { Skeleton } from '../../../shared/Skeleton';
import { useAction, useForm } from '../../../shared/submission';
import { showToast } from '../../../shared/Toast';
import { useResource } from '../../../shared/useResource';
import { patientPath } from '../patientsApi';
import {
  CHANNEL_CHOICES,
  DEFAULT_CHANNEL,
  decodeConsentAnswer,
  decodeDocuments,
  decodePatientConsents,
  kindLabel,
} from './consentsApi';
import { ConsentGateStatus, ConsentRecordList } from './ConsentViews';

/** The patient's consent records and gate, recording a consent given in person, on paper or by phone. */
export function ConsentsSection({ patientId, canWrite }: { patientId: string; canWrite: boolean }) {
  const consents = useResource(patientId, () =>
    sessionStore.api('GET', patientPath(patientId, '/consents'), decodePatientConsents),
  );
  const withdrawal = useAction(consents.reload);

  const withdraw = (consentId: string) =>
    void withdrawal.act(async () => {
      await sessionStore.api(
        'POST',
        patientPath(patientId, `/consents/${encodeURIComponent(consentId)}/withdraw`),
        decodeConsentAnswer,
        {},
      );
      showToast('The consent was withdrawn.');
    }, consentId);

  return (
    <section className="panel stack" aria-labelledby="consents-title">
      <h2 id="consents-title">Consents</h2>
      <ProblemAlert error={consents.error} />
      {consents.data === null ? (
        !consents.error && <Skeleton label="Loading consents…" />
      ) : (
        <>
          <ConsentGateStatus gate={consents.data.gate} />
          <ConsentRecordList
            consents={consents.data.consents}
            onWithdraw={canWrite ? withdraw : undefined}
            busyId={withdrawal.busyKey}
          />
        </>
      )}
      <ProblemAlert error={withdrawal.error} />
      {canWrite && consents.data !== null && (
        <RecordConsentForm
          patientId={patientId}
          alreadyGiven={
            new Set(
              consents.data.consents.filter((c) => c.withdrawnAt === null).map((c) => c.documentId),
            )
          }
          onRecorded={consents.reload}
        />
      )}
    </section>
  );
}

function RecordConsentForm({
  patientId,
  alreadyGiven,
  onRecorded,
}: {
  patientId: string;
  /** Documents with a live consent: recording them again would only be refused. */
  alreadyGiven: ReadonlySet<string>;
  onRecorded: () => void;
}) {
  const documents = useResource(`documents:${patientId}`, () =>
    sessionStore.api('GET', '/api/consent-documents', decodeDocuments),
  );
  const current = (documents.data ?? []).filter((d) => d.current);
  const open = current.filter((d) => !alreadyGiven.has(d.id));
  const form = useForm({ documentId: '', channel: DEFAULT_CHANNEL });
  const { documentId } = form.values;
  // Until someone picks, the form offers the first required document still missing: the one
  // the patient's care is waiting on.
  const suggested = open.find((d) => d.required) ?? open[0];
  const chosen = open.some((d) => d.id === documentId) ? documentId : (suggested?.id ?? '');

  const submit = () => {
    if (!chosen) return;
    void form.run(async () => {
      await sessionStore.api('POST', patientPath(patientId, '/consents'), decodeConsentAnswer, {
        documentId: chosen,
        channel: form.values.channel,
      });
      onRecorded();
      showToast('The consent was recorded.');
    });
  };

  if (documents.error) return <ProblemAlert error={documents.error} />;
  if (documents.data === null) return null;
  if (current.length === 0) {
    return <p className="note">No consent documents are published in this organization yet.</p>;
  }
  if (open.length === 0) {
    return <p className="note">The patient has consented to every current document.</p>;
  }
  return (
    <SubmissionForm submission={form} onSubmit={submit}>
      <h3>Record a consent</h3>
      <div className="form-grid">
        <SelectField
          label="Document"
          choices={open.map((d) => ({
            value: d.id,
            label: `${d.title} (${kindLabel(d.kind)}, version ${d.version}${d.required ? ', required' : ''})`,
          }))}
          {...form.bind('documentId')}
          value={chosen}
        />
        <SelectField label="How it was given" choices={CHANNEL_CHOICES} {...form.bind('channel')} />
      </div>
      <FormFooter submission={form}>Record consent</FormFooter>
    </SubmissionForm>
  );
}
