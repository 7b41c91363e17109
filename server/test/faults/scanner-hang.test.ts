// A hung malware scanner must hold up only the scans (L3, F5; probe "faults2", finding 1). A clamd
// that stops answering (SIGSTOP, a stuck thread pool: the kernel still completes the connection,
// then nothing comes back) holds each scan for the client's 60 s idle timeout, attempt after
// attempt and file after file. `haven worker` ran every queue in one loop, one job at a time, so
// audit sealing, the password-reset fallback and the cleanups all waited behind the scans: the
// probe saw audit events stay unsealed for the whole 144 s of a hang. Real processes on a private
// PostgreSQL: a `haven worker` whose clamd accepts connections and never answers; while a scan
// hangs, a newer audit event is sealed within seconds and the file stays undownloadable.
// Runs in the PostgreSQL pass of the suite (DATABASE_URL set), like database-faults.test.ts.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createActor, type Actor } from '../actors.js';
import { pdfBytes, tusUpload } from '../tus.js';
import { startHungClamd } from '../hung-clamd.js';
import { privatePostgresUnavailable } from './private-servers.js';
import { useFaultLab } from './fault-lab.js';

const skipReason = !process.env.DATABASE_URL
  ? 'fault tests run in the PostgreSQL pass (set DATABASE_URL)'
  : privatePostgresUnavailable();

describe.skipIf(skipReason !== undefined)('a hung malware scanner, on real processes', () => {
  const lab = useFaultLab({ postgres: true });
  let client: pg.Client | undefined;
  let minter: FastifyInstance | undefined;
  lab.onTeardown(async () => {
    await client?.end();
  });

  async function upload(actor: Actor, name: string): Promise<string> {
    const body = pdfBytes(64 * 1024);
    const sha256 = createHash('sha256').update(body).digest('hex');
    const { last } = await tusUpload(minter!, actor, body, { filename: name, sha256 });
    expect(last.statusCode, last.body).toBe(204);
    return String(last.headers['haven-file-id']);
  }

  async function one<T>(text: string, values: unknown[]): Promise<T> {
    const { rows } = await client!.query(text, values);
    return rows[0] as T;
  }

  it('L3/scanner hang: while a scan waits on a clamd that never answers, newer audit events are still sealed within seconds and the file stays undownloadable', async () => {
    const scanner = await startHungClamd();
    lab.onTeardown(() => scanner.close());
    // One storage folder: the uploads land where the worker reads them.
    const env = lab.env({
      HAVEN_DATA_DIR: lab.folder('haven-shared-'),
      HAVEN_CLAMD_URL: `tcp://127.0.0.1:${scanner.port}`,
    });
    // At info, so the worker says when it has started.
    const worker = lab.spawn(['worker'], { ...env, HAVEN_LOG_LEVEL: 'info' });
    await worker.waitFor('worker started');
    // The uploads go through an app in this process; only the worker runs jobs.
    minter = await lab.minter(env);
    client = new pg.Client({ connectionString: lab.postgres.url });
    await client.connect();
    const clinician = await createActor(minter, ['clinician']);

    const first = await upload(clinician, 'first.pdf');
    // The worker has the first file's scan on the hung scanner.
    const scanRunning = async () =>
      one<{ status: string } | undefined>(
        `select status from jobs where queue = 'files.scan' and payload->>'fileId' = $1`,
        [first],
      );
    const runningBy = Date.now() + 20_000;
    while ((await scanRunning())?.status !== 'running' && Date.now() < runningBy) await sleep(100);
    expect((await scanRunning())?.status).toBe('running');
    while (scanner.connections() === 0 && Date.now() < runningBy) await sleep(100);
    expect(scanner.connections()).toBeGreaterThan(0);

    // A newer audited action (the second upload's completion) while the scan hangs.
    const second = await upload(clinician, 'second.pdf');
    const { seq } = await one<{ seq: string }>(
      `select seq from audit_events where action = 'file.upload.complete' and target_id = $1`,
      [second],
    );
    const sealed = async () =>
      Number(
        (await one<{ max: string | null }>('select max(seq) from audit_seals', [])).max ?? 0,
      ) >= Number(seq);
    const started = Date.now();
    // The sealer runs every second; 15 s is far below the scanner's 60 s idle timeout.
    while (!(await sealed()) && Date.now() - started < 15_000) await sleep(250);
    expect(await sealed(), `unsealed after ${Date.now() - started} ms`).toBe(true);

    // Meanwhile the hung scan has settled nothing: both files wait, neither can be downloaded.
    const statuses = await client.query<{ status: string }>(
      'select status from files where id = any($1::uuid[])',
      [[first, second]],
    );
    expect(statuses.rows.map((row) => row.status)).toEqual(['scanning', 'scanning']);
    const link = await minter.inject({
      method: 'POST',
      url: `/api/files/${first}/download-link`,
      headers: { authorization: clinician.authorization, 'content-type': 'application/json' },
      payload: {},
    });
    expect(link.statusCode).toBe(409);
    expect(worker.exited()).toBe(false);
  }, 120_000);
});
