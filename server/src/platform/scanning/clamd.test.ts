import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  EICAR,
  EICAR_SIGNATURE,
  startClamd,
  type ClamdServer,
} from '../../../test/clamd-server.js';
import { createClamdClient, parseClamdAddress, parseScanReply, type ScanResult } from './clamd.js';

/** A lazy source of `total` bytes in `size`-byte chunks, counting what was pulled from it. */
function generated(total: number, size: number, fill = 0x61) {
  const pulled = { bytes: 0 };
  const chunk = Buffer.alloc(size, fill);
  async function* bytes() {
    while (pulled.bytes < total) {
      const next = chunk.subarray(0, Math.min(size, total - pulled.bytes));
      pulled.bytes += next.length;
      yield next;
    }
  }
  return { stream: Readable.from(bytes(), { objectMode: false }), pulled };
}

/** A TCP server that accepts and then does nothing else (optionally not even reading). */
async function silentServer(options: { read: boolean }) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    if (!options.read) socket.pause();
    else socket.resume();
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const expectError = (result: ScanResult, reason: string, retryable: boolean) =>
  expect(result).toMatchObject({ verdict: 'error', reason, retryable });

describe('clamd client against a real clamd', () => {
  let clamd: ClamdServer;
  let dir: string;
  beforeAll(async () => {
    clamd = await startClamd();
    dir = await mkdtemp(path.join(tmpdir(), 'haven-scan-'));
  });
  afterAll(async () => {
    await clamd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const tcp = () => createClamdClient({ address: { host: clamd.host, port: clamd.port } });

  it('F5: an EICAR file is found over TCP', async () => {
    const file = path.join(dir, 'eicar.dcm');
    await writeFile(file, EICAR);
    expect(await tcp().scan(createReadStream(file))).toEqual({
      verdict: 'infected',
      signature: EICAR_SIGNATURE,
    });
  });

  it('F5: an EICAR file is found over the Unix socket', async () => {
    const client = createClamdClient({ address: { socketPath: clamd.socketPath } });
    expect(await client.scan(Readable.from([Buffer.from(EICAR)]))).toEqual({
      verdict: 'infected',
      signature: EICAR_SIGNATURE,
    });
  });

  it('F5: a clean file is clean, over both transports, and an empty file too', async () => {
    const file = path.join(dir, 'report.pdf');
    await writeFile(file, '%PDF-1.7\n' + 'clean text '.repeat(5000));
    expect(await tcp().scan(createReadStream(file))).toEqual({ verdict: 'clean' });
    const unix = createClamdClient({ address: { socketPath: clamd.socketPath } });
    expect(await unix.scan(createReadStream(file))).toEqual({ verdict: 'clean' });
    expect(await tcp().scan(Readable.from([]))).toEqual({ verdict: 'clean' });
  });

  it('F5: a slow source keeps the scan alive: pieces wait at most a second in a batch', async () => {
    // 20 small pieces over 2.4 s, EICAR last: with nothing sent until a batch is full, the
    // client's 1.5 s idle timer would end the scan as a timeout.
    async function* trickle() {
      for (let piece = 0; piece < 20; piece += 1) {
        await new Promise((resolve) => setTimeout(resolve, 120));
        yield Buffer.alloc(1000, 0x20);
      }
      yield Buffer.from(EICAR);
    }
    const client = createClamdClient({
      address: { host: clamd.host, port: clamd.port },
      idleTimeoutMs: 1500,
    });
    expect(await client.scan(Readable.from(trickle()))).toEqual({
      verdict: 'infected',
      signature: EICAR_SIGNATURE,
    });
  });

  it('F5: EICAR inside a larger stream, split across INSTREAM chunks, is found', async () => {
    const before = Buffer.alloc(300_001, 0x20);
    const after = Buffer.alloc(200_000, 0x20);
    const whole = Buffer.concat([before, Buffer.from(EICAR), after]);
    // Odd source chunk sizes and a 7-byte INSTREAM chunk cut the signature into many pieces;
    // the first 73 pieces stop just short of it.
    const pieces: Buffer[] = [];
    for (let at = 0; at < whole.length; at += 4099) pieces.push(whole.subarray(at, at + 4099));
    const client = createClamdClient({
      address: { host: clamd.host, port: clamd.port },
      chunkBytes: 7,
    });
    const split = await client.scan(Readable.from(pieces.slice(0, 73)));
    expect(split).toEqual({ verdict: 'clean' });
    expect(await client.scan(Readable.from(pieces))).toEqual({
      verdict: 'infected',
      signature: EICAR_SIGNATURE,
    });
  });

  it('F5: a stream over StreamMaxLength is an error, never clean', async () => {
    // clamd answers "INSTREAM size limit exceeded" and hangs up; with more bytes in flight the
    // client usually meets a broken pipe first, which reads as a lost connection.
    const { stream, pulled } = generated(clamd.streamMaxBytes * 64, 64 * 1024);
    const result = await tcp().scan(stream);
    expect(result.verdict).toBe('error');
    expect(['STREAM_TOO_LARGE', 'CONNECTION_LOST']).toContain(
      (result as { reason: string }).reason,
    );
    // The client stops reading the source once clamd has given up.
    expect(pulled.bytes).toBeLessThan(clamd.streamMaxBytes * 32);
  });

  it('F5: told the StreamMaxLength, the client refuses a larger stream as not worth retrying', async () => {
    const client = createClamdClient({
      address: { host: clamd.host, port: clamd.port },
      streamMaxBytes: clamd.streamMaxBytes,
    });
    const over = generated(clamd.streamMaxBytes * 64, 64 * 1024);
    expectError(await client.scan(over.stream), 'STREAM_TOO_LARGE', false);
    // The refusing chunk, plus the one the Readable had buffered ahead.
    expect(over.pulled.bytes).toBeLessThanOrEqual(clamd.streamMaxBytes + 2 * 64 * 1024);
    // Exactly at the limit is still scanned, and clamd agrees.
    const atLimit = generated(clamd.streamMaxBytes, 64 * 1024);
    expect(await client.scan(atLimit.stream)).toEqual({ verdict: 'clean' });
    expect(await tcp().scan(generated(clamd.streamMaxBytes, 64 * 1024).stream)).toEqual({
      verdict: 'clean',
    });
  });

  it('F5: PING and VERSION answer for readiness', async () => {
    const probe = await tcp().probe();
    expect(probe).toMatchObject({ ok: true });
    expect((probe as { version: string }).version).toMatch(/^ClamAV \d+\.\d+/);
    const unix = createClamdClient({ address: { socketPath: clamd.socketPath } });
    expect((await unix.probe()).ok).toBe(true);
  });
});

describe('clamd client with a large file', () => {
  let clamd: ClamdServer;
  beforeAll(async () => {
    clamd = await startClamd({ streamMaxBytes: 512 * 1024 * 1024 });
  });
  afterAll(async () => {
    await clamd?.stop();
  });

  it('F5: a 128 MiB stream (over the default MaxFileSize of clamd) to the real clamd with flat memory, EICAR at its very end found', async () => {
    const client = createClamdClient({ address: { socketPath: clamd.socketPath } });
    const total = 128 * 1024 * 1024;
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    try {
      const { stream } = generated(total, 1024 * 1024, 0x20);
      const tail = Readable.from(
        (async function* () {
          yield* stream;
          yield Buffer.from(EICAR);
        })(),
      );
      expect(await client.scan(tail)).toEqual({ verdict: 'infected', signature: EICAR_SIGNATURE });
    } finally {
      clearInterval(sampler);
    }
    expect(peak - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('F5: EICAR after several batches of the stream (storage-sized pieces) is found', async () => {
    // Batches leave about every MiB: the signature sits in the third, across two pieces.
    const whole = Buffer.alloc(5 * 1024 * 1024, 0x20);
    whole.write(EICAR, 2.5 * 1024 * 1024 - 20, 'latin1');
    const pieces: Buffer[] = [];
    for (let at = 0; at < whole.length; at += 65_536) pieces.push(whole.subarray(at, at + 65_536));
    const client = createClamdClient({ address: { socketPath: clamd.socketPath } });
    expect(await client.scan(Readable.from(pieces))).toEqual({
      verdict: 'infected',
      signature: EICAR_SIGNATURE,
    });
  });

  it('F5: a file beyond clamd\'s scan limits is an error, not the "OK" clamd says by default', async () => {
    const limited = await startClamd({
      streamMaxBytes: 4 * 1024 * 1024,
      maxFileBytes: 1024 * 1024,
    });
    try {
      const client = createClamdClient({ address: { host: limited.host, port: limited.port } });
      const { stream } = generated(2 * 1024 * 1024, 64 * 1024);
      expectError(await client.scan(stream), 'SCAN_LIMIT_EXCEEDED', false);
    } finally {
      await limited.stop();
    }
  });
});

describe('clamd client when the scanner misbehaves', () => {
  it('F5: a scanner that is down is a retryable error, never clean', async () => {
    const closed = await silentServer({ read: true });
    await closed.close();
    const client = createClamdClient({ address: { host: '127.0.0.1', port: closed.port } });
    expectError(
      await client.scan(Readable.from([Buffer.from(EICAR)])),
      'SCANNER_UNREACHABLE',
      true,
    );
    expect(await client.probe()).toMatchObject({ ok: false, reason: 'SCANNER_UNREACHABLE' });
    const missingSocket = createClamdClient({
      address: { socketPath: path.join(tmpdir(), 'haven-no-such-clamd.sock') },
    });
    expectError(await missingSocket.scan(Readable.from([])), 'SCANNER_UNREACHABLE', true);
  });

  it('F5: a scanner that accepts and never answers times out as a retryable error', async () => {
    const server = await silentServer({ read: true });
    try {
      const client = createClamdClient({
        address: { host: '127.0.0.1', port: server.port },
        idleTimeoutMs: 300,
      });
      const started = Date.now();
      expectError(await client.scan(Readable.from([Buffer.from('x')])), 'SCANNER_TIMEOUT', true);
      expect(Date.now() - started).toBeLessThan(5000);
      // Readiness has its own, shorter silence budget than a scan.
      const prober = createClamdClient({
        address: { host: '127.0.0.1', port: server.port },
        probeTimeoutMs: 200,
      });
      const probing = Date.now();
      expect(await prober.probe()).toMatchObject({ ok: false, reason: 'SCANNER_TIMEOUT' });
      expect(Date.now() - probing).toBeLessThan(2000);
    } finally {
      await server.close();
    }
  });

  it('F5: a scanner that stops reading holds the source back (flat memory for a 2 GB file)', async () => {
    const server = await silentServer({ read: false });
    try {
      const client = createClamdClient({
        address: { host: '127.0.0.1', port: server.port },
        idleTimeoutMs: 500,
      });
      const { stream, pulled } = generated(2 * 1024 ** 3, 1024 * 1024);
      expectError(await client.scan(stream), 'SCANNER_TIMEOUT', true);
      // Socket buffers on both sides plus one stream buffer: a few MiB, not the file.
      expect(pulled.bytes).toBeLessThan(64 * 1024 * 1024);
      // The source is released (a file handle closed) once the scan has given up.
      await vi.waitFor(() => expect(stream.destroyed).toBe(true));
    } finally {
      await server.close();
    }
  });

  it('F5: a source that fails mid-stream is a retryable error, never clean', async () => {
    const server = await silentServer({ read: true });
    try {
      const client = createClamdClient({ address: { host: '127.0.0.1', port: server.port } });
      async function* failing() {
        yield Buffer.from('first part');
        throw new Error('storage read failed');
      }
      expectError(await client.scan(Readable.from(failing())), 'SOURCE_FAILED', true);
    } finally {
      await server.close();
    }
  });

  it('F5: only an exact "stream: OK" is clean; limits and errors are not', () => {
    expect(parseScanReply('stream: OK\0')).toEqual({ verdict: 'clean' });
    expect(parseScanReply('stream: Win.Test.EICAR_HDB-1 FOUND\0')).toEqual({
      verdict: 'infected',
      signature: 'Win.Test.EICAR_HDB-1',
    });
    expect(parseScanReply('stream: Heuristics.Limits.Exceeded.MaxScanSize FOUND\0')).toMatchObject({
      verdict: 'error',
      reason: 'SCAN_LIMIT_EXCEEDED',
      retryable: false,
    });
    expect(parseScanReply('INSTREAM size limit exceeded. ERROR\0')).toMatchObject({
      verdict: 'error',
      reason: 'STREAM_TOO_LARGE',
      retryable: false,
    });
    expect(parseScanReply("stream: Can't allocate memory ERROR\0")).toMatchObject({
      verdict: 'error',
      reason: 'SCANNER_ERROR',
      retryable: true,
    });
    for (const odd of ['', 'stream: OK but not really', 'OK', 'stream: ok', 'PONG']) {
      expect(parseScanReply(odd)).toMatchObject({ verdict: 'error', reason: 'PROTOCOL_ERROR' });
    }
  });

  it('F5: a reply cut off before its NUL is never clean; a detection in it still counts', async () => {
    const replies = ['stream: OK', 'stream: Eicar FOUND', ''];
    const results: ScanResult[] = [];
    for (const reply of replies) {
      const server = net.createServer((socket) => {
        socket.on('data', (data: Buffer) => {
          if (data.subarray(-4).equals(Buffer.alloc(4))) socket.end(reply);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as net.AddressInfo;
      const client = createClamdClient({ address: { host: '127.0.0.1', port } });
      results.push(await client.scan(Readable.from([Buffer.from('abc')])));
      await new Promise((resolve) => server.close(resolve));
    }
    expectError(results[0]!, 'CONNECTION_LOST', true);
    expect(results[1]).toEqual({ verdict: 'infected', signature: 'Eicar' });
    expectError(results[2]!, 'CONNECTION_LOST', true);
  });

  it('F5: clamd addresses come from tcp:// and unix:// URLs only', () => {
    expect(parseClamdAddress('tcp://127.0.0.1:3310')).toEqual({ host: '127.0.0.1', port: 3310 });
    expect(parseClamdAddress('tcp://[::1]:3310')).toEqual({ host: '::1', port: 3310 });
    expect(parseClamdAddress('unix:///run/clamav/clamd.ctl')).toEqual({
      socketPath: '/run/clamav/clamd.ctl',
    });
    for (const bad of ['http://clamd:3310', 'tcp://clamd', 'unix://host/x', 'clamd:3310']) {
      expect(() => parseClamdAddress(bad)).toThrow(/tcp:\/\/host:port/);
    }
  });
});
