// The shape every other part of Haven reads: the frozen result of loadConfig.

export type RateClass = 'public' | 'auth' | 'refresh' | 'sensitive' | 'read' | 'write' | 'upload';
export const RATE_CLASSES: readonly RateClass[] = [
  'public',
  'auth',
  'refresh',
  'sensitive',
  'read',
  'write',
  'upload',
];

export interface RateLimitRule {
  readonly max: number;
  readonly windowMs: number;
}

export type Mode = 'development' | 'production' | 'test';

export interface HavenConfig {
  readonly env: Mode;
  readonly host: string;
  readonly port: number;
  /** Origin of the external URL (scheme://host[:port]); a string, so it cannot be mutated. */
  readonly publicOrigin: string;
  readonly dataDir: string;
  readonly webDir: string;
  readonly databaseUrl: string | undefined;
  readonly redisUrl: string | undefined;
  /** 32 bytes; wraps every data-encryption key. */
  readonly masterKey: Buffer;
  readonly masterKeySource: 'environment' | 'generated-dev-file';
  /** The master key being rotated away (S2): still opens and verifies, never seals. */
  readonly previousMasterKey: Buffer | undefined;
  readonly corsOrigins: readonly string[];
  readonly trustedProxies: readonly string[];
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  readonly cookieSecure: boolean;
  readonly logLevel: string;
  readonly limits: {
    readonly bodyBytes: number;
    readonly headerBytes: number;
    readonly requestTimeoutMs: number;
    /** How long `serve` drains its connections when told to stop (platform/http/draining.ts). */
    readonly shutdownDrainMs: number;
    readonly jsonMaxDepth: number;
  };
  readonly rateLimits: Readonly<Record<RateClass, RateLimitRule>>;
  readonly outboundAllowHosts: readonly string[];
  readonly identity: {
    readonly sessionIdleMs: number;
    readonly sessionAbsoluteMs: number;
    readonly argon2MemoryKib: number;
    readonly argon2TimeCost: number;
    readonly passwordMinLength: number;
    readonly selfSignup: boolean;
    readonly mfaRequiredRoles: readonly string[];
    /** HaveIBeenPwned range API base URL; undefined = offline list only. */
    readonly hibpBaseUrl: string | undefined;
  };
  readonly clinical: {
    /** How long a break-glass grant lets an admin read one patient's record (Z5). */
    readonly breakGlassMs: number;
  };
  readonly mail: {
    /** smtp:// or smtps:// URL; undefined = development mailbox in the data folder. */
    readonly smtpUrl: string | undefined;
    readonly from: string;
    /** HAVEN_TIME_ZONE: the IANA zone mail states times in. */
    readonly timeZone: string;
  };
  readonly jobs: { readonly embeddedWorker: boolean; readonly pollIntervalMs: number };
  /** The separate Prometheus listener (L4); undefined = none. */
  readonly metrics: { readonly host: string; readonly port: number } | undefined;
  /** OpenTelemetry traces (OTEL_EXPORTER_OTLP_ENDPOINT); undefined = none. */
  readonly tracing: { readonly endpoint: string; readonly serviceName: string } | undefined;
  readonly files: {
    /** clamd's address (`tcp://` or `unix://`); undefined = no scanner, nothing downloadable. */
    readonly clamdUrl: string | undefined;
    /** `s3+https://…` default storage; undefined = the embedded filesystem driver. */
    readonly storageUrl: string | undefined;
    readonly maxFileBytes: number;
    readonly userQuotaBytes: number;
    readonly storageQuotaBytes: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}
