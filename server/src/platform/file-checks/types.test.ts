import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { checkFileName } from './names.js';
import { checkContent, CONTENT_PREFIX_BYTES, type FileTypeId } from './types.js';

const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

/** A Part 10 DICOM start: 128-byte preamble, DICM, a (0002,0010) transfer syntax element. */
function dicom(preamble = Buffer.alloc(128)): Buffer {
  const uid = Buffer.from('1.2.840.10008.1.2.1\0');
  const element = Buffer.alloc(8);
  element.writeUInt16LE(0x0002, 0);
  element.writeUInt16LE(0x0010, 2);
  element.write('UI', 4, 'latin1');
  element.writeUInt16LE(uid.length, 6);
  return Buffer.concat([preamble, Buffer.from('DICM'), element, uid, Buffer.alloc(512, 7)]);
}

/** A NIfTI-1 single-file header (348 bytes, "n+1\0"), the 4-byte extender, then voxels. */
function nifti1(byteOrder: 'LE' | 'BE' = 'LE'): Buffer {
  const header = Buffer.alloc(352);
  if (byteOrder === 'LE') header.writeInt32LE(348, 0);
  else header.writeInt32BE(348, 0);
  header.write('n+1\0', 344, 'latin1');
  return Buffer.concat([header, Buffer.alloc(4096, 1)]);
}

/** A NIfTI-2 header (540 bytes, "n+2\0\r\n\x1a\n" at offset 4). */
function nifti2(): Buffer {
  const header = Buffer.alloc(544);
  header.writeInt32LE(540, 0);
  header.write('n+2\0\r\n\x1a\n', 4, 'latin1');
  return Buffer.concat([header, Buffer.alloc(1024, 2)]);
}

async function zip(entries: Record<string, string>): Promise<Buffer> {
  const archive = new yazl.ZipFile();
  for (const [name, text] of Object.entries(entries)) archive.addBuffer(Buffer.from(text), name);
  archive.end();
  const chunks: Buffer[] = [];
  for await (const chunk of archive.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const PDF = Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n');
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
const JPEG = Buffer.concat([
  Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]),
  Buffer.from('JFIF\0'),
  Buffer.alloc(64),
]);
/** A 64-bit little-endian ELF header start. */
const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(120)]);
/** MZ, the DOS stub's e_lfanew → "PE\0\0" at 0x80. */
const EXE = (() => {
  const bytes = Buffer.alloc(512);
  bytes.write('MZ', 0, 'latin1');
  bytes.writeUInt32LE(0x80, 0x3c);
  bytes.write('PE\0\0', 0x80, 'latin1');
  return bytes;
})();

const expectMatch = async (declared: FileTypeId, bytes: Buffer) =>
  expect(await checkContent(declared, bytes)).toEqual({ result: 'match', type: declared });
const expectMismatch = async (declared: FileTypeId, bytes: Buffer, detected: string) =>
  expect(await checkContent(declared, bytes)).toEqual({ result: 'mismatch', declared, detected });

