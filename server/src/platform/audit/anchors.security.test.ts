// Threats to the anchors themselves (L3, issue 16): an anchors file others can read or write,
// an anchor lost in a crash, a symlink planted to redirect it, a log line masked beyond use,
// and a sealer that anchors too often or not at all.
import {
  chmodSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { jobHandlers } from '../../jobs/registry.js';
import { describeEachEngine, useTestDatabase } from '../../../test/databases.js';
import { testAuditSealing } from '../../../test/audit-chain.js';
import { createLogger } from '../logging.js';
import {
  auditAnchorsPath,
  fileAndLogAnchorSink,
  parseAnchorLine,
  readAuditAnchors,
  type AuditAnchor,
} from './anchors.js';
import { recordAudit } from './audit.js';
import { verifyAuditChain } from './verify.js';

function anchor(position: number, hash: string): AuditAnchor {
  return {
    position: String(position),
    seq: String(position + 10),
    hash,
    keyId: '0123456789ab',
    at: new Date(Date.UTC(2026, 0, 1, 0, position)).toISOString(),
  };
}

const HASHES = ['5f2b9a0c41d8e7f6', '0123456789012345', 'abcdefabcdef0123', '9999999999999999'].map(
  (part) => part.repeat(4),
);

describe('audit anchors file and log line', () => {
  let dir: string;
  let lines: string[];
  let log: pino.Logger;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'haven-anchors-'));
    lines = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    log = createLogger({ level: 'info', destination });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('L3/anchors: the anchors file is 0600 and every line is fsynced before publish returns, then parses back', async () => {
    const file = auditAnchorsPath(dir);
    const probe = await open(path.join(dir, 'probe'), 'w');
    const handle = Object.getPrototypeOf(probe) as { write: () => unknown; sync: () => unknown };
    await probe.close();
    const writes = vi.spyOn(handle, 'write');
    const syncs = vi.spyOn(handle, 'sync');
    const sink = fileAndLogAnchorSink({ file, log });
    const published = HASHES.map((hash, i) => anchor(i + 1, hash));

    for (const [i, next] of published.entries()) {
      if (i === 2) chmodSync(file, 0o644); // widened by someone in between
      const before = syncs.mock.calls.length;
      await sink.publish(next);
      // The handle that wrote the line was synced before publish returned.
      const writer = writes.mock.contexts.at(-1);
      expect(syncs.mock.contexts.slice(before)).toContain(writer);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    }
    expect(await readAuditAnchors(file)).toEqual({ anchors: published, malformedLines: [] });
    expect(readFileSync(file, 'utf8').split('\n')).toHaveLength(published.length + 1);
  });

  it('L3/anchors: the log line carries the same anchor, unmasked, and parses back', async () => {
    const sink = fileAndLogAnchorSink({ file: auditAnchorsPath(dir), log });
    const published = HASHES.map((hash, i) => anchor(i + 1, hash));
    for (const next of published) await sink.publish(next);
    const logged = lines.filter((line) => line.includes('"msg":"audit anchor"'));
    expect(logged).toHaveLength(published.length);
    expect(logged.map((line) => JSON.parse(line) as { level: string }).map((l) => l.level)).toEqual(
      published.map(() => 'info'),
    );
    expect(logged.map(parseAnchorLine)).toEqual(published);
  });

  it('L3/anchors: a symlink planted at the anchors path is not followed', async () => {
    const file = auditAnchorsPath(dir);
    const target = path.join(dir, 'elsewhere');
    writeFileSync(target, 'untouched\n');
    symlinkSync(target, file);
    const sink = fileAndLogAnchorSink({ file, log });
    await expect(sink.publish(anchor(1, HASHES[0] ?? ''))).rejects.toMatchObject({ code: 'ELOOP' });
    expect(readFileSync(target, 'utf8')).toBe('untouched\n');
  });

  it('L3/anchors: lines that are not anchors are counted, never taken for one', async () => {
    const file = auditAnchorsPath(dir);
    const good = anchor(2, HASHES[1] ?? '');
    writeFileSync(
      file,
      [
        JSON.stringify(anchor(1, HASHES[0] ?? '')).slice(0, 40), // torn by a crash
        JSON.stringify({ ...good, hash: 'x'.repeat(64) }),
        JSON.stringify({ ...good, position: '0' }),
        JSON.stringify({ ...good, keyId: 'not-a-key-id' }),
        JSON.stringify(good),
        '',
      ].join('\n'),
    );
    expect(await readAuditAnchors(file)).toEqual({ anchors: [good], malformedLines: [1, 2, 3, 4] });
  });
});

describeEachEngine('audit anchors from the sealer job', (engine) => {
  const database = useTestDatabase(engine, { each: true });

  it('L3/anchors: the sealer publishes at most one anchor a minute, and only when it sealed something new', async () => {
    const sealing = testAuditSealing();
    let clock = 0;
    const handler = jobHandlers({ ...sealing, now: () => clock })['audit.seal'];
    if (!handler) throw new Error('no audit.seal handler');
    const context = { jobId: 'j', attempt: 1, db: database.db, log: pino({ level: 'silent' }) };
    const sealedCount = async () =>
      Number(
        (
          await database.db
            .selectFrom('audit_seals')
            .select(database.db.fn.countAll<string>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    /** Runs the job at `at` until `count` events are sealed (another database's transaction can hold one run back). */
    const runUntilSealed = async (at: number, count: number) => {
      clock = at;
      for (let run = 0; run < 40 && (await sealedCount()) < count; run += 1) {
        await handler({}, context);
        if ((await sealedCount()) < count) await new Promise((r) => setTimeout(r, 250));
      }
      await handler({}, context);
      expect(await sealedCount()).toBe(count);
    };
    const positions = () => sealing.published.map((a) => a.position);

    await recordAudit(database.db, {
      actor: { type: 'system' },
      action: 'a.one',
      outcome: 'success',
    });
    await runUntilSealed(0, 1);
    expect(positions()).toEqual(['1']); // the first seal of a process is anchored at once
    await recordAudit(database.db, {
      actor: { type: 'system' },
      action: 'a.two',
      outcome: 'success',
    });
    await runUntilSealed(1_000, 2);
    clock = 59_999;
    await handler({}, context);
    expect(positions()).toEqual(['1']); // sealed, but within the minute
    clock = 60_000;
    await handler({}, context);
    expect(positions()).toEqual(['1', '2']); // a minute on, without new events: the pending seal
    clock = 600_000;
    await handler({}, context);
    expect(positions()).toEqual(['1', '2']); // nothing new sealed: nothing to anchor
    expect(sealing.published[1]?.at).toBe(new Date(60_000).toISOString());
    expect(
      await verifyAuditChain(database.db, {
        key: sealing.auditChainKey,
        anchors: sealing.published,
      }),
    ).toMatchObject({ ok: true, checked: 2, keyed: 2, anchors: { matched: 2 } });
  });
});
