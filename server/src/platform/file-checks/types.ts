/**
 * Control F3, second half: the file types Haven accepts and the check of a STORED object's first
 * bytes against the type its name declared. The name says what the uploader claims; the bytes
 * say what the file is. They are checked after completion, on what storage actually holds, so a
 * client cannot pass the check with one body and store another; a mismatch is quarantined.
 *
 * file-type recognises PDF, PNG, JPEG, ZIP, gzip and (what matters for mismatches) executables;
 * DICOM, NIfTI and text are checked here, from their specifications.
 */
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { fileTypeFromBuffer } from 'file-type';

export interface FileTypeInfo {
  /** Extensions without the dot, lower case; the first is the canonical one. */
  readonly extensions: readonly string[];
  /** What Haven sends as Content-Type for it. */
  readonly mime: string;
  /** For people: "a DICOM image". */
  readonly label: string;
}

/** Every type Haven accepts: medical imaging, documents, images, archives, tables. */
export const FILE_TYPES = {
  dicom: { extensions: ['dcm', 'dicom'], mime: 'application/dicom', label: 'a DICOM image' },
  nifti: { extensions: ['nii'], mime: 'application/octet-stream', label: 'a NIfTI image' },
  'nifti-gz': {
    extensions: ['nii.gz'],
    mime: 'application/gzip',
    label: 'a compressed NIfTI image',
  },
  pdf: { extensions: ['pdf'], mime: 'application/pdf', label: 'a PDF document' },
  png: { extensions: ['png'], mime: 'image/png', label: 'a PNG image' },
  jpeg: { extensions: ['jpg', 'jpeg'], mime: 'image/jpeg', label: 'a JPEG image' },
  zip: { extensions: ['zip'], mime: 'application/zip', label: 'a ZIP archive' },
  csv: { extensions: ['csv'], mime: 'text/csv', label: 'a CSV table' },
  text: { extensions: ['txt'], mime: 'text/plain', label: 'a text file' },
} as const satisfies Record<string, FileTypeInfo>;

export type FileTypeId = keyof typeof FILE_TYPES;

/**
 * How many leading bytes of the stored object checkContent needs: file-type's own detection
 * window (4100) rounded up, which also covers the DICOM preamble, the NIfTI-1 and NIfTI-2
 * headers and a compressed NIfTI header at the start of a gzip stream.
 */
export const CONTENT_PREFIX_BYTES = 8192;

export type ContentCheck =
  | { readonly result: 'match'; readonly type: FileTypeId }
  | {
      readonly result: 'mismatch';
      readonly declared: FileTypeId;
      /** What the bytes look like: a file-type extension ('elf', 'exe', 'zip'), 'dicom', 'nifti',
       * 'text', 'empty' or 'unknown'. For audit and the owner's message. */
      readonly detected: string;
    };

/** file-type answers a type's bytes may give: Illustrator files are PDFs, APNGs are PNGs. */
const FILE_TYPE_ANSWERS: Partial<Record<FileTypeId, readonly string[]>> = {
  pdf: ['pdf', 'ai'],
  png: ['png', 'apng'],
  jpeg: ['jpg'],
  zip: ['zip'],
};

/** file-type answers that are plain text themselves, harmless in a .txt sent as text/plain. */
const TEXT_FORMATS = new Set(['xml', 'vtt', 'ics', 'vcf']);

/**
 * What may stand in a DICOM file's free 128-byte preamble: nothing file-type recognises, or a TIFF
 * header (dual-personality whole-slide images). Anything else, an MZ executable header above
 * all, is a polyglot (CVE-2019-11687: a DICOM file that is also a Windows program).
 */
const DICOM_PREAMBLE_ANSWERS = new Set([undefined, 'dcm', 'tif']);

const ascii = (bytes: Uint8Array, offset: number, text: string): boolean =>
  bytes.length >= offset + text.length &&
  Buffer.from(bytes.buffer, bytes.byteOffset + offset, text.length).toString('latin1') === text;

/** Part 10 file: 128-byte preamble, then "DICM". */
const isDicom = (bytes: Uint8Array): boolean => ascii(bytes, 128, 'DICM');

