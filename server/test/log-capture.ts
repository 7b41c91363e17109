// A logger made by the platform's own createLogger (masking included) whose lines the test
// reads back, parsed.
import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { createLogger } from '../src/platform/logging.js';

export type LogLine = Record<string, unknown>;

/** Log lines written by the returned logger (at `level` and above), parsed, in order. */
export function captureLog(level = 'info'): { lines: LogLine[]; logger: Logger } {
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim()) lines.push(JSON.parse(line) as LogLine);
      }
      done();
    },
  });
  return { lines, logger: createLogger({ level, destination }) };
}
