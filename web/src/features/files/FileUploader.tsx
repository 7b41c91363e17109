/**
 * The uploader: a drop zone and a file picker, then one row per file with its progress, pause,
 * resume, cancel and retry (headless Uppy: the UI is ours). Adding a file again after a reload
 * continues its upload where it stopped (uppyClient.ts).
 */
import type Uppy from '@uppy/core';
import { useEffect, useId, useRef, useState, useSyncExternalStore } from 'react';
import './files.css';
import { formatBytes } from '../../shared/bytes';
import { checkBeforeUpload, describeUploadProblem, freeBytes } from './filesApi';
import type { Bucket } from '../buckets';
import type { FilesUsage, OpenUpload } from './filesApi';
import { UnfinishedUploads } from './UnfinishedUploads';
import { createUppy } from './uploadClient';
import { csrfSource, type Body, type Meta, type Protocol, type Upload } from './uppyClient';

interface UploaderProps {
  userId: string;
  /** Upload to this patient's record; absent: the uploader's own files. */
  patientId?: string | undefined;
  /** Store in this owned bucket; absent: the default storage. */
  bucket?: Pick<Bucket, 'id' | 'multipartPartBytes'> | undefined;
  usage: FilesUsage;
  /** The server's unfinished uploads of this target (resumable by adding the file again). */
  unfinished: readonly OpenUpload[];
  /** A file was stored (or an unfinished upload went away): lists and usage are stale. */
  onChanged: () => void;
}

/** Uppy's state, read by React as an external store. */
function useUppyFiles(uppy: Uppy<Meta, Body> | null): Upload[] {
  const state = useSyncExternalStore(
    (listener) => {
      if (!uppy) return () => undefined;
      uppy.on('state-update', listener);
      return () => uppy.off('state-update', listener);
    },
    () => uppy?.getState().files ?? null,
  );
  return state ? Object.values(state) : [];
}

