// Issue 11's filesystem benchmark: a file uploaded with tus through Haven (PATCHes of the size
// the server tells the SPA to send, `chunkBytes` of GET /api/files/usage, over real HTTP on
// 127.0.0.1) against a raw sequential write of the same bytes to the same disk, measured in the
// same run; and the server's RSS growth while it takes the file. The server runs in a forked
// child (bench/files-server.ts) so its RSS is its own and the client does not share its event
// loop.
//
//   node --import tsx bench/files.bench.ts
//   BENCH_FILE_MB=2048 node --import tsx bench/files.bench.ts    # the 2 GB
//
// Targets: tus ÷ raw write ≥ 0.8; server RSS growth < 100 MB. The raw write is fsynced at the
// end, as the driver fsyncs each part (a part is acknowledged only once on disk). For context,
// the same PATCHes to a sink in the server process that only reads them: the HTTP transfer's own
// cost on this machine, which tus cannot beat.
//   BENCH_PATCH_MB=<n> sends PATCHes of n MiB instead of what the SPA sends (experiments).
//   BENCH_CPU_PROF=<dir> also writes the server's V8 CPU profile there.
//
// Each body is streamed 1 MiB at a time with a Content-Length, as a browser sends a Blob slice:
// one `fetch` with a whole Uint8Array body slows the client itself as the body grows (64 MiB
// bodies: 150 MiB/s to a sink that only reads, against 1.2 GiB/s streamed).
import { mallocSettings } from './allocator.js'; // first: the glibc malloc settings Haven is deployed with
import { fork } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { FilesReady, FilesRss } from './files-server.js';

const MIB = 1024 * 1024;
const FILE_MB = Number(process.env.BENCH_FILE_MB ?? 512);
const PATCH_OVERRIDE = process.env.BENCH_PATCH_MB
  ? Number(process.env.BENCH_PATCH_MB) * MIB
  : undefined;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/** MiB `index` of a deterministic "PDF" (the file is produced piece by piece, never whole). */
function pieceAt(index: number): Buffer {
  const piece = Buffer.alloc(MIB, 0x20 + (index % 64));
  if (index === 0) piece.write('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 0, 'latin1');
  return piece;
}

/** Sends bytes `offset..offset+size` of the file as one request body, 1 MiB per write. */
async function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  offset: number,
  size: number,
): Promise<{ status: number; headers: IncomingMessage['headers']; text: string }> {
  const req = httpRequest(url, {
    method,
    agent,
    headers: { ...headers, 'content-length': String(size) },
  });
  const answered = once(req, 'response') as Promise<[IncomingMessage]>;
  for (let at = offset; at < offset + size; at += MIB) {
    if (!req.write(pieceAt(at / MIB))) await Promise.race([once(req, 'drain'), answered]);
  }
  req.end();
  const [res] = await answered;
  let text = '';
  for await (const chunk of res) text += String(chunk);
  return { status: res.statusCode ?? 0, headers: res.headers, text };
}

