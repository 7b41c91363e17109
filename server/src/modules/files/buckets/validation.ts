// What a bucket must look like before Haven reaches out to it (F1): S3's naming rules, a region,
// an https origin as the endpoint, and the SSE-KMS key id when SSE-KMS is chosen. Problems are
// field errors (400 VALIDATION_FAILED naming the field), written as sentences for people.
import { HavenError, type FieldError } from '../../../platform/errors.js';
import type { BucketLocation } from '../../../platform/storage/configured.js';
import type { ServerSideEncryption } from '../../../platform/storage/index.js';

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IPV4_FORM = /^\d{1,3}(\.\d{1,3}){3}$/;
/** AWS regions: `eu-central-1`, `us-gov-west-1`, `ap-southeast-2`, `cn-north-1`. */
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
/** Other S3-compatible services name regions freely (`auto`, `garage`, `fr-par`): short, plain. */
const CUSTOM_REGION = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** S3's rules for general-purpose bucket names; the reason as a sentence, or undefined. */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return 'A bucket name is 3 to 63 characters long.';
  if (!BUCKET_NAME.test(name)) {
    return 'A bucket name uses lowercase letters, digits, dots and hyphens, and starts and ends with a letter or digit.';
  }
  if (name.includes('..')) return 'A bucket name cannot contain two dots in a row.';
  if (IPV4_FORM.test(name)) return 'A bucket name cannot look like an IP address.';
  if (name.startsWith('xn--') || name.startsWith('sthree-')) {
    return 'A bucket name cannot start with "xn--" or "sthree-".';
  }
  if (name.endsWith('-s3alias') || name.endsWith('--ol-s3')) {
    return 'A bucket name cannot end with "-s3alias" or "--ol-s3".';
  }
  return undefined;
}

function isAwsHost(host: string): boolean {
  return host === 'amazonaws.com' || host.endsWith('.amazonaws.com');
}

/** AWS endpoints take AWS region names only; other endpoints a short free-form region. */
export function regionProblem(
  region: string,
  endpointHost: string | undefined,
): string | undefined {
  if (AWS_REGION.test(region)) return undefined;
  if (endpointHost !== undefined && !isAwsHost(endpointHost) && CUSTOM_REGION.test(region)) {
    return undefined;
  }
  return 'A region looks like "eu-central-1" (other S3 services: up to 32 lowercase letters, digits and hyphens).';
}

/**
 * A host name as DNS and a CSP host-source spell it: dot-separated labels of letters, digits and
 * hyphens (an IPv4 address is one too; internationalized names arrive here as xn-- labels). The
 * WHATWG parser accepts more in a host (`;`, `,`, `'`, `"`, `*`), and the endpoint's origin is
 * written into the upload relay's Content-Security-Policy, where a `;` would end a directive.
 */
const HOST_NAME =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** An IPv6 literal as the URL parser writes it (it has checked the address itself). */
const IPV6_LITERAL = /^\[[0-9a-f:.]+\]$/;

/** The endpoint as an origin (`https://host[:port]`), or the reason it is not one. */
export function parseEndpoint(endpoint: string): { origin: string; host: string } | string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'The endpoint is a URL such as https://s3.eu-central-1.amazonaws.com.';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return 'The endpoint starts with https://.';
  }
  if (url.username || url.password) {
    return 'The endpoint cannot carry credentials; give them in their own fields.';
  }
  if (!HOST_NAME.test(url.hostname) && !IPV6_LITERAL.test(url.hostname)) {
    return 'The endpoint host is a DNS name (letters, digits, hyphens and dots) or an IP address.';
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    return 'The endpoint is only the scheme, host and port, with no path or query.';
  }
  return { origin: url.origin, host: url.hostname.toLowerCase() };
}

export interface BucketSettings {
  readonly name: string;
  readonly endpoint: string;
  readonly region: string;
  readonly pathStyle: boolean;
  readonly sseMode: 'none' | 'AES256' | 'aws:kms';
  readonly kmsKeyId: string | null;
}

export function validateBucket(settings: BucketSettings): {
  location: BucketLocation;
  errors: FieldError[];
} {
  const errors: FieldError[] = [];
  const nameProblem = bucketNameProblem(settings.name);
  if (nameProblem) errors.push({ field: 'name', message: nameProblem });
  const endpoint = parseEndpoint(settings.endpoint);
  if (typeof endpoint === 'string') errors.push({ field: 'endpoint', message: endpoint });
  const host = typeof endpoint === 'string' ? undefined : endpoint.host;
  const regionIssue = regionProblem(settings.region, host);
  if (regionIssue) errors.push({ field: 'region', message: regionIssue });
  const kms = settings.kmsKeyId?.trim() ?? '';
  if (settings.sseMode === 'aws:kms' && !kms) {
    errors.push({ field: 'kmsKeyId', message: 'SSE-KMS needs the KMS key id to encrypt with.' });
  }
  if (settings.sseMode !== 'aws:kms' && kms) {
    errors.push({
      field: 'kmsKeyId',
      message: 'A KMS key id is only used with SSE-KMS (aws:kms).',
    });
  }
  const serverSideEncryption: ServerSideEncryption =
    settings.sseMode === 'aws:kms'
      ? { mode: 'aws:kms', kmsKeyId: kms }
      : { mode: settings.sseMode };
  return {
    location: {
      endpoint: typeof endpoint === 'string' ? settings.endpoint : endpoint.origin,
      region: settings.region,
      bucketName: settings.name,
      pathStyle: settings.pathStyle,
      serverSideEncryption,
    },
    errors,
  };
}

export function refuseFields(errors: readonly FieldError[]): never {
  const first = errors[0]!;
  throw new HavenError('VALIDATION_FAILED', `${first.field}: ${first.message}`, { errors });
}