export function FileUploader({
  userId,
  patientId,
  bucket,
  usage,
  unfinished,
  onChanged,
}: UploaderProps) {
  const [uppy, setUppy] = useState<Uppy<Meta, Body> | null>(null);
  const [protocol, setProtocol] = useState<Protocol | null>(null);
  /** Problems by Uppy file id, in words. */
  const [problems, setProblems] = useState<Record<string, string>>({});
  /** Files refused before they started (type, size, quota, duplicates). */
  const [refused, setRefused] = useState<string[]>([]);
  const [dragging, setDragging] = useState(false);
  const [csrf] = useState(csrfSource);
  const onChangedRef = useRef(onChanged);
  const inputId = useId();
  const hintId = useId();

  useEffect(() => {
    onChangedRef.current = onChanged;
  });

  const { chunkBytes } = usage;
  const bucketId = bucket?.id;
  // The chosen storage's protocol: an owned bucket's own, else the default's.
  const multipartPartBytes = bucket ? bucket.multipartPartBytes : usage.multipartPartBytes;

  useEffect(() => {
    // The instance id is part of each upload's fingerprint: one per person and target, so a
    // reload finds the same uploads and nobody else's.
    const { uppy: instance, protocol: client } = createUppy(
      `haven-${userId}-${patientId ?? 'own'}${bucketId === undefined ? '' : `-${bucketId}`}`,
      { patientId, bucketId },
      { chunkBytes, multipartPartBytes },
      csrf,
    );
    instance.on('upload-error', (file, error) => {
      if (!file) return;
      const { status, body, retryAfter } = client.answerTo(error);
      setProblems((p) => ({
        ...p,
        [file.id]: describeUploadProblem(status, body, retryAfter, file.name),
      }));
      onChangedRef.current();
    });
    instance.on('upload-success', () => onChangedRef.current());
    instance.on('upload-pause', () => onChangedRef.current());
    setUppy(instance);
    setProtocol(client);
    return () => {
      // Leaving the page stops the transfers but keeps the uploads on the server: adding the
      // file again resumes them. (destroy() alone would end every started upload.)
      for (const file of instance.getFiles()) client.detach(file.id);
      instance.destroy();
      setUppy(null);
      setProtocol(null);
    };
  }, [userId, patientId, bucketId, chunkBytes, multipartPartBytes, csrf]);

  const files = useUppyFiles(uppy);

  const addFiles = (list: FileList | null) => {
    if (!uppy || !protocol || !list) return;
    const openSessions = new Set(unfinished.map((u) => u.id));
    const problemsNow: string[] = [];
    let pending = files
      .filter((f) => !f.progress.uploadComplete && !f.error)
      .reduce((sum, f) => sum + (f.size ?? 0), 0);
    for (const file of Array.from(list)) {
      const problem = checkBeforeUpload(file, usage, pending);
      if (problem) {
        problemsNow.push(problem);
        continue;
      }
      try {
        const id = uppy.addFile({
          name: file.name,
          type: file.type,
          data: file,
          source: 'local',
          meta: {
            ...(patientId === undefined ? {} : { patientId }),
            ...(bucketId === undefined ? {} : { bucketId }),
          },
        });
        // Before it starts (autoProceed waits a tick): continue its unfinished session.
        protocol.prepare(id, openSessions);
        setProblems((p) => {
          const next = { ...p };
          delete next[id];
          return next;
        });
        pending += file.size;
      } catch (error) {
        problemsNow.push(
          error instanceof Error && /duplicate/i.test(error.message)
            ? `"${file.name}" is already in the list.`
            : `"${file.name}" could not be added.`,
        );
      }
    }
    setRefused(problemsNow);
  };

  return (
    <div className="stack uploader">
      <div
        className={dragging ? 'drop-zone drop-zone-active' : 'drop-zone'}
        onDragEnter={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragOver={(event) => {
          event.preventDefault();
          event.dataTransfer.dropEffect = 'copy';
        }}
        onDragLeave={(event) => {
          if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setDragging(false);
        }}
        onDrop={(event) => {
          event.preventDefault();
          setDragging(false);
          addFiles(event.dataTransfer.files);
        }}
      >
        <p>Drag files here, or choose them:</p>
        <label htmlFor={inputId}>Files to upload</label>
        <input
          id={inputId}
          type="file"
          multiple
          accept={usage.allowedExtensions.join(',')}
          aria-describedby={hintId}
          disabled={!uppy}
          onChange={(event) => {
            addFiles(event.target.files);
            // The same file can be chosen again (to resume it after a reload).
            event.target.value = '';
          }}
        />
        <p id={hintId} className="hint">
          Up to {formatBytes(Math.min(usage.maxFileBytes, freeBytes(usage)))} per file (
          {formatBytes(freeBytes(usage))} of your space is free). Accepted:{' '}
          {usage.allowedExtensions.join(', ')}.
        </p>
      </div>
      {refused.length > 0 && (
        <div className="error" role="alert">
          {refused.map((message) => (
            <p key={message}>{message}</p>
          ))}
        </div>
      )}
      {files.length > 0 && uppy && (
        <ul className="cards" aria-label="Uploads in progress">
          {files.map((file) => (
            <UploadRow key={file.id} uppy={uppy} file={file} problem={problems[file.id]} />
          ))}
        </ul>
      )}
      {files.some((f) => f.progress.uploadComplete) && uppy && (
        <div className="actions">
          <button
            type="button"
            className="button secondary"
            onClick={() => {
              for (const f of uppy.getFiles()) if (f.progress.uploadComplete) uppy.removeFile(f.id);
            }}
          >
            Clear finished uploads
          </button>
        </div>
      )}
      <UnfinishedUploads
        uploads={unfinished.filter((u) => !files.some((f) => protocol?.sessionOf(f) === u.id))}
        csrf={csrf}
        onChanged={onChanged}
      />
    </div>
  );
}

function UploadRow({
  uppy,
  file,
  problem,
}: {
  uppy: Uppy<Meta, Body>;
  file: Upload;
  problem: string | undefined;
}) {
  const progressId = useId();
  const name = file.name ?? 'file';
  const size = file.size ?? 0;
  const sent = file.progress.bytesUploaded || 0;
  const done = file.progress.uploadComplete === true;
  const failed = Boolean(file.error) || problem !== undefined;
  const percent = size > 0 ? Math.floor((sent / size) * 100) : 0;
  const status = done
    ? 'Uploaded. It is checked for malware before anyone can download it.'
    : failed
      ? 'Stopped.'
      : file.isPaused
        ? `Paused at ${percent}%.`
        : file.progress.uploadStarted
          ? `Uploading: ${formatBytes(sent)} of ${formatBytes(size)} (${percent}%).`
          : 'Waiting to start.';
  return (
    <li className="card" data-testid="upload">
      <p className="card-title">{name}</p>
      <label htmlFor={progressId}>Progress of {name}</label>
      <progress id={progressId} max={size || 1} value={done ? size || 1 : sent}>
        {percent}%
      </progress>
      <p role="status">{status}</p>
      {failed && (
        <p className="error" role="alert">
          {problem ?? file.error}
        </p>
      )}
      <div className="actions">
        {!done && !failed && (
          <button
            type="button"
            className="button secondary"
            aria-label={`${file.isPaused ? 'Resume' : 'Pause'} upload of ${name}`}
            onClick={() => uppy.pauseResume(file.id)}
          >
            {file.isPaused ? 'Resume' : 'Pause'}
          </button>
        )}
        {failed && (
          <button
            type="button"
            className="button secondary"
            aria-label={`Retry upload of ${name}`}
            onClick={() => void uppy.retryUpload(file.id)}
          >
            Retry
          </button>
        )}
        <button
          type="button"
          className="button secondary"
          aria-label={`${done || failed ? 'Remove' : 'Cancel upload of'} ${name}${done || failed ? ' from the list' : ''}`}
          onClick={() => uppy.removeFile(file.id)}
        >
          {done || failed ? 'Remove' : 'Cancel'}
        </button>
      </div>
    </li>
  );
}