describe('stored content against the declared type', () => {
  it('F3: each accepted type matches its real bytes', async () => {
    await expectMatch('pdf', PDF);
    await expectMatch('png', PNG);
    await expectMatch('jpeg', JPEG);
    await expectMatch('zip', await zip({ 'series/IM0001.dcm': 'x', 'notes.txt': 'y' }));
    await expectMatch('dicom', dicom());
    await expectMatch('nifti', nifti1());
    await expectMatch('nifti', nifti1('BE'));
    await expectMatch('nifti', nifti2());
    await expectMatch('nifti-gz', gzipSync(nifti1()));
    await expectMatch('nifti-gz', gzipSync(nifti2()));
    await expectMatch('csv', Buffer.from('patient,value\nÄrger,1\n'));
    await expectMatch('text', Buffer.from('plain notes\n'));
    await expectMatch('csv', Buffer.alloc(0));
  });

  it('F3: a "PDF" that is an ELF program is a mismatch', async () => {
    await expectMismatch('pdf', ELF, 'elf');
  });

  it('F3: an EXE renamed .dcm is a mismatch, even with DICM at offset 128 (a PE/DICOM polyglot)', async () => {
    await expectMismatch('dicom', EXE, 'exe');
    const polyglot = dicom(EXE.subarray(0, 128));
    expect(polyglot.subarray(128, 132).toString()).toBe('DICM');
    await expectMismatch('dicom', polyglot, 'exe');
  });

  it('F3: an EICAR file renamed .dcm is a mismatch (it is text)', async () => {
    await expectMismatch('dicom', Buffer.from(EICAR), 'text');
  });

  it('F3: a ZIP renamed .pdf, and a PDF renamed .zip, are mismatches', async () => {
    await expectMismatch('pdf', await zip({ 'a.txt': 'a' }), 'zip');
    await expectMismatch('zip', PDF, 'pdf');
  });

  it('F3: images must be the image they claim', async () => {
    await expectMismatch('png', JPEG, 'jpg');
    await expectMismatch('jpeg', PNG, 'png');
    await expectMismatch('png', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'text');
    const svg = Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>');
    await expectMismatch('png', svg, 'xml');
  });

  it('F3: NIfTI needs its header size and magic; .nii.gz needs gzip with NIfTI inside', async () => {
    const wrongMagic = nifti1();
    wrongMagic.write('n+9\0', 344, 'latin1');
    await expectMismatch('nifti', wrongMagic, 'unknown');
    const wrongSize = nifti1();
    wrongSize.writeInt32LE(349, 0);
    await expectMismatch('nifti', wrongSize, 'unknown');
    await expectMismatch('nifti-gz', nifti1(), 'nifti');
    await expectMismatch('nifti-gz', gzipSync(Buffer.from('not an image')), 'gz');
    await expectMismatch('nifti', gzipSync(nifti1()), 'gz');
  });

  it('F3: .nii.gz is checked from a bounded prefix of a large compressed file', async () => {
    // 64 MiB of voxels: only the first CONTENT_PREFIX_BYTES of the gzip are read and inflated.
    const large = gzipSync(Buffer.concat([nifti1(), Buffer.alloc(64 * 1024 * 1024, 3)]));
    expect(large.length).toBeGreaterThan(CONTENT_PREFIX_BYTES);
    await expectMatch('nifti-gz', large.subarray(0, CONTENT_PREFIX_BYTES));
    await expectMatch('nifti-gz', large);
  });

  it('F3: text and CSV must be UTF-8 without NUL', async () => {
    await expectMismatch('csv', Buffer.from([0x61, 0x2c, 0x00, 0x62]), 'unknown');
    await expectMismatch('csv', Buffer.from([0x61, 0xc3, 0x28, 0x62]), 'unknown');
    // Text formats file-type names are fine in a .txt, not in a table.
    const xml = Buffer.from('<?xml version="1.0"?><report/>');
    await expectMatch('text', xml);
    await expectMismatch('csv', xml, 'xml');
    await expectMismatch('text', ELF, 'elf');
    await expectMismatch('csv', PDF, 'pdf');
    // UTF-16 text (Excel's "Unicode text") is refused: its NULs look like a binary file's.
    const utf16 = Buffer.from('\ufeffa,b\n', 'utf16le');
    expect(await checkContent('csv', utf16)).toMatchObject({ result: 'mismatch' });
    // A multi-byte character cut by the end of the prefix is still text.
    const cut = Buffer.concat([Buffer.alloc(CONTENT_PREFIX_BYTES - 1, 0x61), Buffer.from('€')]);
    await expectMatch('csv', cut.subarray(0, CONTENT_PREFIX_BYTES));
  });

  it('F3: an empty object is not any binary type', async () => {
    for (const declared of ['pdf', 'png', 'jpeg', 'zip', 'dicom', 'nifti', 'nifti-gz'] as const) {
      await expectMismatch(declared, Buffer.alloc(0), 'empty');
    }
  });

  it('F3: the type declared by the checked name drives the content check', async () => {
    const { type } = checkFileName('uploads/scan.PDF');
    await expectMismatch(type, ELF, 'elf');
    await expectMatch(type, PDF);
  });
});
