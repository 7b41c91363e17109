// Security headers on every response (T2, T3): helmet for the standard set, plus
// Permissions-Policy and no-store caching for everything that is not a hashed asset.
//
// The set never varies between requests (no CSP nonces), so helmet is asked for it once, at
// start, and one hook copies the result onto every reply. (@fastify/helmet rebuilds helmet's
// middleware, CSP parsing included, on every request: about a tenth of an authenticated
// read's CPU time, issue 9.)
import Fastify, { type FastifyInstance } from 'fastify';
import helmet from '@fastify/helmet';

export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  // Only Haven's own documents, of which only an owned bucket's upload relay allows being framed
  // (modules/files/buckets/upload-relay.ts); every other answer says frame-ancestors 'none'.
  frameSrc: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  upgradeInsecureRequests: null,
} as const;

const PERMISSIONS_POLICY =
  'accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=(), interest-cohort=()';

const HSTS = { maxAge: 63_072_000, includeSubDomains: true, preload: false } as const;

/** The CSP above in helmet's serialization (kebab-case directives; null ones omitted). */
function serializeCsp(): string {
  return Object.entries(CONTENT_SECURITY_POLICY)
    .filter(([, values]) => values !== null)
    .map(([name, values]) => {
      const directive = name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
      return `${directive} ${(values as readonly string[]).join(' ')}`;
    })
    .join(';');
}

/**
 * The same header set for responses that bypass the hook pipeline (Fastify's framework
 * errors, such as a malformed percent-encoding, never reach helmet's onRequest hook).
 */
export const FALLBACK_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': serializeCsp(),
  'strict-transport-security': `max-age=${HSTS.maxAge}; includeSubDomains`,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'x-permitted-cross-domain-policies': 'none',
  'permissions-policy': PERMISSIONS_POLICY,
  'cache-control': 'no-store',
});

/** Paths of content-hashed SPA assets, which may be cached forever. */
const IMMUTABLE_ASSET = /^\/assets\/[A-Za-z0-9_.-]+-[A-Za-z0-9_-]{6,}\.(js|css|woff2|svg|png)$/;

/**
 * The CSP of the running server: CONTENT_SECURITY_POLICY, plus the one storage origin browsers
 * PUT upload parts to when storage takes them directly (platform/storage/upload-origin.ts).
 */
export function contentSecurityPolicy(storageOrigin: string | null) {
  const connectSrc: readonly string[] = CONTENT_SECURITY_POLICY.connectSrc;
  return {
    ...CONTENT_SECURITY_POLICY,
    connectSrc: storageOrigin === null ? [...connectSrc] : [...connectSrc, storageOrigin],
  };
}

const helmetOptions = (storageOrigin: string | null) =>
  ({
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: contentSecurityPolicy(storageOrigin) },
    strictTransportSecurity: { ...HSTS },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    crossOriginEmbedderPolicy: false,
    xPermittedCrossDomainPolicies: { permittedPolicies: 'none' },
  }) as const;

/** Headers Fastify and Node add on their own; whatever else a probe response has is helmet's. */
const NOT_FROM_HELMET = new Set([
  'content-type',
  'content-length',
  'date',
  'connection',
  'keep-alive',
  'transfer-encoding',
]);

/** The headers helmet sets with these options, read from one response of a throwaway app. */
async function helmetHeaders(storageOrigin: string | null): Promise<Record<string, string>> {
  const probe = Fastify({ logger: false });
  try {
    await probe.register(helmet, helmetOptions(storageOrigin));
    probe.get('/', async () => 'probe');
    const response = await probe.inject({ method: 'GET', url: '/' });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (!NOT_FROM_HELMET.has(name) && typeof value === 'string') headers[name] = value;
    }
    if (!headers['content-security-policy']) throw new Error('helmet set no security headers');
    return headers;
  } finally {
    await probe.close();
  }
}

/** `storageOrigin`: where browsers upload parts directly (S3 storage), or null (tus only). */
export async function installSecurityHeaders(
  app: FastifyInstance,
  storageOrigin: string | null = null,
): Promise<void> {
  const headers = Object.freeze({
    ...(await helmetHeaders(storageOrigin)),
    'permissions-policy': PERMISSIONS_POLICY,
  });
  // A callback hook: no promise per request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(headers);
    const url = request.url;
    const cacheable =
      url.startsWith('/assets/') && IMMUTABLE_ASSET.test(url.split('?', 1)[0] ?? '');
    reply.header('cache-control', cacheable ? 'public, max-age=31536000, immutable' : 'no-store');
    done();
  });
}
