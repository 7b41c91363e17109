/**
 * Minimal JSON fetch wrapper for the Haven API (same origin, cookie session).
 * Errors are normalised to ApiError; RFC 9457 problem+json bodies are parsed when present.
 */

export type Decoder<T> = (body: unknown) => T;

const PROBLEM_MEMBERS = new Set([
  'type',
  'title',
  'status',
  'detail',
  'instance',
  'code',
  'requestId',
]);

export class ApiError extends Error {
  override readonly name = 'ApiError';
  /** HTTP status; 0 when no response was received. */
  readonly status: number;
  /** Machine-readable error code (problem `code`, else derived from `type`). */
  readonly code: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly requestId: string | undefined;
  /** Problem-document extension members not listed above (untrusted server data). */
  readonly extensions: Readonly<Record<string, unknown>>;

  constructor(init: {
    status: number;
    code: string;
    title: string;
    detail?: string | undefined;
    requestId?: string | undefined;
    extensions?: Record<string, unknown>;
  }) {
    super(init.detail ? `${init.title}: ${init.detail}` : init.title);
    this.status = init.status;
    this.code = init.code;
    this.title = init.title;
    this.detail = init.detail;
    this.requestId = init.requestId;
    this.extensions = init.extensions ?? {};
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** `https://…/problems/not-ready` → `not-ready`; `about:blank` → undefined. */
function codeFromType(type: string | undefined): string | undefined {
  if (!type || type === 'about:blank') return undefined;
  const last = type.split(/[/#:]/).filter(Boolean).pop();
  return last;
}

function isJson(contentType: string | null): boolean {
  return contentType !== null && /^application\/([\w.+-]+\+)?json\b/i.test(contentType);
}

async function errorFromResponse(res: Response): Promise<ApiError> {
  const headerRequestId = str(res.headers.get('x-request-id'));
  const fallbackTitle = res.statusText || `HTTP ${res.status}`;
  let body: unknown;
  if (isJson(res.headers.get('content-type'))) {
    body = await res.json().catch(() => undefined);
  }
  if (!isRecord(body)) {
    return new ApiError({
      status: res.status,
      code: 'http_error',
      title: fallbackTitle,
      requestId: headerRequestId,
    });
  }
  const extensions: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (!PROBLEM_MEMBERS.has(key)) extensions[key] = value;
  }
  return new ApiError({
    status: typeof body['status'] === 'number' ? body['status'] : res.status,
    code: str(body['code']) ?? codeFromType(str(body['type'])) ?? 'http_error',
    title: str(body['title']) ?? fallbackTitle,
    detail: str(body['detail']),
    requestId: str(body['requestId']) ?? str(body['request_id']) ?? headerRequestId,
    extensions,
  });
}

export interface RequestOptions {
  signal?: AbortSignal | undefined;
  cache?: RequestCache;
}

/** GET a JSON resource and validate it with `decode`. Throws ApiError (or AbortError if aborted). */
export async function getJson<T>(
  path: string,
  decode: Decoder<T>,
  options: RequestOptions = {},
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: 'GET',
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
      cache: options.cache ?? 'default',
      signal: options.signal ?? null,
    });
  } catch (err) {
    if (options.signal?.aborted) throw err;
    throw new ApiError({
      status: 0,
      code: 'network_error',
      title: 'Network error',
      detail: 'The server could not be reached.',
    });
  }
  if (!res.ok) throw await errorFromResponse(res);

  const requestId = str(res.headers.get('x-request-id'));
  const invalid = (detail: string): ApiError =>
    new ApiError({
      status: res.status,
      code: 'invalid_response',
      title: 'Invalid response',
      detail,
      requestId,
    });

  if (!isJson(res.headers.get('content-type'))) throw invalid('Expected a JSON response.');
  let body: unknown;
  try {
    body = await res.json();
  } catch (err) {
    if (options.signal?.aborted) throw err;
    throw invalid('The response was not valid JSON.');
  }
  try {
    return decode(body);
  } catch (err) {
    throw invalid(err instanceof Error ? err.message : 'Unexpected response shape.');
  }
}

export function isAbortError(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
}

/** One-line, user-facing description of an error, including the request id when known. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    const status = err.status > 0 ? ` (HTTP ${err.status})` : '';
    const detail = err.detail && err.detail !== err.title ? ` — ${err.detail}` : '';
    const requestId = err.requestId ? ` Request ID: ${err.requestId}` : '';
    return `${sentence(`${err.title}${status}${detail}`)}${requestId}`;
  }
  return 'Unexpected error.';
}

function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}