async function rawWrite(dir: string, bytes: number): Promise<number> {
  const file = join(dir, 'raw.bin');
  const started = performance.now();
  const stream = createWriteStream(file);
  for (let index = 0; index < bytes / MIB; index += 1) {
    if (!stream.write(pieceAt(index))) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
  const handle = await open(file, 'r');
  await handle.sync();
  await handle.close();
  const ms = performance.now() - started;
  rmSync(file);
  return ms;
}

/** The same PATCHes to the sink, which only reads them: what the HTTP transfer alone costs. */
async function httpFloor(ready: FilesReady, bytes: number, patch: number): Promise<number> {
  const started = performance.now();
  for (let offset = 0; offset < bytes; offset += patch) {
    const headers = { 'content-type': 'application/offset+octet-stream' };
    await send(ready.sinkUrl, 'PATCH', headers, offset, Math.min(patch, bytes - offset));
  }
  return performance.now() - started;
}

/** The PATCH size the SPA sends: the `chunkBytes` the server names. */
async function spaPatchBytes(ready: FilesReady): Promise<number> {
  const res = await fetch(`${ready.appUrl}/api/files/usage`, {
    headers: { authorization: ready.authorization },
  });
  if (res.status !== 200) throw new Error(`usage: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { chunkBytes: number }).chunkBytes;
}

async function tusUpload(ready: FilesReady, bytes: number, patch: number): Promise<number> {
  const headers = { authorization: ready.authorization, 'tus-resumable': '1.0.0' };
  const started = performance.now();
  const created = await fetch(`${ready.appUrl}/api/files/uploads`, {
    method: 'POST',
    headers: {
      ...headers,
      'upload-length': String(bytes),
      'upload-metadata': `filename ${Buffer.from('bench.pdf').toString('base64')}`,
    },
  });
  if (created.status !== 201) throw new Error(`create: ${created.status} ${await created.text()}`);
  const location = `${ready.appUrl}${created.headers.get('location') ?? ''}`;
  for (let offset = 0; offset < bytes; offset += patch) {
    const res = await send(
      location,
      'PATCH',
      {
        ...headers,
        'upload-offset': String(offset),
        'content-type': 'application/offset+octet-stream',
      },
      offset,
      Math.min(patch, bytes - offset),
    );
    if (res.status !== 204) throw new Error(`patch at ${offset}: ${res.status} ${res.text}`);
  }
  return performance.now() - started;
}

function request<T>(child: ReturnType<typeof fork>, message: object, type: string): Promise<T> {
  return new Promise((resolve) => {
    const listener = (reply: { type: string }) => {
      if (reply.type !== type) return;
      child.off('message', listener);
      resolve(reply as T);
    };
    child.on('message', listener);
    child.send(message);
  });
}

async function main(): Promise<void> {
  const bytes = FILE_MB * MIB;
  const dir = mkdtempSync(join(tmpdir(), 'haven-files-bench-'));
  const child = fork(fileURLToPath(new URL('./files-server.ts', import.meta.url)), [dir], {
    // BENCH_CPU_PROF=<dir>: the server writes a V8 CPU profile there when the run ends.
    execArgv: [
      '--import',
      'tsx',
      ...(process.env.BENCH_CPU_PROF
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
        : []),
    ],
  });
  try {
    const ready = await new Promise<FilesReady>((resolve) =>
      child.once('message', (m) => resolve(m as FilesReady)),
    );
    const patch = PATCH_OVERRIDE ?? (await spaPatchBytes(ready));
    const rawMs = await rawWrite(dir, bytes);
    const beforeFloor = await request<FilesRss>(child, { type: 'rss' }, 'rss');
    const floorMs = await httpFloor(ready, bytes, patch);
    const before = await request<FilesRss>(child, { type: 'rss' }, 'rss');
    const sampler = setInterval(() => child.send({ type: 'sample' }), 100);
    const tusMs = await tusUpload(ready, bytes, patch);
    clearInterval(sampler);
    const peak = await request<FilesRss>(child, { type: 'rss' }, 'rss');
    const rawRate = bytes / MIB / (rawMs / 1000);
    const tusRate = bytes / MIB / (tusMs / 1000);
    const floorRate = bytes / MIB / (floorMs / 1000);
    const ratio = tusRate / rawRate;
    const growth = (peak.peakRss - before.rss) / MIB;
    console.log(
      `files bench: ${FILE_MB} MiB, ${patch / MIB} MiB PATCHes${PATCH_OVERRIDE ? ' (BENCH_PATCH_MB)' : ' (as the SPA)'}, embedded filesystem driver, ${mallocSettings}`,
    );
    console.log(`raw sequential write + fsync: ${rawRate.toFixed(0)} MiB/s`);
    console.log(`HTTP floor (body discarded):  ${floorRate.toFixed(0)} MiB/s`);
    console.log(`tus through Haven:            ${tusRate.toFixed(0)} MiB/s`);
    console.log(
      `${ratio >= 0.8 ? 'PASS' : 'MISS'}  tus ÷ raw write = ${ratio.toFixed(2)} (target ≥ 0.8)`,
    );
    console.log(
      `      tus ÷ HTTP floor = ${(tusRate / floorRate).toFixed(2)} (context, no target)`,
    );
    // Server CPU per MiB (user + system, all threads): steadier than the rates on a shared
    // machine, and what the store path adds to the transfer.
    const cpuPerMib = (from: FilesRss, to: FilesRss) =>
      ((to.cpuMicros - from.cpuMicros) / 1000 / (bytes / MIB)).toFixed(2);
    console.log(
      `      server CPU: tus ${cpuPerMib(before, peak)} ms/MiB, HTTP floor ${cpuPerMib(beforeFloor, before)} ms/MiB (context)`,
    );
    console.log(
      `${growth < 100 ? 'PASS' : 'MISS'}  server RSS growth = ${growth.toFixed(1)} MB (target < 100 MB)`,
    );
  } finally {
    agent.destroy();
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
