import { useState, type FormEvent } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { ProblemAlert, SubmitButton, SuccessNote, useSubmission } from '../../shared/forms';
import { SelectField } from '../../shared/fields';
import { useResource } from '../../shared/useResource';
import {
  CHANNEL_CHOICES,
  decodeConsentAnswer,
  decodeDocuments,
  decodePatientConsents,
  kindLabel,
  type ConsentDocument,
  type StaffChannel,
} from './consentsApi';
import { ConsentGateStatus, ConsentRecordList } from './ConsentViews';
import { patientPath } from './patientsApi';

/** The patient's consent records and gate, recording a consent given in person, on paper or by phone. */
export function ConsentsSection({ patientId, canWrite }: { patientId: string; canWrite: boolean }) {
  const consents = useResource(patientId, () =>
    sessionStore.api('GET', patientPath(patientId, '/consents'), decodePatientConsents),
  );
  const [busyId, setBusyId] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);

  const withdraw = async (consentId: string) => {
    setBusyId(consentId);
    setError(null);
    setNote(null);
    try {
      await sessionStore.api(
        'POST',
        patientPath(patientId, `/consents/${encodeURIComponent(consentId)}/withdraw`),
        decodeConsentAnswer,
        {},
      );
      setNote('The consent was withdrawn.');
      consents.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusyId(null);
    }
  };

  return (
    <section className="panel stack" aria-labelledby="consents-title">
      <h2 id="consents-title">Consents</h2>
      <ProblemAlert error={consents.error} />
      {consents.data === null ? (
        !consents.error && <p role="status">Loading consents…</p>
      ) : (
        <>
          <ConsentGateStatus gate={consents.data.gate} />
          <ConsentRecordList
            consents={consents.data.consents}
            onWithdraw={canWrite ? (id) => void withdraw(id) : undefined}
            busyId={busyId}
          />
        </>
      )}
      {note && <SuccessNote>{note}</SuccessNote>}
      <ProblemAlert error={error} />
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
  const [documentId, setDocumentId] = useState('');
  const [channel, setChannel] = useState<StaffChannel>('in_person');
  const [saved, setSaved] = useState(false);
  const submission = useSubmission();
  const chosen = open.some((d) => d.id === documentId) ? documentId : (open[0]?.id ?? '');

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    if (!chosen) return;
    void submission.run(async () => {
      await sessionStore.api('POST', patientPath(patientId, '/consents'), decodeConsentAnswer, {
        documentId: chosen,
        channel,
      });
      setSaved(true);
      onRecorded();
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
    <form ref={submission.formRef} onSubmit={submit} noValidate className="stack">
      <h3>Record a consent</h3>
      <div className="form-grid">
        <SelectField
          label="Document"
          value={chosen}
          choices={open.map((d: ConsentDocument) => ({
            value: d.id,
            label: `${d.title} (${kindLabel(d.kind)}, version ${d.version})`,
          }))}
          onValueChange={setDocumentId}
        />
        <SelectField
          label="How it was given"
          value={channel}
          choices={CHANNEL_CHOICES}
          onValueChange={setChannel}
        />
      </div>
      <ProblemAlert error={submission.error} />
      {saved && <SuccessNote>The consent was recorded.</SuccessNote>}
      <SubmitButton busy={submission.busy}>Record consent</SubmitButton>
    </form>
  );
}
