import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HavenError } from '../errors.js';
import {
  checkFileName,
  FileNameError,
  MAX_FILE_NAME_BYTES,
  type FileNameProblem,
} from './names.js';

function refusal(raw: string): { problem: FileNameProblem; message: string } | undefined {
  try {
    checkFileName(raw);
    return undefined;
  } catch (error) {
    if (!(error instanceof FileNameError)) throw error;
    return { problem: error.problem, message: error.message };
  }
}

const BIDI_CONTROLS = [
  ...Array.from({ length: 5 }, (_, i) => String.fromCharCode(0x202a + i)),
  ...Array.from({ length: 4 }, (_, i) => String.fromCharCode(0x2066 + i)),
  '\u200e',
  '\u200f',
  '\u061c',
];

describe('file names', () => {
  it('F3: a plain name keeps its text and gets its type from the extension, case-insensitively', () => {
    expect(checkFileName('MRI brain 2024-03.DCM')).toEqual({
      name: 'MRI brain 2024-03.DCM',
      type: 'dicom',
      extension: 'dcm',
    });
    expect(checkFileName('Befund Müller.pdf').type).toBe('pdf');
    expect(checkFileName('t1.nii.gz')).toMatchObject({ type: 'nifti-gz', extension: 'nii.gz' });
    expect(checkFileName('t1.nii').type).toBe('nifti');
    expect(checkFileName('photo.JPEG').type).toBe('jpeg');
    expect(checkFileName('labs.v2.final.csv').type).toBe('csv');
    expect(checkFileName('レントゲン.png').name).toBe('レントゲン.png');
  });

  it('F3: the name is NFC-normalized', () => {
    const decomposed = 'Re\u0301sume\u0301.pdf';
    expect(checkFileName(decomposed).name).toBe('Résumé.pdf'.normalize('NFC'));
    expect(checkFileName(decomposed).name).not.toBe(decomposed);
  });

  it('F3: any path is stripped, with either separator', () => {
    expect(checkFileName('../../etc/passwd.txt').name).toBe('passwd.txt');
    expect(checkFileName('C:\\Users\\pat\\scan.dcm').name).toBe('scan.dcm');
    expect(checkFileName('..\\..\\x.pdf').name).toBe('x.pdf');
    expect(checkFileName('/abs/path/to/a.png').name).toBe('a.png');
    expect(refusal('folder/')?.problem).toBe('EMPTY');
    expect(refusal('a/..')?.problem).toBe('DOTS');
  });

  it('F3: NUL and other control characters are refused, wherever they are', () => {
    for (const raw of [
      'scan.pdf\0.exe',
      'scan\0.pdf',
      'a\nb.pdf',
      'a\rb.pdf',
      'a\u0085b.pdf',
      'a\u007fb.pdf',
      'a\u2028.pdf',
      'a\ud800.pdf',
      'dir\0/x.pdf',
    ]) {
      expect(refusal(raw)?.problem, JSON.stringify(raw)).toBe('CONTROL_CHARACTER');
    }
  });

  it('F3: bidirectional controls are refused (an RTL override makes "exe" read as "pdf")', () => {
    expect(refusal('report\u202Efdp.exe')).toEqual({
      problem: 'BIDI_CONTROL',
      message: 'name: must not contain characters that change the text direction',
    });
    for (const control of BIDI_CONTROLS) {
      expect(refusal(`scan${control}.pdf`)?.problem).toBe('BIDI_CONTROL');
    }
  });

  it('F3: empty names, dot names and ".." are refused', () => {
    for (const raw of ['', '   ', '.', '..', '...', '.pdf', '.hidden.pdf', 'a..pdf', 'x/../.pdf']) {
      expect(['EMPTY', 'DOTS']).toContain(refusal(raw)?.problem);
    }
  });

  it('F3: Windows device names are refused, with any extension and in any case', () => {
    for (const raw of [
      'CON.pdf',
      'con.txt',
      'Nul.dcm',
      'aux.csv',
      'COM1.png',
      'lpt9.jpg',
      'com\u00b9.pdf',
      'PRN .pdf',
      'conin$.txt',
    ]) {
      expect(refusal(raw)?.problem, raw).toBe('RESERVED_NAME');
    }
    expect(checkFileName('console.pdf').name).toBe('console.pdf');
    expect(checkFileName('com10.pdf').name).toBe('com10.pdf');
  });

  it('F3: names over 255 UTF-8 bytes are refused (a 10 KB name too)', () => {
    expect(refusal(`${'a'.repeat(10 * 1024)}.pdf`)?.problem).toBe('TOO_LONG');
    expect(checkFileName(`${'a'.repeat(MAX_FILE_NAME_BYTES - 4)}.pdf`).name).toHaveLength(255);
    expect(refusal(`${'a'.repeat(MAX_FILE_NAME_BYTES - 3)}.pdf`)?.problem).toBe('TOO_LONG');
    // 3 bytes each in UTF-8: 86 of them are 258 bytes, though only 90 characters.
    expect(refusal(`${'レ'.repeat(86)}.pdf`)?.problem).toBe('TOO_LONG');
  });

  it('F3: trailing dots and spaces are refused (Windows would drop them)', () => {
    for (const raw of ['scan.pdf.', 'scan.pdf ', 'scan.pdf\u00a0', 'scan.exe. ']) {
      expect(refusal(raw)?.problem, JSON.stringify(raw)).toBe('TRAILING_DOT_OR_SPACE');
    }
  });

  it('F3: characters Windows forbids (and NTFS streams) are refused', () => {
    for (const raw of [
      'report.pdf:evil.exe',
      'a<b.pdf',
      'a|b.pdf',
      'what?.pdf',
      'star*.pdf',
      '"q".pdf',
    ]) {
      expect(refusal(raw)?.problem, raw).toBe('RESERVED_CHARACTER');
    }
  });

  it('F3: only allowlisted extensions are accepted', () => {
    for (const raw of [
      'scan.pdf.exe',
      'setup.exe',
      'x.html',
      'x.svg',
      'brain.gz',
      'noextension',
      'pdf',
      'x.pdfx',
      'x.tar.gz',
    ]) {
      expect(refusal(raw)?.problem, raw).toBe('TYPE_NOT_ALLOWED');
    }
    expect(refusal('setup.exe')?.message).toMatch(/must end in one of .*\.dcm.*\.nii\.gz.*\.pdf/);
  });

  it('F3: a program or script extension hidden before the real one is refused', () => {
    for (const raw of [
      'x.exe.pdf',
      'invoice.PDF.js.pdf',
      'scan.bat.dcm',
      'a.sh.nii.gz',
      'x.exe .pdf',
      'page.html.png',
      'doc.docm.pdf',
    ]) {
      expect(refusal(raw)?.problem, raw).toBe('HIDDEN_EXECUTABLE');
    }
    expect(checkFileName('scan.v2.pdf').name).toBe('scan.v2.pdf');
    expect(checkFileName('brain.nii.gz').name).toBe('brain.nii.gz');
  });

  it('F3: a refusal is a 400 VALIDATION_FAILED naming the field', () => {
    try {
      checkFileName('x.exe', 'fileName');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(HavenError);
      expect(error).toMatchObject({
        code: 'VALIDATION_FAILED',
        statusCode: 400,
        extra: { errors: [{ field: 'fileName' }] },
      });
    }
  });

  const FRAGMENTS = [
    'scan',
    'a',
    'Ü',
    'e\u0301',
    'レ',
    ' ',
    '.',
    '..',
    '/',
    '\\',
    '\0',
    '\u202e',
    '\u2066',
    '\u200f',
    'exe',
    'pdf',
    'con',
    'nul',
    'com1',
    ':',
    'js',
    'nii',
    'gz',
    '\t',
    '\u00a0',
    '\ud800',
    '%2e%2e',
  ];
  const EXTENSIONS = ['.pdf', '.dcm', '.nii.gz', '.nii', '.csv', '.exe', '.txt', '', '.', '/'];
  const names = fc.oneof(
    fc
      .tuple(
        fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 12 }),
        fc.constantFrom(...EXTENSIONS),
      )
      .map(([parts, extension]) => parts.join('') + extension),
    fc.string({ unit: 'binary', maxLength: 40 }).map((s) => `${s}.pdf`),
    fc.string({ unit: 'grapheme', maxLength: 300 }).map((s) => `${s}.dcm`),
  );

  it('F3 (property): no accepted name holds a separator, NUL, control, bidi control or ".."', () => {
    let acceptedCount = 0;
    fc.assert(
      fc.property(names, (raw) => {
        let accepted;
        try {
          accepted = checkFileName(raw);
        } catch (error) {
          expect(error).toBeInstanceOf(FileNameError);
          return;
        }
        acceptedCount += 1;
        const { name } = accepted;
        expect(name).not.toMatch(/[/\\]/);
        expect(name).not.toMatch(/\p{Cc}/u);
        for (const control of BIDI_CONTROLS) expect(name).not.toContain(control);
        expect(name).not.toContain('..');
        expect(name).not.toMatch(/^\.|[.\s]$/u);
        expect(Buffer.byteLength(name)).toBeLessThanOrEqual(MAX_FILE_NAME_BYTES);
        expect(name.normalize('NFC')).toBe(name);
        expect(name.toLowerCase().endsWith(`.${accepted.extension}`)).toBe(true);
      }),
      { numRuns: 3000 },
    );
    // The generator must reach acceptance often enough for the property to say something.
    expect(acceptedCount).toBeGreaterThan(300);
  });

  it('F3 (property): checking an accepted name again changes nothing', () => {
    fc.assert(
      fc.property(names, (raw) => {
        let accepted;
        try {
          accepted = checkFileName(raw);
        } catch {
          return;
        }
        expect(checkFileName(accepted.name)).toEqual(accepted);
      }),
      { numRuns: 2000 },
    );
  });
});
