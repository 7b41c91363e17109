// S1 / T1 / T5: configuration is parsed once, checked as a whole, frozen, and refuses
// insecure production settings. Pure: loadConfig only, no app.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, startupWarnings } from '../../src/config.js';
import {
  configProblems,
  productionEnv,
  strongKey,
  useScratchDir,
  type Env,
} from '../config-env.js';

const scratch = useScratchDir('haven-config-');
const problemsOf = (env: Env): readonly string[] => configProblems(env, scratch());

describe('production refuses insecure settings', () => {
  it('A9: MFA-required roles are configurable but always include admin', () => {
    expect(problemsOf(productionEnv({ HAVEN_MFA_REQUIRED_ROLES: 'clinician' })).join('\n')).toMatch(
      /HAVEN_MFA_REQUIRED_ROLES: must include admin/,
    );
    expect(
      problemsOf(productionEnv({ HAVEN_MFA_REQUIRED_ROLES: 'admin,root' })).join('\n'),
    ).toMatch(/unknown roles root/);
    const config = loadConfig(productionEnv({ HAVEN_MFA_REQUIRED_ROLES: 'admin,patient' }), {
      cwd: scratch(),
    });
    expect(config.identity.mfaRequiredRoles).toEqual(['admin', 'patient']);
  });

  it('A10: production without a mail relay is refused, and the HIBP host must be allowlisted (V5)', () => {
    expect(problemsOf(productionEnv({ HAVEN_SMTP_URL: undefined })).join('\n')).toMatch(
      /HAVEN_SMTP_URL: production needs/,
    );
    expect(
      problemsOf(productionEnv({ HAVEN_HIBP_URL: 'https://hibp.example' })).join('\n'),
    ).toMatch(/HAVEN_HIBP_URL: its host must be listed/);
  });

  it('S1/missing secret: no master key is refused, naming HAVEN_MASTER_KEY', () => {
    const problems = problemsOf(productionEnv({ HAVEN_MASTER_KEY: undefined }));
    expect(problems.some((p) => p.startsWith('HAVEN_MASTER_KEY') && /missing/.test(p))).toBe(true);
    // an empty value is the same as missing, not an empty key
    expect(problemsOf(productionEnv({ HAVEN_MASTER_KEY: '' })).join('\n')).toMatch(
      /HAVEN_MASTER_KEY: missing/,
    );
  });

  it('S1/default secret: the all-zero example key is refused, naming HAVEN_MASTER_KEY', () => {
    const zero = Buffer.alloc(32).toString('base64'); // 'AAAA…A='
    expect(problemsOf(productionEnv({ HAVEN_MASTER_KEY: zero })).join('\n')).toMatch(
      /HAVEN_MASTER_KEY: is a default or weak value/,
    );
  });

  it('S1/weak secret: a typed, low-entropy 32-byte key is refused', () => {
    const typed = Buffer.from('abcd'.repeat(8)).toString('base64'); // 32 bytes, 4 distinct
    expect(problemsOf(productionEnv({ HAVEN_MASTER_KEY: typed })).join('\n')).toMatch(
      /HAVEN_MASTER_KEY: is a default or weak value/,
    );
    expect(problemsOf(productionEnv({ HAVEN_MASTER_KEY: 'changeme' })).join('\n')).toMatch(
      /HAVEN_MASTER_KEY/,
    );
  });

  it('T5/credentialed wildcard: CORS "*" is refused, naming HAVEN_CORS_ORIGINS', () => {
    for (const origins of ['*', 'https://*.example', 'https://app.example,*']) {
      expect(problemsOf(productionEnv({ HAVEN_CORS_ORIGINS: origins })).join('\n')).toMatch(
        /HAVEN_CORS_ORIGINS: wildcards are not allowed/,
      );
    }
    expect(
      problemsOf(productionEnv({ HAVEN_CORS_ORIGINS: 'https://app.example/path' })).join('\n'),
    ).toMatch(/HAVEN_CORS_ORIGINS: .* is not a bare origin/);
  });

  it('T1/plain HTTP: no TLS files and no trusted proxy is refused, naming TLS', () => {
    const problems = problemsOf(productionEnv({ HAVEN_TRUSTED_PROXIES: undefined }));
    expect(problems.some((p) => p.startsWith('TLS:'))).toBe(true);
  });

  it('T1/half TLS: a cert without a key, or missing files, is refused', () => {
    const cert = path.join(scratch(), 'cert.pem');
    expect(problemsOf(productionEnv({ HAVEN_TLS_CERT_FILE: cert })).join('\n')).toMatch(
      /HAVEN_TLS_CERT_FILE and HAVEN_TLS_KEY_FILE must be set together/,
    );
    const env = productionEnv({
      HAVEN_TRUSTED_PROXIES: undefined,
      HAVEN_TLS_CERT_FILE: cert,
      HAVEN_TLS_KEY_FILE: path.join(scratch(), 'key.pem'),
    });
    expect(problemsOf(env).join('\n')).toMatch(/HAVEN_TLS_CERT_FILE: .* does not exist/);
  });

  it('T1/cookie theft over HTTP: HAVEN_COOKIE_SECURE=false is refused', () => {
    expect(problemsOf(productionEnv({ HAVEN_COOKIE_SECURE: 'false' })).join('\n')).toMatch(
      /HAVEN_COOKIE_SECURE: cookies must be Secure in production/,
    );
  });

  it('T1/plain public URL: an http:// HAVEN_PUBLIC_URL is refused', () => {
    expect(
      problemsOf(productionEnv({ HAVEN_PUBLIC_URL: 'http://haven.example' })).join('\n'),
    ).toMatch(/HAVEN_PUBLIC_URL: must be an https:\/\/ URL/);
  });

  it('S1/partial fix loops: every problem is listed in ONE error', () => {
    const problems = problemsOf(
      productionEnv({
        HAVEN_MASTER_KEY: undefined,
        HAVEN_CORS_ORIGINS: '*',
        HAVEN_TRUSTED_PROXIES: undefined,
        HAVEN_COOKIE_SECURE: 'false',
        REDIS_URL: undefined,
        PORT: 'eighty',
      }),
    );
    for (const name of [
      'HAVEN_MASTER_KEY',
      'HAVEN_CORS_ORIGINS',
      'TLS',
      'HAVEN_COOKIE_SECURE',
      'REDIS_URL',
      'PORT',
    ]) {
      expect(
        problems.some((p) => p.startsWith(name)),
        name,
      ).toBe(true);
    }
  });
});

