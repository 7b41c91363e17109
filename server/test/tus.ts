// A small tus 1.0 client over app.inject for the files tests: create, send chunks, ask progress.
import { request } from 'node:http';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

export interface TusCaller {
  readonly authorization: string;
}

export const TUS_ENDPOINT = '/api/files/uploads';

/** `key base64,…` from a record of plain strings. */
export function tusMetadata(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([key, value]) => `${key} ${Buffer.from(value, 'utf8').toString('base64')}`)
    .join(',');
}

export function tusCreate(
  app: FastifyInstance,
  caller: TusCaller,
  length: number,
  metadata: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: TUS_ENDPOINT,
    headers: {
      authorization: caller.authorization,
      'tus-resumable': '1.0.0',
      'upload-length': String(length),
      'upload-metadata': tusMetadata(metadata),
      ...headers,
    },
  });
}

export function tusPatch(
  app: FastifyInstance,
  caller: TusCaller,
  location: string,
  offset: number,
  body: Buffer,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'PATCH',
    url: location,
    headers: {
      authorization: caller.authorization,
      'tus-resumable': '1.0.0',
      'upload-offset': String(offset),
      'content-type': 'application/offset+octet-stream',
      ...headers,
    },
    payload: body,
  });
}

export function tusHead(
  app: FastifyInstance,
  caller: TusCaller,
  location: string,
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'HEAD',
    url: location,
    headers: { authorization: caller.authorization, 'tus-resumable': '1.0.0' },
  });
}

/** Creates the upload and sends `body` in chunks of `chunkBytes`; returns the last answer. */
export async function tusUpload(
  app: FastifyInstance,
  caller: TusCaller,
  body: Buffer,
  metadata: Record<string, string>,
  chunkBytes = body.length,
): Promise<{ location: string; created: LightMyRequestResponse; last: LightMyRequestResponse }> {
  const created = await tusCreate(app, caller, body.length, metadata);
  if (created.statusCode !== 201) return { location: '', created, last: created };
  const location = String(created.headers.location);
  let last = created;
  for (let offset = 0; offset < body.length; offset += chunkBytes) {
    last = await tusPatch(
      app,
      caller,
      location,
      offset,
      body.subarray(offset, offset + chunkBytes),
    );
    if (last.statusCode !== 204) break;
  }
  return { location, created, last };
}

/** A small valid-looking PDF of `bytes` bytes (header, padding, trailer). */
export function pdfBytes(bytes: number): Buffer {
  const head = Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n', 'latin1');
  const tail = Buffer.from('\ntrailer\n<<>>\n%%EOF\n', 'latin1');
  const padding = Buffer.alloc(Math.max(0, bytes - head.length - tail.length), 0x20);
  return Buffer.concat([head, padding, tail]).subarray(
    0,
    Math.max(bytes, head.length + tail.length),
  );
}

/**
 * A tus PATCH at offset 0 whose body goes out in `chunks` with Transfer-Encoding: chunked (no
 * Content-Length), over a real socket to the app listening on 127.0.0.1:`port`: app.inject
 * always sends a length.
 */
export function tusPatchChunked(
  port: number,
  caller: TusCaller,
  path: string,
  chunks: readonly Buffer[],
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'PATCH',
        headers: {
          authorization: caller.authorization,
          'tus-resumable': '1.0.0',
          'upload-offset': '0',
          'content-type': 'application/offset+octet-stream',
          'transfer-encoding': 'chunked',
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (part: string) => (text += part));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    // The server may answer and close before the last chunk: that is the refusal, not an error.
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
    });
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}
