// The scan job (F4, F5): a control an outside mutation hunt found no test for. A stored object
// that is not the size the upload recorded (swapped, truncated or grown in storage) is never
// scanned clean: it is quarantined as missing, whatever the scanner would say of its bytes.
import pino from 'pino';
import { expect, it } from 'vitest';
import { describeClinic } from '../clinical-actors.js';
import { pdfBytes, tusUpload } from '../tus.js';
import { scanFile } from '../../src/modules/files/index.js';
import type { ClamdClient } from '../../src/platform/scanning/clamd.js';
import type { ObjectStorage } from '../../src/platform/storage/index.js';

const log = pino({ level: 'silent' });

/** A scanner that calls everything clean: only the checks before it can stop a file. */
const lenientScanner: ClamdClient = {
  scan: async (source) => {
    for await (const chunk of source) void chunk;
    return { verdict: 'clean' };
  },
  probe: async () => ({ ok: true, version: 'lenient test scanner' }),
};

describeClinic('files: scan job controls', (clinic) => {
  it('F5/F4: a stored object of another size than recorded is quarantined, never scanned clean', async () => {
    const owner = await clinic.actor(['clinician']);
    const { last } = await tusUpload(clinic.app, owner, pdfBytes(4000), { filename: 'sized.pdf' });
    expect(last.statusCode, last.body).toBe(204);
    const fileId = String(last.headers['haven-file-id']);
    const real = clinic.app.fileServices.storage;
    // Storage holds an object under the key, but one byte longer than the upload stored.
    const resized: ObjectStorage = Object.assign(Object.create(real) as ObjectStorage, {
      headObject: async (key: string) => {
        const head = await real.headObject(key);
        return head && { ...head, size: head.size + 1 };
      },
    });
    await scanFile(
      clinic.db,
      {
        storage: resized,
        scanner: lenientScanner,
        mailer: undefined,
        publicOrigin: 'https://haven.example',
      },
      fileId,
      log,
    );
    const [row] = await clinic.rows('files', { id: fileId });
    expect(row).toMatchObject({ status: 'quarantined', status_reason: 'missing_object' });
    const link = await clinic.call(owner, 'POST', `/api/files/${fileId}/download-link`, {});
    expect(link.statusCode).toBe(409);
  });
});
