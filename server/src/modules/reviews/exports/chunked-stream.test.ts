// The export stream's chunking (service.ts ExportTextStream) with a fake source: every row once
// and in order across chunk boundaries (also when the rows fill the last chunk exactly), never
// more than one query ahead of the reader, and a failed query ends the download with an error
// instead of a hang or an unhandled rejection.
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import type { ExportRow } from './source-kit.js';
import { csvHeader } from './format.js';
import {
  ExportTextStream,
  formattedChunks,
  type ChunkFetcher,
  type RowFetcher,
} from './service.js';

const CHUNK = 3;

function rowsUpTo(total: number, padding = ''): ExportRow[] {
  return Array.from({ length: total }, (_, i) => {
    const cells: Record<string, string> = { seq: String(i + 1) };
    if (padding) cells.padding = padding;
    return { cursor: String(i + 1), cells };
  });
}

/** A source of `total` rows that records how many queries ran and how many ran at once. */
function fakeSource(total: number, failAfterCursor?: string, padding = '') {
  const all = rowsUpTo(total, padding);
  const stats = { queries: 0, inFlight: 0, maxInFlight: 0 };
  const fetch: RowFetcher = async (after) => {
    stats.queries += 1;
    stats.inFlight += 1;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    await new Promise((resolve) => setTimeout(resolve, 1));
    stats.inFlight -= 1;
    if (failAfterCursor !== undefined && after === failAfterCursor) {
      throw new Error('connection terminated');
    }
    const start = after === null ? 0 : Number(after);
    return all.slice(start, start + CHUNK);
  };
  return { fetch, stats };
}

async function readAll(stream: ExportTextStream): Promise<string> {
  let text = '';
  await pipeline(
    stream,
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        text += chunk.toString('utf8');
        done();
      },
    }),
  );
  return text;
}

describe('export stream chunking', () => {
  for (const total of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 2]) {
    it(`streams ${total} rows once each, in order, one query ahead at most`, async () => {
      const { fetch, stats } = fakeSource(total);
      const text = await readAll(
        new ExportTextStream(formattedChunks(fetch, 'ndjson', ['seq']), CHUNK, '', null),
      );
      const seqs = text
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => (JSON.parse(line) as { seq: string }).seq);
      expect(seqs).toEqual(rowsUpTo(total).map((row) => row.cursor));
      // Full chunks each start the next query; the first short (or empty) chunk ends it.
      expect(stats.queries).toBe(Math.floor(total / CHUNK) + 1);
      expect(stats.maxInFlight).toBe(1);
    });
  }

  it('starts after the given cursor and writes the CSV header once', async () => {
    const { fetch } = fakeSource(7);
    const text = await readAll(
      new ExportTextStream(formattedChunks(fetch, 'csv', ['seq']), CHUNK, csvHeader(['seq']), '2'),
    );
    expect(text.split('\r\n').filter(Boolean)).toEqual(['seq', '3', '4', '5', '6', '7']);
  });

  it('a query that fails while it runs ahead ends the download with its error', async () => {
    const { fetch } = fakeSource(10, '6');
    await expect(
      readAll(new ExportTextStream(formattedChunks(fetch, 'ndjson', ['seq']), CHUNK, '', null)),
    ).rejects.toThrow('connection terminated');
  });

  it('a reader that goes away while a query runs ahead leaves no unhandled rejection', async () => {
    // Rows larger than the stream's buffer: after the first chunk the stream waits for its
    // reader, who leaves instead, while the next chunk's query is already failing.
    const { fetch } = fakeSource(10, '3', 'x'.repeat(64 * 1024));
    const stream = new ExportTextStream(formattedChunks(fetch, 'ndjson', ['seq']), CHUNK, '', null);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await new Promise<void>((resolve) => stream.once('readable', () => resolve()));
      stream.destroy();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('export stream overlap', () => {
  it("sends a full chunk's next query before writing it, so the database works meanwhile", async () => {
    const events: string[] = [];
    const rows = rowsUpTo(7);
    const fetchChunk: ChunkFetcher = async (after) => {
      events.push(`query after ${after ?? 'start'}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
      const start = after === null ? 0 : Number(after);
      const chunk = rows.slice(start, start + CHUNK);
      return {
        rows: chunk.length,
        last: chunk.at(-1)?.cursor,
        write: () => {
          events.push(`write ${chunk.map((row) => row.cursor).join(' ')}`);
          return [chunk.map((row) => `${row.cursor}\n`).join('')];
        },
      };
    };
    const text = await readAll(new ExportTextStream(fetchChunk, CHUNK, '', null));
    expect(text).toBe('1\n2\n3\n4\n5\n6\n7\n');
    expect(events).toEqual([
      'query after start',
      'query after 3',
      'write 1 2 3',
      'query after 6',
      'write 4 5 6',
      'write 7',
    ]);
  });
});
