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
  /** Retry-After header (seconds), when the server sent one. */
  readonly retryAfter: string | undefined;

  constructor(init: {
    status: number;
    code: string;
    title: string;
    detail?: string | undefined;
    requestId?: string | undefined;
    extensions?: Record<string, unknown>;
    retryAfter?: string | undefined;
  }) {
    super(init.detail ? `${init.title}: ${init.detail}` : init.title);
    this.status = init.status;
    this.code = init.code;
    this.title = init.title;
    this.detail = init.detail;
    this.requestId = init.requestId;
    this.extensions = init.extensions ?? {};
    this.retryAfter = init.retryAfter;
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
  const retryAfter = str(res.headers.get('retry-after'));
  if (!isRecord(body)) {
    return new ApiError({
      status: res.status,
      code: 'http_error',
      title: fallbackTitle,
      requestId: headerRequestId,
      retryAfter,
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
    retryAfter,
  });
}

/** A body sent as it is (a CSV file as `text/csv`) instead of as JSON. */
export class RawBody {
  constructor(
    readonly contentType: string,
    readonly text: string,
  ) {}
}

export interface RequestOptions {
  signal?: AbortSignal | undefined;
  cache?: RequestCache;
}

export interface JsonRequest<T> extends RequestOptions {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  decode: Decoder<T>;
  /** JSON body (or a RawBody, sent as it is); omitted for GET/DELETE without a body. */
  body?: unknown;
  /** Sent as X-CSRF-Token on state-changing requests (A8). */
  csrfToken?: string | null | undefined;
}

/** Sends a JSON request and validates the answer with `decode`. Throws ApiError (or AbortError). */
export async function requestJson<T>(request: JsonRequest<T>): Promise<T> {
  const { method, path, decode, body, csrfToken, signal } = request;
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body instanceof RawBody) headers['Content-Type'] = body.contentType;
  else if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers,
      cache: request.cache ?? 'no-store',
      signal: signal ?? null,
      ...(body instanceof RawBody
        ? { body: body.text }
        : body !== undefined
          ? { body: JSON.stringify(body) }
          : {}),
    });
  } catch (err) {
    if (signal?.aborted) throw err;
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

  // 204 No Content (e.g. DELETE of a membership) has no body to decode.
  if (res.status === 204) return decode(null);
  if (!isJson(res.headers.get('content-type'))) throw invalid('Expected a JSON response.');
  let parsed: unknown;
  try {
    parsed = await res.json();
  } catch (err) {
    if (signal?.aborted) throw err;
    throw invalid('The response was not valid JSON.');
  }
  try {
    return decode(parsed);
  } catch (err) {
    throw invalid(err instanceof Error ? err.message : 'Unexpected response shape.');
  }
}

/** GET a JSON resource and validate it with `decode`. Throws ApiError (or AbortError if aborted). */
export function getJson<T>(
  path: string,
  decode: Decoder<T>,
  options: RequestOptions = {},
): Promise<T> {
  return requestJson({
    method: 'GET',
    path,
    decode,
    ...options,
    cache: options.cache ?? 'default',
  });
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

/** "30 seconds", "2 minutes": a Retry-After in seconds as people say it. */
function waitInWords(retryAfter: string | undefined): string {
  const seconds = retryAfter && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) : undefined;
  if (seconds === undefined) return 'in a minute';
  if (seconds <= 1) return 'in a second';
  if (seconds < 90) return `in ${seconds} seconds`;
  return `in ${Math.ceil(seconds / 60)} minutes`;
}

/** Answers that are no one's mistake to fix: a fault to report, with its request id. */
function isUnexpected(err: ApiError): boolean {
  return (
    err.code === 'INTERNAL_ERROR' ||
    err.code === 'invalid_response' ||
    (err.status >= 500 && err.status !== 502 && err.status !== 503 && err.status !== 504)
  );
}

/**
 * What a form shows for a failed request, in sentences (issue 14): field problems are shown
 * beside their fields and summed up here; a rate limit says once when to try again; the request
 * id comes only with an unexpected error, for a report.
 */
export function problemSummary(err: unknown): { message: string; requestId: string | undefined } {
  if (err instanceof ApiError) {
    if (err.status === 0) {
      return {
        message: 'Haven could not be reached. Check your connection and try again.',
        requestId: undefined,
      };
    }
    if (err.status === 429) {
      return {
        message: `Too many attempts in a short time. Try again ${waitInWords(err.retryAfter)}.`,
        requestId: undefined,
      };
    }
    if (err.status === 502 || err.status === 503 || err.status === 504) {
      return {
        message: `Haven is briefly unavailable. Try again ${waitInWords(err.retryAfter)}.`,
        requestId: undefined,
      };
    }
    if (isUnexpected(err)) {
      // "The details below" only when there are some: an answer from something in front of
      // Haven (a proxy's HTML error page) carries no request id.
      return {
        message: err.requestId
          ? 'Something went wrong on our side. Try again; if it keeps happening, tell your administrator and give them the details below.'
          : 'Something went wrong on our side. Try again; if it keeps happening, tell your administrator what you were doing and when.',
        requestId: err.requestId,
      };
    }
    const fields = Object.values(fieldErrorsOf(err));
    if (err.code === 'VALIDATION_FAILED' && fields.length > 0) {
      const first = fields[0]!;
      return {
        message:
          fields.length === 1
            ? `Please check what you entered: ${first}`
            : `Please check the ${fields.length} highlighted fields. ${first}`,
        requestId: undefined,
      };
    }
    return { message: sentence(err.detail ?? err.title), requestId: undefined };
  }
  if (err instanceof Error && err.name === 'StepUpCancelled') {
    return {
      message: 'Cancelled: this action needs a fresh authenticator code.',
      requestId: undefined,
    };
  }
  return { message: 'Something went wrong. Try again.', requestId: undefined };
}

/** Field errors of a problem document (`errors: [{ field, message }]`), by field name. */
export function fieldErrorsOf(err: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!(err instanceof ApiError)) return out;
  const list = err.extensions['errors'];
  if (!Array.isArray(list)) return out;
  for (const item of list) {
    if (!isRecord(item)) continue;
    const field = str(item['field']);
    const message = str(item['message']);
    if (field && message && !(field in out)) out[field] = message;
  }
  return out;
}

export function hasCode(err: unknown, ...codes: string[]): boolean {
  return err instanceof ApiError && codes.includes(err.code);
}
