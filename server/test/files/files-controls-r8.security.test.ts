// Upload threat found by mutation round 8 (F2, T4): a tus chunk sent without Content-Length
// (chunked transfer encoding) is read part by part as it arrives; it must stop at the length
// declared when the upload started, never storing bytes beyond it (more than the caller's quota
// counted, and a file longer than the one that will be scanned and completed).
import type { AddressInfo } from 'node:net';
import { beforeAll, expect, it } from 'vitest';
import { describeClinic } from '../clinical-actors.js';
import { pdfBytes, tusCreate, tusHead, tusPatchChunked } from '../tus.js';

describeClinic('files controls (round 8)', (clinic) => {
  let port = 0;
  beforeAll(async () => {
    await clinic.app.listen({ host: '127.0.0.1', port: 0 });
    port = (clinic.app.server.address() as AddressInfo).port;
    // The harness's app.close() at the end of the block closes the listener too.
  });

  it('F2/T4 overrun: a chunk of unknown length running past Upload-Length is refused and nothing of it counts', async () => {
    const clinician = await clinic.actor(['clinician']);
    const declared = 1000;
    const created = await tusCreate(clinic.app, clinician, declared, { filename: 'overrun.pdf' });
    expect(created.statusCode, created.body).toBe(201);
    const location = String(created.headers.location);

    const body = pdfBytes(declared + 4096);
    // Over a real socket with chunked transfer encoding: no Content-Length, so the server cannot
    // know the size before reading it (app.inject would race the refusal against its own stream).
    const res = await tusPatchChunked(port, clinician, location, [
      body.subarray(0, 600),
      body.subarray(600),
    ]);
    expect(res.status, res.body).toBe(400);
    expect(res.body).toMatch(/past the length declared/);

    const head = await tusHead(clinic.app, clinician, location);
    expect(Number(head.headers['upload-offset'])).toBe(0);
    expect(await clinic.rows('files', { owner_id: clinician.userId })).toEqual([]);
  });
});
