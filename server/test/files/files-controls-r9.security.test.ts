// Upload threats found by mutation round 9 (V1, T4): tus creation headers that Haven must refuse
// rather than read some way of its own — Upload-Metadata naming a key twice (which file name
// counts?), holding bytes that are not UTF-8 (turned into replacement characters) or any number
// of keys, and an Upload-Length that is not plain decimal digits (hexadecimal, exponent, sign);
// and S3 multipart calls naming a part past the 10,000 a multipart upload can hold or claiming a
// part larger than the 5 GiB one can be (T4), refused at the request's shape.
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { describeClinic } from '../clinical-actors.js';
import { tusCreate } from '../tus.js';

const b64 = (bytes: Buffer | string): string => Buffer.from(bytes).toString('base64');

describeClinic('files controls (round 9)', (clinic) => {
  async function refusedCreation(headers: Record<string, string>, why: string): Promise<void> {
    const clinician = await clinic.actor(['clinician']);
    const res = await tusCreate(clinic.app, clinician, 1000, { filename: 'plain.pdf' }, headers);
    expect(res.statusCode, `${why}: ${res.body}`).toBe(400);
    expect(res.headers.location, why).toBeUndefined();
  }

  it('V1/ambiguous metadata: Upload-Metadata naming the file twice is refused, so no reader can take the other name', async () => {
    await refusedCreation(
      { 'upload-metadata': `filename ${b64('report.pdf')},filename ${b64('other.pdf')}` },
      'a key twice',
    );
  });

  it('V1/mangled metadata: an Upload-Metadata value that is not UTF-8 is refused, not stored with replacement characters', async () => {
    const latin1 = Buffer.from([0x72, 0xe9, 0x73, 0x75, 0x6d, 0xe9, 0x2e, 0x70, 0x64, 0x66]); // "résumé.pdf" in Latin-1
    await refusedCreation({ 'upload-metadata': `filename ${b64(latin1)}` }, 'Latin-1 bytes');
  });

  it('V1/T4 unbounded metadata: Upload-Metadata holding more than 20 keys is refused', async () => {
    const pairs = [`filename ${b64('many.pdf')}`];
    for (let i = 0; i < 20; i += 1) pairs.push(`k${i} ${b64('x')}`);
    await refusedCreation({ 'upload-metadata': pairs.join(',') }, '21 keys');
    // 20 keys are fine: the limit, not the keys, refuses.
    const clinician = await clinic.actor(['clinician']);
    const ok = await tusCreate(
      clinic.app,
      clinician,
      1000,
      { filename: 'plain.pdf' },
      {
        'upload-metadata': pairs.slice(0, 20).join(','),
      },
    );
    expect(ok.statusCode, ok.body).toBe(201);
  });

  it('V1/number confusion: an Upload-Length in hexadecimal, with an exponent, a sign or spaces is refused, not read as a number', async () => {
    for (const length of ['0x3e8', '1e3', '+1000', ' 1000', '1000.0']) {
      await refusedCreation({ 'upload-length': length }, `Upload-Length ${JSON.stringify(length)}`);
    }
  });
  it('T4/multipart bounds: a part number past 10,000 and a part size past 5 GiB are refused (400) before any upload is looked up; at the bounds the request goes on (404 for an unknown upload)', async () => {
    const clinician = await clinic.actor(['clinician']);
    const base = `/api/files/multipart/${randomUUID()}/parts`;
    const url = (part: number) => clinic.call(clinician, 'POST', `${base}/${part}/url`, {});
    expect((await url(10_001)).statusCode).toBe(400);
    expect((await url(10_000)).statusCode).toBe(404);
    const record = (size: number) =>
      clinic.call(clinician, 'PUT', `${base}/1`, { etag: '"0123456789abcdef"', size });
    expect((await record(5 * 1024 ** 3 + 1)).statusCode).toBe(400);
    expect((await record(5 * 1024 ** 3)).statusCode).toBe(404);
  });
});
