import { useEffect, useRef, useState } from 'react';
import { CheckboxField } from '../../shared/fields';

interface RecoveryCodesProps {
  codes: string[];
  onDone: () => void;
  doneLabel?: string;
}

/** Shows the ten single-use recovery codes once; the user confirms they saved them. */
export function RecoveryCodes({ codes, onDone, doneLabel = 'Continue' }: RecoveryCodesProps) {
  const [saved, setSaved] = useState(false);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const [downloadUrl, setDownloadUrl] = useState<string | null>(null);

  useEffect(() => {
    headingRef.current?.focus();
    const url = URL.createObjectURL(
      new Blob([`Haven recovery codes\n\n${codes.join('\n')}\n`], { type: 'text/plain' }),
    );
    setDownloadUrl(url);
    return () => URL.revokeObjectURL(url);
  }, [codes]);

  return (
    <section className="panel" aria-labelledby="recovery-codes-title">
      <h2 id="recovery-codes-title" ref={headingRef} tabIndex={-1}>
        Your recovery codes
      </h2>
      <p>
        Each code signs you in once if you lose your authenticator. Store them somewhere safe: they
        are shown only this once.
      </p>
      <ul className="recovery-codes" aria-label="Recovery codes">
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ul>
      {downloadUrl && (
        <p>
          <a href={downloadUrl} download="haven-recovery-codes.txt">
            Download the codes as a text file
          </a>
        </p>
      )}
      <CheckboxField
        label="I have saved my recovery codes"
        checked={saved}
        onCheckedChange={setSaved}
      />
      <button type="button" className="button" disabled={!saved} onClick={onDone}>
        {doneLabel}
      </button>
    </section>
  );
}