describe('secrets from files and malformed values', () => {
  it('S1/container secrets: HAVEN_MASTER_KEY_FILE supplies the key', () => {
    const key = strongKey();
    const file = path.join(scratch(), 'master.key');
    writeFileSync(file, `${key}\n`);
    const config = loadConfig(
      productionEnv({ HAVEN_MASTER_KEY: undefined, HAVEN_MASTER_KEY_FILE: file }),
      {
        cwd: scratch(),
      },
    );
    expect(config.masterKey.equals(Buffer.from(key, 'base64'))).toBe(true);
    expect(config.masterKeySource).toBe('environment');
  });

  it('S1/ambiguous secret: setting both HAVEN_MASTER_KEY and _FILE is an error', () => {
    const file = path.join(scratch(), 'master.key');
    writeFileSync(file, strongKey());
    expect(problemsOf(productionEnv({ HAVEN_MASTER_KEY_FILE: file })).join('\n')).toMatch(
      /HAVEN_MASTER_KEY and HAVEN_MASTER_KEY_FILE are both set/,
    );
    expect(
      problemsOf(
        productionEnv({
          HAVEN_MASTER_KEY: undefined,
          HAVEN_MASTER_KEY_FILE: path.join(scratch(), 'nope'),
        }),
      ).join('\n'),
    ).toMatch(/HAVEN_MASTER_KEY_FILE: cannot read/);
  });

  it('S1/fail closed: malformed PORT, rate spec and proxy CIDR are reported', () => {
    const problems = problemsOf({
      HAVEN_ENV: 'test',
      HAVEN_MASTER_KEY: strongKey(),
      PORT: '80x',
      HAVEN_RATE_AUTH: 'ten per minute',
      HAVEN_RATE_UPLOAD: '0/60',
      HAVEN_TRUSTED_PROXIES: '10.0.0.0/99,not-an-ip',
    }).join('\n');
    expect(problems).toMatch(/PORT: expected an integer, got "80x"/);
    expect(problems).toMatch(/HAVEN_RATE_AUTH: expected "max\/windowSeconds"/);
    expect(problems).toMatch(/HAVEN_RATE_UPLOAD: expected "max\/windowSeconds"/);
    expect(problems).toMatch(
      /HAVEN_TRUSTED_PROXIES: "10\.0\.0\.0\/99" is not an IP address or CIDR/,
    );
    expect(problems).toMatch(/HAVEN_TRUSTED_PROXIES: "not-an-ip"/);
    expect(
      problemsOf({ HAVEN_ENV: 'test', HAVEN_MASTER_KEY: strongKey(), PORT: '70000' }).join('\n'),
    ).toMatch(/PORT: must be between 0 and 65535/);
    expect(
      problemsOf({
        HAVEN_ENV: 'test',
        HAVEN_MASTER_KEY: strongKey(),
        HAVEN_TIME_ZONE: 'Mars/Olympus_Mons',
      }).join('\n'),
    ).toMatch(/HAVEN_TIME_ZONE: expected an IANA time zone such as Europe\/Berlin/);
  });
});

