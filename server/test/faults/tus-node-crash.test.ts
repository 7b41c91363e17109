// A node killed mid-upload must not take the bytes it stored with it (F2, "nothing acknowledged
// is lost"). Real processes on a private PostgreSQL: two `haven serve` nodes sharing one storage
// folder, as a deployment on the embedded filesystem store runs them. A tus PATCH of a whole file
// goes to node A, which is killed with SIGKILL once it has stored two whole 8 MiB parts; the
// client then asks node B where the upload is (HEAD) and sends the rest from there, as Uppy and
// tus-js-client do. Each part counts as soon as storage took it, so B answers 16 MiB, not 0, and
// the upload completes byte for byte (the declared SHA-256 is checked at completion).
// Runs in the PostgreSQL pass of the suite (DATABASE_URL set), like database-faults.test.ts.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createActor } from '../actors.js';
import { pdfBytes, tusMetadata } from '../tus.js';
import { freePort, privatePostgresUnavailable } from './private-servers.js';
import { useFaultLab } from './fault-lab.js';

const skipReason = !process.env.DATABASE_URL
  ? 'fault tests run in the PostgreSQL pass (set DATABASE_URL)'
  : privatePostgresUnavailable();

const MIB = 1024 * 1024;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One tus request; `body` is written at `bytesPerTick` every 20 ms (a client on a real link). */
function tusRequest(
  port: number,
  method: 'POST' | 'HEAD' | 'PATCH',
  pathname: string,
  headers: Record<string, string>,
  body?: { bytes: Buffer; bytesPerTick: number },
): Promise<Answer | { status: 'cut' }> {
  return new Promise((resolve) => {
    const request = http.request({
      host: '127.0.0.1',
      port,
      method,
      path: pathname,
      agent: false,
      headers: {
        'tus-resumable': '1.0.0',
        ...headers,
        ...(body && { 'content-length': String(body.bytes.length) }),
      },
    });
    request.on('response', (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }),
      );
      response.on('error', () => resolve({ status: 'cut' }));
    });
    request.on('error', () => resolve({ status: 'cut' }));
    if (!body) {
      request.end();
      return;
    }
    let sent = 0;
    const tick = (): void => {
      if (request.destroyed) return;
      if (sent >= body.bytes.length) {
        request.end();
        return;
      }
      const piece = body.bytes.subarray(sent, sent + body.bytesPerTick);
      sent += piece.length;
      request.write(piece, () => setTimeout(tick, 20));
    };
    tick();
  });
}

describe.skipIf(skipReason !== undefined)('a node killed mid-upload, on real processes', () => {
  const lab = useFaultLab({ postgres: true });

  it('F2/node crash: a tus PATCH cut by SIGKILL of its node resumes on the other node from its last whole stored part, and completes byte for byte', async () => {
    // One storage folder for both nodes: the embedded filesystem store shared between them.
    const dataDir = lab.folder('haven-shared-');
    const env = lab.env({ HAVEN_DATA_DIR: dataDir });
    const [portA, portB] = [await freePort(), await freePort()];
    const nodeA = lab.spawn(['serve'], { ...env, PORT: String(portA) });
    const nodeB = lab.spawn(['serve'], { ...env, PORT: String(portB) });
    await Promise.all([nodeA, nodeB].map((node) => node.waitFor('Haven is listening')));
    const minter = await lab.minter(env);
    const clinician = await createActor(minter, ['clinician']);
    const auth = { authorization: clinician.authorization };

    const body = pdfBytes(20 * MIB);
    const sha256 = createHash('sha256').update(body).digest('hex');
    const created = await tusRequest(portA, 'POST', '/api/files/uploads', {
      ...auth,
      'upload-length': String(body.length),
      'upload-metadata': tusMetadata({ filename: 'crash.pdf', sha256 }),
    });
    expect(created.status).toBe(201);
    const location = String((created as Answer).headers.location);
    const client = new pg.Client({ connectionString: lab.postgres.url });
    // Ended even when an expectation fails first: a client left open when the database goes at
    // teardown would throw its 'error' into the run.
    client.on('error', () => undefined);
    lab.onTeardown(() => client.end().catch(() => undefined));
    await client.connect();
    const { rows } = await client.query<{ storage_upload_id: string }>(
      'select storage_upload_id from upload_sessions where id = $1',
      [location.split('/').pop()],
    );
    const partsFolder = path.join(dataDir, 'files', 'uploads', rows[0]!.storage_upload_id);
    const storedParts = () =>
      existsSync(partsFolder) ? readdirSync(partsFolder).filter((n) => n.startsWith('part-')) : [];

    // The whole file in one PATCH (tus-js-client's default), ~6 MiB/s; node A dies once two
    // whole parts are on the disk.
    const patch = tusRequest(
      portA,
      'PATCH',
      location,
      { ...auth, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
      { bytes: body, bytesPerTick: 128 * 1024 },
    );
    const deadline = Date.now() + 60_000;
    while (storedParts().length < 2 && Date.now() < deadline) await sleep(20);
    expect(storedParts()).toHaveLength(2);
    // Storage acknowledged the second part; a moment for the node to act on that (well before
    // a third part could be whole at this rate).
    await sleep(300);
    nodeA.child.kill('SIGKILL');
    expect((await patch).status).toBe('cut');

    const head = await tusRequest(portB, 'HEAD', location, auth);
    expect(head.status).toBe(200);
    const offset = Number((head as Answer).headers['upload-offset']);
    expect(offset).toBe(16 * MIB);

    // The dead node's writer mark is free once it is stale (20 s). Until then a PATCH gets 423,
    // or is cut when the node answers before the body is all sent; a tus client retries both,
    // asking HEAD where the upload is each time, as Uppy and tus-js-client do.
    let rest: Answer | { status: 'cut' } = { status: 'cut' };
    const resumeBy = Date.now() + 45_000;
    do {
      const where = await tusRequest(portB, 'HEAD', location, auth);
      const at = where.status === 200 ? Number(where.headers['upload-offset']) : offset;
      rest = await tusRequest(
        portB,
        'PATCH',
        location,
        {
          ...auth,
          'upload-offset': String(at),
          'content-type': 'application/offset+octet-stream',
        },
        { bytes: body.subarray(at), bytesPerTick: 1024 * 1024 },
      );
      if (rest.status !== 423 && rest.status !== 'cut') break;
      await sleep(1_000);
    } while (Date.now() < resumeBy);
    expect(rest.status, `${JSON.stringify(rest)}; node B said:\n${nodeB.output()}`).toBe(204);
    expect((rest as Answer).headers['upload-offset']).toBe(String(body.length));
    const fileId = String((rest as Answer).headers['haven-file-id']);
    const file = await client.query<{ size: string; sha256: string }>(
      'select size, sha256 from files where id = $1',
      [fileId],
    );
    expect(file.rows[0]).toEqual({ size: String(body.length), sha256 });
    expect(nodeB.exited(), nodeB.output()).toBe(false);
  }, 180_000);
});
