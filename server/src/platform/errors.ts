// The one catalog of error codes. Every error that leaves the server is one of these,
// rendered as RFC 9457 application/problem+json with the request id (V4).

export const ERROR_CATALOG = {
  BAD_REQUEST: { status: 400, title: 'The request is malformed.' },
  VALIDATION_FAILED: { status: 400, title: 'The request does not match the schema.' },
  PASSWORD_REJECTED: { status: 400, title: 'The password does not meet the policy.' },
  INVALID_JSON: { status: 400, title: 'The body is not valid JSON.' },
  INVALID_UTF8: { status: 400, title: 'The body is not valid UTF-8.' },
  JSON_TOO_DEEP: { status: 400, title: 'The JSON body is nested too deeply.' },
  PATH_INVALID: { status: 400, title: 'The request path is not allowed.' },
  INVALID_REQUEST_ID: { status: 400, title: 'The X-Request-Id header is malformed.' },
  UNAUTHENTICATED: { status: 401, title: 'Authentication is required.' },
  INVALID_CREDENTIALS: { status: 401, title: 'The email or password is incorrect.' },
  MFA_INVALID: { status: 401, title: 'The verification code is incorrect.' },
  MFA_PENDING_EXPIRED: { status: 401, title: 'The sign-in attempt expired; sign in again.' },
  SESSION_EXPIRED: { status: 401, title: 'The session has ended; sign in again.' },
  CSRF_FAILED: { status: 403, title: 'The request failed the cross-site request forgery check.' },
  FORBIDDEN: { status: 403, title: 'You are not allowed to do this.' },
  STEP_UP_REQUIRED: { status: 403, title: 'A fresh MFA check is required.' },
  CORS_REJECTED: { status: 403, title: 'The cross-origin request is not allowed.' },
  HTTPS_REQUIRED: { status: 403, title: 'HTTPS is required.' },
  NOT_FOUND: { status: 404, title: 'Not found.' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'The method is not allowed on this resource.' },
  NOT_ACCEPTABLE: { status: 406, title: 'No acceptable representation.' },
  REQUEST_TIMEOUT: { status: 408, title: 'The request took too long.' },
  BREAK_GLASS_INACTIVE: { status: 403, title: 'The break-glass grant has expired or was revoked.' },
  CONFLICT: { status: 409, title: 'The request conflicts with the current state.' },
  NO_ACTIVE_ORGANIZATION: { status: 409, title: 'Choose an organization to work in first.' },
  CONSENT_REQUIRED: { status: 409, title: 'The patient has not given a required consent.' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'The body is too large.' },
  FILE_TOO_LARGE: { status: 413, title: 'The file is larger than uploads may be.' },
  QUOTA_EXCEEDED: { status: 413, title: 'The upload would go over a storage quota.' },
  UPLOAD_EXPIRED: { status: 410, title: 'The upload expired; start it again.' },
  UPLOAD_OFFSET_MISMATCH: { status: 409, title: 'The upload offset does not match.' },
  UPLOAD_BUSY: { status: 423, title: 'Another request is writing this upload.' },
  TUS_VERSION_UNSUPPORTED: { status: 412, title: 'Only tus 1.0.0 is supported.' },
  CHECKSUM_MISMATCH: { status: 460, title: 'The checksum does not match the bytes sent.' },
  RANGE_NOT_SATISFIABLE: { status: 416, title: 'The range is outside the file.' },
  FILE_NOT_READY: { status: 409, title: 'The file cannot be downloaded in its current state.' },
  BUCKET_READ_ONLY: { status: 403, title: 'The system default bucket cannot be changed.' },
  BUCKET_NOT_EMPTY: { status: 409, title: 'The bucket still holds files or open uploads.' },
  BUCKET_INACTIVE: { status: 409, title: 'The bucket is no longer in use.' },
  BUCKET_ENDPOINT_FORBIDDEN: { status: 400, title: 'The bucket endpoint is not allowed.' },
  BUCKET_UNREACHABLE: { status: 422, title: 'The bucket could not be reached.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'The content type is not supported.' },
  RATE_LIMITED: { status: 429, title: 'Too many requests.' },
  LOGIN_BACKOFF: { status: 429, title: 'Too many failed sign-ins; wait before trying again.' },
  HEADERS_TOO_LARGE: { status: 431, title: 'The request headers are too large.' },
  INTERNAL_ERROR: { status: 500, title: 'An internal error occurred.' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'The service is not ready.' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** An error safe to show the caller: its code, and a detail written for them. */
export class HavenError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    readonly extra: {
      readonly errors?: readonly FieldError[];
      readonly headers?: Record<string, string>;
    } = {},
  ) {
    super(detail ?? ERROR_CATALOG[code].title);
    this.name = 'HavenError';
    this.statusCode = ERROR_CATALOG[code].status;
  }
}

export interface FieldError {
  readonly field: string;
  /** A sentence a person can act on; clients may also write their own from `code`. */
  readonly message: string;
  /**
   * What the schema check refused, for clients that word it themselves: `required`,
   * `unknown_property`, `format` (with `format`), `too_short` / `too_long` / `too_small` /
   * `too_large` / `too_few` / `too_many` (with `limit`), `pattern`, `choice`, `type` (with
   * `expected`), `invalid`. Handler checks name only field and message.
   */
  readonly code?: string;
  readonly limit?: number;
  readonly format?: string;
  readonly expected?: string;
}

/** The RFC 9457 body every error is rendered as. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  requestId: string;
  detail?: string;
  errors?: readonly FieldError[];
}

export function problemType(code: ErrorCode): string {
  return `https://haven.invalid/problems/${code.toLowerCase().replaceAll('_', '-')}`;
}

export function toProblem(error: HavenError, requestId: string): Problem {
  const entry = ERROR_CATALOG[error.code];
  const problem: Problem = {
    type: problemType(error.code),
    title: entry.title,
    status: entry.status,
    code: error.code,
    requestId,
  };
  if (error.detail !== undefined) problem.detail = error.detail.slice(0, 2000);
  if (error.extra.errors && error.extra.errors.length > 0) {
    problem.errors = error.extra.errors.slice(0, 50);
  }
  return problem;
}
