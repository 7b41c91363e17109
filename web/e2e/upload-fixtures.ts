// What the upload suites share: PDFs of a given size, and a scratch folder for files Chromium
// reads from disk (a large buffer would cross the DevTools protocol instead).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/** A PDF of `size` bytes: a real header and trailer around padding. */
export function pdf(size: number): Buffer {
  const head = Buffer.from('%PDF-1.4\n%\xE2\xE3\xCF\xD3\n', 'latin1');
  const tail = Buffer.from('\n%%EOF\n', 'latin1');
  const body = Buffer.alloc(Math.max(0, size - head.length - tail.length), 0x20);
  return Buffer.concat([head, body, tail]);
}

/** Registers a scratch folder for the file (call at module level); writes files into it. */
export function useScratchFiles(prefix: string): (name: string, bytes: Buffer) => Promise<string> {
  let scratch = '';
  beforeAll(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), prefix));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });
  return async (name, bytes) => {
    const file = path.join(scratch, name);
    await writeFile(file, bytes);
    return file;
  };
}
