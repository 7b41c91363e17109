// The storage folder of the embedded filesystem store full (issue 9, probe "two nodes"): uploads
// are refused with 503 and Retry-After 60 — a tus PATCH too, where a full disk used to pass for a
// client that stopped sending (204 at the old offset, and a client looping on it), and the next
// request on its connection is not stuck behind the unread body; /readyz names
// the folder `"storage": "failed"` and stays 200, since the folder is shared by every node and
// everything but uploads still works; and it all comes back once there is room.
// A real tmpfs of 48 MiB mounted for the test (root only), two `haven serve` nodes sharing it, on a
// private PostgreSQL. Runs in the PostgreSQL pass of the suite (DATABASE_URL set).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createActor } from '../actors.js';
import { pdfBytes, tusMetadata } from '../tus.js';
import { freePort, privatePostgresUnavailable } from './private-servers.js';
import { useFaultLab } from './fault-lab.js';

/** A small tmpfs to fill, or why none can be mounted here. */
function mountTmpfs(): { folder: string } | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: 'mounting a tmpfs needs root' };
  const folder = mkdtempSync(path.join(tmpdir(), 'haven-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', folder], { stdio: 'ignore' });
    return { folder };
  } catch {
    rmSync(folder, { recursive: true, force: true });
    return { skip: 'mount refused (no CAP_SYS_ADMIN)' };
  }
}

const skipReason = !process.env.DATABASE_URL
  ? 'fault tests run in the PostgreSQL pass (set DATABASE_URL)'
  : privatePostgresUnavailable();

describe.skipIf(skipReason !== undefined)('a full storage folder, on real processes', () => {
  const lab = useFaultLab({ postgres: true });
  let mounted: { folder: string } | { skip: string };

  beforeAll(() => {
    mounted = mountTmpfs();
    lab.onTeardown(() => {
      if (!('folder' in mounted)) return;
      execFileSync('umount', [mounted.folder]);
      rmSync(mounted.folder, { recursive: true, force: true });
    });
  });

  it('F2/disk full: uploads get 503 + Retry-After 60 (PATCH included, its connection still usable), /readyz reports storage failed and stays 200, reads and writes of records go on, and uploads resume once there is room', async (context) => {
    if ('skip' in mounted) return context.skip(mounted.skip);
    const dataDir = mounted.folder;
    const env = lab.env({ HAVEN_DATA_DIR: dataDir });
    const ports = [await freePort(), await freePort()] as const;
    const nodes = ports.map((port) => lab.spawn(['serve'], { ...env, PORT: String(port) }));
    await Promise.all(nodes.map((node) => node.waitFor('Haven is listening')));
    const minter = await lab.minter(env);
    const clinician = await createActor(minter, ['clinician']);
    const headers = { authorization: clinician.authorization, 'tus-resumable': '1.0.0' };
    const body = pdfBytes(2 * 1024 * 1024);
    const create = (port: number) =>
      fetch(`http://127.0.0.1:${port}/api/files/uploads`, {
        method: 'POST',
        headers: {
          ...headers,
          'upload-length': String(body.length),
          'upload-metadata': tusMetadata({ filename: 'full.pdf' }),
        },
      });
    const patch = (port: number, location: string) =>
      fetch(`http://127.0.0.1:${port}${location}`, {
        method: 'PATCH',
        headers: {
          ...headers,
          'upload-offset': '0',
          'content-type': 'application/offset+octet-stream',
        },
        body: new Uint8Array(body),
      });
    const ready = async (port: number) => {
      const answer = await fetch(`http://127.0.0.1:${port}/readyz`, {
        signal: AbortSignal.timeout(10_000),
      });
      return { status: answer.status, body: (await answer.json()) as { checks?: object } };
    };
    expect((await ready(ports[0])).body.checks).toMatchObject({ storage: 'ok' });
    const opened = await create(ports[0]);
    expect(opened.status).toBe(201);

    const filler = path.join(dataDir, 'filler');
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1M'], { stdio: 'ignore' });
    } catch {
      // dd stops with "No space left on device": the folder is full.
    }
    const refusedPatch = await patch(ports[1], String(opened.headers.get('location')));
    expect(refusedPatch.status).toBe(503);
    expect(refusedPatch.headers.get('retry-after')).toBe('60');
    // Answered before its body was read through, the PATCH closes its connection; a node that
    // kept it open would leave the next request on it waiting behind the unread bytes.
    if (refusedPatch.headers.get('connection') !== 'close') await refusedPatch.arrayBuffer();
    const refusedStart = await create(ports[0]);
    expect(refusedStart.status).toBe(503);
    expect(refusedStart.headers.get('retry-after')).toBe('60');
    for (const port of ports) {
      const answer = await ready(port);
      expect(answer.status).toBe(200);
      expect(answer.body.checks).toMatchObject({ database: 'ok', storage: 'failed' });
    }
    const me = await fetch(`http://127.0.0.1:${ports[1]}/api/auth/me`, { headers });
    expect(me.status).toBe(200);

    rmSync(filler);
    writeFileSync(path.join(dataDir, 'room'), 'there is room again');
    expect((await ready(ports[1])).body.checks).toMatchObject({ storage: 'ok' });
    const again = await create(ports[1]);
    expect(again.status).toBe(201);
    expect((await patch(ports[0], String(again.headers.get('location')))).status).toBe(204);
    expect(
      nodes.map((node) => node.exited()),
      nodes.map((node) => node.output()).join('\n'),
    ).toEqual([false, false]);
  }, 180_000);
});
