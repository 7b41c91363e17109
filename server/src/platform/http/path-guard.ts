// Refuses request targets that try path tricks (dot segments, NUL, backslashes, control
// characters), raw or percent-encoded, before routing or file serving sees them.
import { HavenError } from '../errors.js';

const MAX_URL_LENGTH = 4096;
// Control characters (NUL included) and backslashes never belong in a request target.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const FORBIDDEN_RAW = /[\u0000-\u001f\u007f\\]/;
const DOT_SEGMENT = /(^|\/)\.\.?(\/|$)/;

export function assertSafeRequestTarget(rawUrl: string): void {
  if (rawUrl.length > MAX_URL_LENGTH) throw new HavenError('PATH_INVALID', 'The URL is too long.');
  const queryAt = rawUrl.indexOf('?');
  const rawPath = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    throw new HavenError('PATH_INVALID', 'The path has a malformed percent-encoding.');
  }
  if (FORBIDDEN_RAW.test(rawUrl) || FORBIDDEN_RAW.test(decoded) || /%00/i.test(rawUrl)) {
    throw new HavenError('PATH_INVALID', 'The URL contains forbidden characters.');
  }
  if (DOT_SEGMENT.test(rawPath) || DOT_SEGMENT.test(decoded)) {
    throw new HavenError('PATH_INVALID', 'The path contains dot segments.');
  }
}