function headerSize(bytes: Uint8Array): number | undefined {
  if (bytes.length < 4) return undefined;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, 4);
  const little = view.readInt32LE(0);
  return little === 348 || little === 540 ? little : view.readInt32BE(0);
}

/**
 * NIfTI-1: sizeof_hdr 348 (either byte order) and "n+1\0" (one file) or "ni1\0" (header of a
 * pair) at offset 344. NIfTI-2: sizeof_hdr 540 and "n+2\0" or "ni2\0" then \r\n\x1a\n at offset 4.
 */
function isNifti(bytes: Uint8Array): boolean {
  const size = headerSize(bytes);
  if (size === 348) return ascii(bytes, 344, 'n+1\0') || ascii(bytes, 344, 'ni1\0');
  if (size === 540) {
    return (ascii(bytes, 4, 'n+2\0') || ascii(bytes, 4, 'ni2\0')) && ascii(bytes, 8, '\r\n\x1a\n');
  }
  return false;
}

/**
 * The start of a gzip stream's content, from a bounded compressed prefix: at most
 * CONTENT_PREFIX_BYTES in, and a hard cap on what comes out (deflate expands at most ~1032:1), so
 * a crafted prefix costs bounded memory. Truncated input is expected: the prefix is not the file.
 */
function gunzipPrefix(bytes: Uint8Array): Buffer | undefined {
  try {
    return gunzipSync(bytes.subarray(0, CONTENT_PREFIX_BYTES), {
      finishFlush: zlibConstants.Z_SYNC_FLUSH,
      maxOutputLength: 16 * 1024 * 1024,
    });
  } catch {
    return undefined;
  }
}

/**
 * Text: valid UTF-8 and no NUL in the prefix (a cut multi-byte character at its end is fine).
 * UTF-16 text fails here on purpose: its NULs are indistinguishable from a binary file's.
 */
function isText(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
    return true;
  } catch {
    return false;
  }
}

/** What the bytes are, for the mismatch report: file-type's answer first, then our own checks. */
function describe(bytes: Uint8Array, detectedExt: string | undefined): string {
  if (bytes.length === 0) return 'empty';
  if (detectedExt !== undefined) return detectedExt === 'dcm' ? 'dicom' : detectedExt;
  if (isNifti(bytes)) return 'nifti';
  if (isText(bytes)) return 'text';
  return 'unknown';
}

function matches(declared: FileTypeId, bytes: Uint8Array, detectedExt: string | undefined) {
  switch (declared) {
    case 'dicom':
      return isDicom(bytes) && DICOM_PREAMBLE_ANSWERS.has(detectedExt);
    case 'nifti':
      return detectedExt === undefined && isNifti(bytes);
    case 'nifti-gz': {
      if (detectedExt !== 'gz') return false;
      const inner = gunzipPrefix(bytes);
      return inner !== undefined && isNifti(inner);
    }
    case 'csv':
      // file-type recognises some text formats (XML, VTT, …); anything it names is not a table.
      return detectedExt === undefined && isText(bytes);
    case 'text':
      return (detectedExt === undefined || TEXT_FORMATS.has(detectedExt)) && isText(bytes);
    default:
      return detectedExt !== undefined && (FILE_TYPE_ANSWERS[declared] ?? []).includes(detectedExt);
  }
}

/**
 * Checks a stored object's first bytes (CONTENT_PREFIX_BYTES of them, or the whole object if
 * shorter) against the type its name declared.
 */
export async function checkContent(declared: FileTypeId, head: Uint8Array): Promise<ContentCheck> {
  const bytes = head.subarray(0, CONTENT_PREFIX_BYTES);
  const detectedExt = bytes.length > 0 ? (await fileTypeFromBuffer(bytes))?.ext : undefined;
  if (bytes.length > 0 && matches(declared, bytes, detectedExt)) {
    return { result: 'match', type: declared };
  }
  if (bytes.length === 0 && (declared === 'csv' || declared === 'text')) {
    return { result: 'match', type: declared };
  }
  return { result: 'mismatch', declared, detected: describe(bytes, detectedExt) };
}