describe('a loaded config', () => {
  it('S1/valid production: a strong key, https URL, Postgres, Redis and a proxy load', () => {
    const config = loadConfig(productionEnv({ HAVEN_RATE_AUTH: '5/30' }), { cwd: scratch() });
    expect(config.env).toBe('production');
    expect(config.publicOrigin).toBe('https://haven.example');
    expect(config.masterKey).toHaveLength(32);
    expect(config.cookieSecure).toBe(true);
    expect(config.trustedProxies).toEqual(['10.0.0.0/8']);
    expect(config.rateLimits.auth).toEqual({ max: 5, windowMs: 30_000 });
    expect(startupWarnings(config)).toEqual([]);
  });

  it('T1/TLS at the server: existing cert and key files satisfy production', () => {
    const certFile = path.join(scratch(), 'cert.pem');
    const keyFile = path.join(scratch(), 'key.pem');
    writeFileSync(certFile, 'cert');
    writeFileSync(keyFile, 'key');
    const config = loadConfig(
      productionEnv({
        HAVEN_TRUSTED_PROXIES: undefined,
        HAVEN_TLS_CERT_FILE: certFile,
        HAVEN_TLS_KEY_FILE: keyFile,
      }),
      { cwd: scratch() },
    );
    expect(config.tls).toEqual({ certFile, keyFile });
  });

  it('S1/runtime tampering: the config and its parts are frozen; assignment throws', () => {
    const config = loadConfig(productionEnv({ HAVEN_CORS_ORIGINS: 'https://app.example' }), {
      cwd: scratch(),
    });
    for (const part of [
      config,
      config.limits,
      config.rateLimits,
      config.rateLimits.public,
      config.corsOrigins,
      config.trustedProxies,
      config.outboundAllowHosts,
      config.jobs,
    ]) {
      expect(Object.isFrozen(part)).toBe(true);
    }
    // ESM test modules are strict: writes to frozen objects throw.
    const mutable = config as unknown as Record<string, unknown>;
    expect(() => {
      mutable.cookieSecure = false;
    }).toThrow(TypeError);
    expect(() => {
      (config.corsOrigins as string[]).push('*');
    }).toThrow(TypeError);
    expect(() => {
      (config.rateLimits.auth as { max: number }).max = 1e9;
    }).toThrow(TypeError);
    expect(config.cookieSecure).toBe(true);
    expect(config.corsOrigins).toEqual(['https://app.example']);
  });
});

describe('development master key', () => {
  it('S1/loud fallback: a dev key is created 0600, reused, and warned about every start', () => {
    const env = { HAVEN_ENV: 'development' };
    const first = loadConfig(env, { cwd: scratch() });
    const keyFile = path.join(scratch(), 'data', 'dev-master.key');
    expect(first.masterKeySource).toBe('generated-dev-file');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(
      Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64').equals(first.masterKey),
    ).toBe(true);
    expect(first.masterKey).toHaveLength(32);

    const second = loadConfig(env, { cwd: scratch() });
    expect(second.masterKey.equals(first.masterKey)).toBe(true);

    for (const config of [first, second]) {
      const warnings = startupWarnings(config);
      expect(
        warnings.some((w) => w.includes(keyFile) && /Never use it in production/.test(w)),
      ).toBe(true);
    }
  });

  it('S1/dev fallback never reaches production: production does not generate a key', () => {
    problemsOf(productionEnv({ HAVEN_MASTER_KEY: undefined, HAVEN_DATA_DIR: 'prod-data' }));
    expect(() => statSync(path.join(scratch(), 'prod-data', 'dev-master.key'))).toThrow();
  });
});
