/**
 * Control F3, first half: a client-supplied file name, made safe to store, show and send back in
 * Content-Disposition, and its declared type from an allowlist of extensions. The name is only a
 * label (storage keys never derive from it), yet it reaches people's screens and disks: a path in
 * it, an invisible reordering character ("report‮fdp.exe" shows as "reportexe.pdf"), a Windows
 * device name or a second extension are each a way to make one file look like another.
 * Refusals carry a sentence for the uploader; nothing is silently repaired except the path,
 * which browsers and tus clients legitimately send.
 */
import { HavenError } from '../errors.js';
import { INVISIBLE } from '../text.js';
import { FILE_TYPES, type FileTypeId } from './types.js';

export type FileNameProblem =
  | 'EMPTY'
  | 'TOO_LONG'
  | 'CONTROL_CHARACTER'
  | 'BIDI_CONTROL'
  | 'INVISIBLE_CHARACTER'
  | 'RESERVED_CHARACTER'
  | 'DOTS'
  | 'TRAILING_DOT_OR_SPACE'
  | 'RESERVED_NAME'
  | 'HIDDEN_EXECUTABLE'
  | 'TYPE_NOT_ALLOWED';

/** A 400 VALIDATION_FAILED naming the field, with a reason code for the SPA and for tests. */
export class FileNameError extends HavenError {
  constructor(
    readonly problem: FileNameProblem,
    field: string,
    message: string,
  ) {
    super('VALIDATION_FAILED', `${field}: ${message}`, { errors: [{ field, message }] });
  }
}

export interface SafeFileName {
  /** NFC, without any path, checked. */
  readonly name: string;
  readonly type: FileTypeId;
  /** The matched extension, lower case, without the dot ("nii.gz"). */
  readonly extension: string;
}

/** NTFS and FAT limit a name to 255 units; 255 UTF-8 bytes fits every common file system. */
export const MAX_FILE_NAME_BYTES = 255;
/** Raw input cap, before the path is stripped: no client sends a longer name. */
const MAX_RAW_LENGTH = 1024;

/** C0, DEL and C1 controls (NUL included), lone surrogates, noncharacters, line separators. */
const CONTROL = /[\p{Cc}\p{Cs}\u2028\u2029\uFFFE\uFFFF]/u;
/** Embeddings, overrides, isolates and the three directional marks. */
const BIDI = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/u;
/** Forbidden in Windows names; ':' would also name an NTFS alternate data stream. */
const RESERVED_CHARACTER = /[<>:"|?*]/;
/** CON, PRN, AUX, NUL, COM0-9, LPT0-9 (and the superscript digits Windows also honours). */
const RESERVED_NAME = /^(con|prn|aux|nul|conin\$|conout\$|(com|lpt)[0-9\u00B9\u00B2\u00B3])$/;

/**
 * Types that run when opened (programs, scripts, installers, shortcuts, macro documents, pages
 * with script). Any of them before the real extension ("x.exe.pdf") is refused: some systems and
 * mail filters strip or mis-handle the last part, and people read the first.
 */
const EXECUTABLE_EXTENSIONS = new Set(
  (
    'exe com scr pif bat cmd msi msp mst dll cpl sys drv ocx vbs vbe js jse mjs cjs jar wsf wsh ws ' +
    'wsc hta ps1 psm1 psd1 ps1xml sh bash zsh csh ksh fish command tool app dmg pkg mpkg deb rpm ' +
    'apk ipa appx msix elf bin run so dylib out lnk url reg scf inf iso img vhd vhdx html htm ' +
    'xhtml shtml svg php phtml py pyc pyw pl rb cgi asp aspx jsp jspx docm dotm xlsm xltm xlam ' +
    'pptm potm ppsm sldm appimage gadget msc application jnlp action workflow chm mht mhtml ' +
    'desktop applescript scpt xll wasm'
  ).split(' '),
);

/** Allowed extensions, longest first so "nii.gz" is tried before "gz" would be. */
const ALLOWED = Object.entries(FILE_TYPES)
  .flatMap(([type, info]) =>
    info.extensions.map((extension) => ({ type: type as FileTypeId, extension })),
  )
  .sort((a, b) => b.extension.length - a.extension.length);

/** "allowed: .dcm, .dicom, .nii, …" for the refusal message. */
export const ALLOWED_EXTENSIONS_TEXT = ALLOWED.map((a) => `.${a.extension}`)
  .sort()
  .join(', ');

/** The last path segment: both separators count, whatever the server's own OS uses. */
const baseName = (name: string): string =>
  name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);

/**
 * Checks and normalizes a client-supplied file name. Throws FileNameError (400, field `field`)
 * with a message for the uploader; returns the name and its declared type.
 */
export function checkFileName(raw: string, field = 'name'): SafeFileName {
  const refuse = (problem: FileNameProblem, message: string): never => {
    throw new FileNameError(problem, field, message);
  };
  if (raw.length > MAX_RAW_LENGTH) {
    refuse('TOO_LONG', `must be at most ${MAX_FILE_NAME_BYTES} bytes long`);
  }
  // Checked before anything else reads the name: a NUL ends it early in C libraries.
  if (CONTROL.test(raw)) refuse('CONTROL_CHARACTER', 'must not contain control characters');
  if (BIDI.test(raw)) {
    refuse('BIDI_CONTROL', 'must not contain characters that change the text direction');
  }
  // Zero-width characters, soft hyphens and the like (platform/text.ts): "a.ex<SOFT HYPHEN>e.pdf"
  // reads as "a.exe.pdf" yet passes the hidden-executable check below, and "report<ZWSP>.pdf"
  // looks like another upload's "report.pdf".
  if (INVISIBLE.test(raw)) {
    refuse(
      'INVISIBLE_CHARACTER',
      'must not contain invisible characters (zero-width, soft hyphen)',
    );
  }
  const name = baseName(raw.normalize('NFC'));
  if (name.trim() === '') refuse('EMPTY', 'must not be empty');
  if (Buffer.byteLength(name, 'utf8') > MAX_FILE_NAME_BYTES) {
    refuse('TOO_LONG', `must be at most ${MAX_FILE_NAME_BYTES} bytes long`);
  }
  if (RESERVED_CHARACTER.test(name)) {
    refuse('RESERVED_CHARACTER', 'must not contain any of < > : " | ? *');
  }
  if (name.startsWith('.') || name.includes('..')) {
    refuse('DOTS', 'must not start with a dot or contain two dots in a row');
  }
  if (/[.\s]$/u.test(name)) refuse('TRAILING_DOT_OR_SPACE', 'must not end with a dot or a space');
  const lower = name.toLowerCase();
  const parts = lower.split('.');
  if (RESERVED_NAME.test(parts[0]!.trimEnd())) {
    refuse('RESERVED_NAME', 'must not be a name Windows reserves for devices (CON, NUL, COM1, …)');
  }
  const allowed = ALLOWED.find((a) => lower.endsWith(`.${a.extension}`));
  if (!allowed) return refuse('TYPE_NOT_ALLOWED', `must end in one of ${ALLOWED_EXTENSIONS_TEXT}`);
  const { type, extension } = allowed;
  const inner = parts.slice(1, parts.length - extension.split('.').length);
  if (inner.some((part) => EXECUTABLE_EXTENSIONS.has(part.trim()))) {
    refuse('HIDDEN_EXECUTABLE', 'must not carry a program or script extension before its own');
  }
  return { name, type, extension };
}
