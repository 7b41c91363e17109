/**
 * Files a researcher uploads (case sets, assignment sheets) and the server's error report on
 * them, turned into sentences a researcher can act on: "Line 12: …" for CSV, "Case 3 (A-17),
 * Vital signs › Heart rate: …" for JSON, with the labels read from the file that was sent.
 */
import { sessionStore } from '../../auth/sessionStore';
import { ApiError, RawBody, isRecord, type Decoder } from '../../shared/api';

/** The largest file the browser reads before sending (the server allows 32 MB of CSV). */
export const MAX_UPLOAD_BYTES = 32 * 1024 * 1024;

export async function readTextFile(file: File): Promise<string> {
  if (file.size > MAX_UPLOAD_BYTES) {
    throw new Error(`The file is larger than ${MAX_UPLOAD_BYTES / 1024 / 1024} MB.`);
  }
  return file.text();
}

/**
 * POSTs a CSV file as `text/csv` through the session client, like every other call: CSRF
 * header, one refresh on 401, one step-up on 403 STEP_UP_REQUIRED.
 */
export function postCsv<T>(path: string, csv: string, decode: Decoder<T>): Promise<T> {
  return sessionStore.api('POST', path, decode, new RawBody('text/csv', csv));
}

/** The `errors: [{ field, message }]` of a refused upload, in the server's order. */
export function uploadErrors(err: unknown): Array<{ field: string; message: string }> {
  if (!(err instanceof ApiError)) return [];
  const list = err.extensions['errors'];
  if (!Array.isArray(list)) return [];
  const out: Array<{ field: string; message: string }> = [];
  for (const item of list) {
    if (!isRecord(item)) continue;
    const field = typeof item['field'] === 'string' ? item['field'] : '';
    const message = typeof item['message'] === 'string' ? item['message'] : '';
    if (message) out.push({ field, message });
  }
  return out;
}

function sentence(text: string): string {
  const trimmed = text.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** `body.cases.3.tree.0` or `/body/cases/3/tree/0` → ['cases', '3', 'tree', '0']. */
function segments(field: string): string[] {
  const parts = field.split(/[./]/).filter(Boolean);
  return parts[0] === 'body' ? parts.slice(1) : parts;
}

const MEMBER_NAMES: Record<string, string> = {
  externalId: 'case id',
  aiScore: 'AI score',
  aiExplanation: 'AI explanation',
  value: 'value',
  unit: 'unit',
  key: 'key',
  label: 'label',
};

/**
 * A JSON path of a case upload in words, the labels taken from the uploaded cases:
 * `cases.2.tree.0.children.1.value` → "Case 3 (A-17), Vital signs › Heart rate".
 */
export function describeCasePath(field: string, upload: unknown): string {
  const parts = segments(field);
  if (parts[0] !== 'cases' || parts[1] === undefined || !/^\d+$/.test(parts[1])) {
    return parts.join(' › ') || 'The file';
  }
  const index = Number(parts[1]);
  const cases = isRecord(upload) && Array.isArray(upload['cases']) ? upload['cases'] : [];
  const theCase: unknown = cases[index];
  const externalId =
    isRecord(theCase) && typeof theCase['externalId'] === 'string' ? theCase['externalId'] : null;
  const head = `Case ${index + 1}${externalId ? ` (${externalId})` : ''}`;
  const labels: string[] = [];
  let nodes: unknown = isRecord(theCase) ? theCase['tree'] : undefined;
  let member: string | null = null;
  let i = 2;
  if (parts[i] === 'tree') {
    i += 1;
    while (i < parts.length) {
      const part = parts[i] ?? '';
      if (/^\d+$/.test(part) && Array.isArray(nodes)) {
        const node: unknown = nodes[Number(part)];
        labels.push(
          isRecord(node) && typeof node['label'] === 'string'
            ? node['label']
            : `item ${Number(part) + 1}`,
        );
        nodes = isRecord(node) ? node['children'] : undefined;
      } else if (part !== 'children') {
        member = part;
      }
      i += 1;
    }
  } else if (parts[i]) {
    member = parts[i] ?? null;
  }
  const where = labels.length > 0 ? `${head}, ${labels.join(' › ')}` : head;
  const named = member && member !== 'value' ? ` (${MEMBER_NAMES[member] ?? member})` : '';
  return `${where}${named}`;
}

/** One line of an upload's error report, e.g. "Line 12: the case id is missing." */
export function describeUploadError(
  error: { field: string; message: string },
  upload: unknown,
): string {
  const line = /^line\s+(\d+)(?::\s*(.*))?$/i.exec(error.field.trim());
  if (line) {
    const column = line[2] ? ` (${line[2]})` : '';
    return `Line ${line[1]}${column}: ${sentence(error.message)}`;
  }
  if (!error.field) return sentence(error.message);
  return `${describeCasePath(error.field, upload)}: ${sentence(error.message)}`;
}
