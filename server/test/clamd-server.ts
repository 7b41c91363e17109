// A private, real clamd for tests (F5). No signature download is possible, so the harness writes
// its own database: the EICAR test string as a whole-file MD5 signature (.hdb) and as a body
// pattern at any offset (.ndb, which also finds EICAR inside a larger file). clamd listens on a
// free 127.0.0.1 port and on a Unix socket in a temporary folder, logs only there, and is ready
// once it answers PING. A missing clamd fails loudly: F5 is never tested against nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './faults/private-servers.js';

/** The EICAR anti-virus test file: harmless, and detected by every scanner that has its signature. */
export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
/** What clamd reports for it: the .ndb name, with the suffix clamd gives unofficial databases. */
export const EICAR_SIGNATURE = 'Haven.Test.EICAR.UNOFFICIAL';

const CLAMD = process.env.CLAMD_PATH ?? '/usr/sbin/clamd';

export interface ClamdServer {
  readonly host: string;
  readonly port: number;
  readonly socketPath: string;
  /** The clamd.conf StreamMaxLength in bytes. */
  readonly streamMaxBytes: number;
  /** SIGTERM, wait for the exit, remove the folder. */
  stop(): Promise<void>;
}

/** True once clamd answers `zPING\0` with PONG at the address (its TCP port or Unix socket). */
function answersPing(address: { port: number; host: string } | { path: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(address);
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('connect', () => socket.write('zPING\0'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\0')) done(reply.startsWith('PONG'));
    });
    socket.on('error', () => done(false));
    socket.on('end', () => done(false));
  });
}

async function writeDatabase(folder: string): Promise<void> {
  await mkdir(folder);
  const md5 = createHash('md5').update(EICAR).digest('hex');
  await writeFile(
    path.join(folder, 'haven-test.hdb'),
    `${md5}:${EICAR.length}:Haven.Test.EICAR.File\n`,
  );
  const hex = Buffer.from(EICAR).toString('hex');
  // name:target type (0 = any file):offset (* = anywhere):hex body
  await writeFile(path.join(folder, 'haven-test.ndb'), `Haven.Test.EICAR:0:*:${hex}\n`);
}

interface Limits {
  streamMaxBytes: number;
  maxFileBytes: number;
}

function clamdConf(dir: string, port: number, limits: Limits): string {
  return [
    `DatabaseDirectory ${path.join(dir, 'db')}`,
    `TemporaryDirectory ${dir}`,
    `LogFile ${path.join(dir, 'clamd.log')}`,
    `PidFile ${path.join(dir, 'clamd.pid')}`,
    `TCPSocket ${port}`,
    'TCPAddr 127.0.0.1',
    `LocalSocket ${path.join(dir, 'clamd.sock')}`,
    'LocalSocketMode 600',
    'Foreground yes',
    `StreamMaxLength ${limits.streamMaxBytes}`,
    // clamd skips what exceeds its scan limits and still says "OK" (MaxFileSize defaults to
    // 100M); AlertExceedsMax turns that into a Heuristics.Limits.Exceeded detection instead.
    `MaxFileSize ${limits.maxFileBytes}`,
    `MaxScanSize ${limits.maxFileBytes}`,
    'AlertExceedsMax yes',
    'MaxThreads 4',
    'SelfCheck 0',
    'ConcurrentDatabaseReload no',
    '',
  ].join('\n');
}

/** clamd took a port another process had taken since freePort() found it free. */
class PortTaken extends Error {}

/**
 * Ready once clamd answers on its own Unix socket (in its own folder, so it is this clamd) and its
 * TCP port. clamd opens the TCP port first, and when another process holds that port it only logs
 * the failure and serves the Unix socket: a PING on the port alone could reach another test
 * run's clamd, with other limits.
 */
async function waitUntilReady(child: ChildProcess, port: number, dir: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  const logFile = path.join(dir, 'clamd.log');
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    if (await answersPing({ path: path.join(dir, 'clamd.sock') })) {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      if (/TCP: Cannot bind/.test(log)) {
        child.kill('SIGKILL');
        throw new PortTaken(`port ${port} was taken before clamd could listen on it`);
      }
      if (await answersPing({ host: '127.0.0.1', port })) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const log = await readFile(logFile, 'utf8').catch(() => '(no log)');
  child.kill('SIGKILL');
  throw new Error(`clamd did not answer PING within ${timeoutMs} ms. Its log:\n${log}`);
}

/** Starts clamd with the test database; resolves once it answers PING. */
export async function startClamd(
  options: { streamMaxBytes?: number; maxFileBytes?: number; timeoutMs?: number } = {},
): Promise<ClamdServer> {
  if (!existsSync(CLAMD)) {
    throw new Error(
      `clamd not found at ${CLAMD}: install the Debian packages clamav and clamav-daemon ` +
        '(apt-get install clamav clamav-daemon) or set CLAMD_PATH. The F5 tests need a real scanner.',
    );
  }
  const streamMaxBytes = options.streamMaxBytes ?? 1024 * 1024;
  const maxFileBytes = options.maxFileBytes ?? streamMaxBytes;
  // A port can be taken between freePort() and clamd's bind (another test run): try anew.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOnFreePort(streamMaxBytes, maxFileBytes, options.timeoutMs ?? 60_000);
    } catch (error) {
      if (!(error instanceof PortTaken) || attempt === 3) throw error;
    }
  }
}

async function startOnFreePort(
  streamMaxBytes: number,
  maxFileBytes: number,
  timeoutMs: number,
): Promise<ClamdServer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'haven-clamd-'));
  await writeDatabase(path.join(dir, 'db'));
  const port = await freePort();
  const config = path.join(dir, 'clamd.conf');
  await writeFile(config, clamdConf(dir, port, { streamMaxBytes, maxFileBytes }));
  const child = spawn(CLAMD, [`--config-file=${config}`], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitUntilReady(child, port, dir, timeoutMs);
  } catch (error) {
    await exited;
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    host: '127.0.0.1',
    port,
    socketPath: path.join(dir, 'clamd.sock'),
    streamMaxBytes,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
