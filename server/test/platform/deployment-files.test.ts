// D1, D2: the deployment files keep their hardening. There is no Docker on the machines that run
// this suite, so nothing here builds or starts a container (CI's `container` job does:
// .github/workflows/ci.yml); instead the files are parsed and every property the catalogue asks
// for is checked, so a change that drops one fails here first. The compose file is also checked
// against Haven's own configuration table: every variable it sets is one Haven reads, its
// settings pass the production rules, and its placeholder secrets are refused.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError, loadConfig } from '../../src/config.js';
import { VARIABLES } from '../../src/config/variables.js';
import { MALLOC_TUNABLES } from '../../src/platform/allocator.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

// ── Dockerfile ──────────────────────────────────────────────────────────────────────────────────

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}
interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

/** Instructions of a Dockerfile, continuation lines joined and comments dropped, by stage. */
function dockerStages(text: string): Stage[] {
  const lines: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    lines.push(pending + line);
    pending = '';
  }
  const stages: Stage[] = [];
  for (const line of lines) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (keyword.toUpperCase() === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ from: match?.[1] ?? args, name: match?.[2], instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ keyword: keyword.toUpperCase(), args });
    }
  }
  return stages;
}

const stages = dockerStages(read('Dockerfile'));
const runtime = stages.at(-1)!;
const inRuntime = (keyword: string) =>
  runtime.instructions.filter((instruction) => instruction.keyword === keyword);
const runtimeEnv = (): Record<string, string> =>
  Object.fromEntries(
    inRuntime('ENV').flatMap(({ args }) =>
      [...args.matchAll(/(\w+)=(\S+)/g)].map((match) => [match[1], match[2]]),
    ),
  );

describe('D2 container image (Dockerfile)', () => {
  it('D2/multi-stage: builds with npm ci and npm run build, runs from a stage with production dependencies only', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages.find((stage) =>
      stage.instructions.some((i) => i.keyword === 'RUN' && i.args.includes('npm run build')),
    );
    expect(build, 'a stage runs npm run build').toBeDefined();
    expect(build!.instructions.some((i) => i.args.includes('npm ci'))).toBe(true);
    expect(build).not.toBe(runtime);

    const copiedFrom = new Set(
      inRuntime('COPY').flatMap(({ args }) => /--from=(\S+)/.exec(args)?.[1] ?? []),
    );
    const productionDeps = stages.filter(
      (stage) =>
        copiedFrom.has(stage.name ?? '') &&
        stage.instructions.some((i) => /npm ci\b.*--omit=dev/.test(i.args)),
    );
    expect(productionDeps, 'node_modules come from an `npm ci --omit=dev` stage').toHaveLength(1);
    // Nothing of the build stage but its output: never its node_modules with the dev tools.
    const fromBuild = inRuntime('COPY').filter(({ args }) =>
      args.includes(`--from=${build!.name}`),
    );
    expect(fromBuild.length).toBeGreaterThan(0);
    for (const { args } of fromBuild) expect(args).toMatch(/\/dist\b/);
    expect(runtime.instructions.some((i) => i.args.includes('npm run build'))).toBe(false);
  });

  it('D2/pinned base: every FROM names an exact version, never a floating or latest tag, and any digest is sha256', () => {
    const names = new Set(stages.map((stage) => stage.name).filter(Boolean));
    const bases = stages.map((stage) => stage.from).filter((from) => !names.has(from));
    expect(bases.length).toBeGreaterThan(0);
    for (const base of bases) {
      const match = /^([\w./-]+):([\w.-]+)(?:@(sha256:[0-9a-f]{64}))?$/.exec(base);
      expect(match, `${base} is image:tag[@sha256:…]`).not.toBeNull();
      const tag = match![2]!;
      expect(tag, `${base}: a major.minor version at least`).toMatch(/^\d+\.\d+/);
      expect(tag).not.toMatch(/latest|current|lts/);
    }
    // Without a digest the file must say how it is kept current (Dependabot, .github/dependabot.yml).
    if (bases.some((base) => !base.includes('@sha256:'))) {
      expect(read('Dockerfile')).toMatch(/dependabot/i);
    }
  });

  it('D2/non-root: the runtime stage ends as a numeric, non-zero user and group', () => {
    const user = inRuntime('USER').at(-1)?.args;
    expect(user).toMatch(/^\d+:\d+$/);
    const [uid, gid] = user!.split(':').map(Number);
    expect(uid).toBeGreaterThan(0);
    expect(gid).toBeGreaterThan(0);
  });

  it('D2/one port: exactly one EXPOSE of exactly one port, the PORT Haven listens on', () => {
    const exposes = stages.flatMap((stage) =>
      stage.instructions.filter((i) => i.keyword === 'EXPOSE'),
    );
    expect(exposes).toHaveLength(1);
    expect(exposes[0]!.args).toMatch(/^\d+$/);
    expect(runtimeEnv()['PORT']).toBe(exposes[0]!.args);
    expect(runtimeEnv()['HOST']).toBe('0.0.0.0');
  });

  it('D2/health: a HEALTHCHECK asks /readyz with node (the slim image has no curl)', () => {
    const [check] = inRuntime('HEALTHCHECK');
    expect(check).toBeDefined();
    expect(check!.args).toMatch(/CMD \["node"/);
    expect(check!.args).toContain('/readyz');
    expect(check!.args).not.toMatch(/curl|wget/);
  });

  it('D2/read-only root: production mode, the writable data folder declared as a VOLUME', () => {
    const env = runtimeEnv();
    expect(env['NODE_ENV']).toBe('production');
    expect(env['HAVEN_ENV']).toBe('production');
    const volumes = inRuntime('VOLUME').map((i) => i.args);
    expect(volumes.join(' ')).toContain(env['HAVEN_DATA_DIR']);
    // The documented tmpfs for the rest of the writable paths.
    expect(read('Dockerfile')).toMatch(/--read-only --tmpfs \/tmp/);
  });

  it('D2/entry: the image runs `haven` as npx would, through server/bin/haven.js, serving by default', () => {
    const manifest = JSON.parse(read('server/package.json')) as { bin: Record<string, string> };
    expect(manifest.bin['haven']).toBe('bin/haven.js');
    expect(inRuntime('ENTRYPOINT')[0]?.args).toBe('["node", "/app/server/bin/haven.js"]');
    expect(inRuntime('CMD').at(-1)?.args).toBe('["serve"]');
  });

  it('D2/allocator: the image and `npm start` run Haven with the glibc malloc settings of allocator.ts', () => {
    // Without them uploads, downloads and scans fault their buffers in again after every burst.
    expect(runtimeEnv()['GLIBC_TUNABLES']).toBe(MALLOC_TUNABLES);
    const start = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts[
      'start'
    ];
    // A GLIBC_TUNABLES the operator set wins; otherwise ours.
    expect(start).toContain(`GLIBC_TUNABLES=\${GLIBC_TUNABLES:-${MALLOC_TUNABLES}} haven serve`);
  });

  it('D2/build context: .dockerignore keeps data, secrets, installed modules and git out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim());
    for (const entry of ['.git', '**/node_modules', 'data', '.env', '.env.*', 'secrets']) {
      expect(ignored).toContain(entry);
    }
  });
});

// ── compose.yaml ────────────────────────────────────────────────────────────────────────────────

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  user?: string;
  read_only?: boolean;
  tmpfs?: string[];
  cap_drop?: string[];
  security_opt?: string[];
  ports?: string[];
  deploy?: { replicas?: number };
  env_file?: string[];
  environment?: Record<string, string>;
  networks?: string[] | Record<string, { ipv4_address?: string; aliases?: string[] } | null>;
}
interface Compose {
  services: Record<string, Service>;
  networks: Record<string, { internal?: boolean } | null>;
  secrets: Record<string, { file: string }>;
}

const compose = parse(read('compose.yaml'), { merge: true }) as Compose;
const services = compose.services;
const HAVEN_SERVICES = ['haven', 'worker', 'migrate'];
const DATA_SERVICES = ['postgres', 'redis', 'clamav', 'minio'];
const networksOf = (service: Service): string[] =>
  Array.isArray(service.networks) ? service.networks : Object.keys(service.networks ?? {});

/** KEY=value lines of an env file. */
const envFile = (file: string): Record<string, string> =>
  Object.fromEntries(
    read(file)
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );

/** The environment compose gives a Haven service: its env files, then its own entries. */
const havenEnvironment = (name: string): Record<string, string> => ({
  ...Object.assign({}, ...(services[name]!.env_file ?? []).map(envFile)),
  ...services[name]!.environment,
});

describe('D2 compose deployment (compose.yaml)', () => {
  it('D2/replicas: two Haven API nodes, a worker and a one-shot migration, all from the image', () => {
    expect(services['haven']?.deploy?.replicas).toBe(2);
    expect(services['haven']?.command).toEqual(['serve']);
    expect(services['worker']?.command).toEqual(['worker']);
    expect(services['migrate']?.command?.join(' ')).toMatch(/haven\.js migrate/);
    for (const name of HAVEN_SERVICES) expect(services[name]?.build).toBeDefined();
  });

  it('D2/hardened containers: Haven runs read-only, with a /tmp tmpfs, no capabilities, no new privileges, as a numeric non-root user', () => {
    for (const name of HAVEN_SERVICES) {
      const service = services[name]!;
      expect(service.read_only, name).toBe(true);
      expect(
        service.tmpfs?.some((mount) => mount.split(':')[0] === '/tmp'),
        name,
      ).toBe(true);
      expect(service.cap_drop, name).toEqual(['ALL']);
      expect(service.security_opt, name).toContain('no-new-privileges:true');
      expect(service.user, name).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    }
    expect(services['caddy']?.read_only).toBe(true);
    expect(services['caddy']?.cap_drop).toEqual(['ALL']);
  });

  it('D2/no host ports: only the reverse proxy publishes ports, and only 80 and 443', () => {
    const publishing = Object.entries(services).filter(([, service]) => service.ports?.length);
    expect(publishing.map(([name]) => name)).toEqual(['caddy']);
    const hostPorts = services['caddy']!.ports!.map((port) => port.split(':')[0]);
    expect(new Set(hostPorts)).toEqual(new Set(['80', '443']));
  });

  it('D2/private network: the database, cache, store and scanner sit on an internal network, never on the published one', () => {
    const published = new Set(
      networksOf(services['caddy']!).filter((n) => !compose.networks[n]?.internal),
    );
    for (const name of DATA_SERVICES) {
      const networks = networksOf(services[name]!);
      expect(
        networks.some((network) => compose.networks[network]?.internal === true),
        `${name} on an internal network`,
      ).toBe(true);
      expect(
        networks.filter((network) => published.has(network)),
        name,
      ).toEqual([]);
    }
    // PostgreSQL and Redis have no way out at all.
    for (const name of ['postgres', 'redis']) {
      for (const network of networksOf(services[name]!)) {
        expect(compose.networks[network]?.internal, `${name}: ${network}`).toBe(true);
      }
    }
  });

  it('D2/pinned images: every service image names an exact tag', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.build !== undefined) continue;
      expect(service.image, name).toMatch(/^[\w./-]+:[\w.-]*\d[\w.-]*$/);
      expect(service.image, name).not.toMatch(/:latest$/);
    }
  });

  it('D2/trusted proxy: Haven believes X-Forwarded-* from Caddy’s fixed address and nothing else', () => {
    const caddyNetworks = services['caddy']!.networks as Record<string, { ipv4_address?: string }>;
    const caddyAddresses = Object.values(caddyNetworks).flatMap((n) => n?.ipv4_address ?? []);
    expect(havenEnvironment('haven')['HAVEN_TRUSTED_PROXIES']).toBeDefined();
    expect(havenEnvironment('haven')['HAVEN_TRUSTED_PROXIES']!.split(',')).toEqual(caddyAddresses);
  });

  it('D2/env names: every variable compose sets for Haven is one Haven’s configuration reads', () => {
    const known = new Set<string>(['NODE_ENV']);
    for (const [name, row] of Object.entries(VARIABLES)) {
      known.add(name);
      if (row.secret) known.add(`${name}_FILE`);
    }
    for (const name of HAVEN_SERVICES) {
      const unknown = Object.keys(havenEnvironment(name)).filter((key) => !known.has(key));
      expect(unknown, name).toEqual([]);
    }
  });

  it('D2/secrets: every secret reaches Haven as a file under /run/secrets, never as a literal value', () => {
    const secretRows = Object.entries(VARIABLES).filter(([, row]) => row.secret);
    for (const name of HAVEN_SERVICES) {
      const env = havenEnvironment(name);
      for (const [variable] of secretRows) {
        expect(env[variable], `${name}: ${variable} in plain text`).toBeUndefined();
        const file = env[`${variable}_FILE`];
        if (file === undefined) continue;
        expect(file, `${name}: ${variable}_FILE`).toMatch(/^\/run\/secrets\/\w+$/);
        const secret = path.basename(file);
        expect(compose.secrets[secret], `${secret} declared`).toBeDefined();
      }
    }
  });

  it('D2/production settings: with real secrets, the compose environment passes Haven’s production rules', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'haven-compose-'));
    const secrets: Record<string, string> = {
      haven_database_url: 'postgres://haven_app:app-password@postgres:5432/haven',
      haven_owner_database_url: 'postgres://haven:owner-password@postgres:5432/haven',
      haven_redis_url: 'redis://:redis-password@redis:6379/0',
      haven_smtp_url: 'smtps://haven:mail-password@smtp.example.org:465',
      haven_master_key: randomBytes(32).toString('base64'),
      haven_storage_url:
        's3+https://haven-key:haven-secret@files.haven.example.org/haven-files?region=us-east-1&path_style=true',
    };
    for (const [file, value] of Object.entries(secrets)) writeFileSync(path.join(dir, file), value);
    for (const name of HAVEN_SERVICES) {
      const env = Object.fromEntries(
        Object.entries(havenEnvironment(name)).map(([key, value]) => [
          key,
          value
            .replace(/\$\{HAVEN_DOMAIN:\?[^}]*\}/, 'haven.example.org')
            .replace(/^\/run\/secrets\//, `${dir}/`),
        ]),
      );
      const config = loadConfig({ ...env, NODE_ENV: 'production' }, { cwd: dir });
      expect(config.env, name).toBe('production');
      expect(config.publicOrigin).toBe('https://haven.example.org');
      expect(config.trustedProxies.length).toBeGreaterThan(0);
      expect(config.files.clamdUrl).toBeDefined();
    }
  });

  it('D2/placeholders: Haven refuses to start on every placeholder secret the repository holds', () => {
    const placeholders = path.join(ROOT, 'deploy/secrets.example');
    const declared = Object.keys(compose.secrets).sort();
    expect(
      readdirSync(placeholders)
        .filter((file) => file !== 'README.md')
        .sort(),
    ).toEqual(declared);
    const env = Object.fromEntries(
      Object.entries(havenEnvironment('haven')).map(([key, value]) => [
        key,
        value
          .replace(/\$\{HAVEN_DOMAIN:\?[^}]*\}/, 'haven.example.org')
          .replace(/^\/run\/secrets\//, `${placeholders}/`),
      ]),
    );
    let problems = '';
    try {
      loadConfig(env, { cwd: placeholders });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      problems = (error as Error).message;
    }
    for (const variable of [
      'DATABASE_URL',
      'REDIS_URL',
      'HAVEN_SMTP_URL',
      'HAVEN_MASTER_KEY',
      'HAVEN_STORAGE_URL',
    ]) {
      expect(problems, variable).toContain(`${variable}:`);
    }
  });
});

// ── deploy/Caddyfile ────────────────────────────────────────────────────────────────────────────

/** Top-level blocks of a Caddyfile by label, with their bodies; comments dropped. */
function caddyBlocks(text: string): Map<string, string> {
  const blocks = new Map<string, string>();
  let depth = 0;
  let label = '';
  let body: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    if (depth === 0 && line.endsWith('{')) {
      label = line.slice(0, -1).trim();
      body = [];
    } else if (depth > 0 && !(depth === 1 && line === '}')) {
      body.push(line);
    }
    depth += (line.match(/\{(?!\$)/g) ?? []).length - (line.match(/\}/g) ?? []).length;
    // `{$VAR}` placeholders open no block; their closing braces are not block ends either.
    depth += (line.match(/\{\$[A-Z_]+\}/g) ?? []).length;
    if (depth === 0 && label !== '') {
      blocks.set(label, body.join('\n'));
      label = '';
    }
  }
  return blocks;
}

describe('D2 reverse proxy (deploy/Caddyfile)', () => {
  const blocks = caddyBlocks(read('deploy/Caddyfile'));
  /** A site's directives with the snippets it imports spliced in. */
  const site = (label: string): string =>
    (blocks.get(label) ?? '').replace(
      /^import (\S+)$/gm,
      (_line, snippet: string) => blocks.get(`(${snippet})`) ?? '',
    );
  const sites = [...blocks.keys()].filter((label) => label !== '' && !label.startsWith('('));

  it('D2/HTTPS: Caddy serves the Haven domain and the object store’s name with automatic HTTPS', () => {
    expect(sites).toEqual(['{$HAVEN_DOMAIN}', 'files.{$HAVEN_DOMAIN}']);
    // Automatic HTTPS stays on: nothing turns it off or serves a site over plain http://.
    expect(read('deploy/Caddyfile')).not.toMatch(/auto_https\s+off|http:\/\//);
  });

  it('D2/HSTS: every site sends Strict-Transport-Security for at least a year', () => {
    for (const label of sites) {
      const hsts = /Strict-Transport-Security "max-age=(\d+)[^"]*"/.exec(site(label));
      expect(hsts, label).not.toBeNull();
      expect(Number(hsts![1])).toBeGreaterThanOrEqual(31_536_000);
    }
  });

  it('D2/request size: every site limits request bodies with request_body max_size', () => {
    for (const label of sites) {
      expect(site(label), label).toMatch(/request_body\s*\{\s*max_size \d+[KMG]B\s*\}/);
    }
    // The Haven site admits a tus chunk (8 MiB) and not much more.
    const limit = /max_size (\d+)MB/.exec(site('{$HAVEN_DOMAIN}'));
    expect(Number(limit?.[1])).toBeGreaterThanOrEqual(9);
    expect(Number(limit?.[1])).toBeLessThanOrEqual(32);
  });

  it('D2/upstream: Caddy proxies to the haven service on the port the image exposes', () => {
    const port = inRuntime('EXPOSE')[0]?.args;
    expect(site('{$HAVEN_DOMAIN}')).toMatch(/name haven\s+port (\d+)/);
    expect(/name haven\s+port (\d+)/.exec(site('{$HAVEN_DOMAIN}'))?.[1]).toBe(port);
  });
});

// ── CI and update automation ────────────────────────────────────────────────────────────────────

interface Workflow {
  jobs: Record<
    string,
    {
      'runs-on': string;
      container?: { image: string };
      steps: Array<{ uses?: string; run?: string; with?: Record<string, string> }>;
    }
  >;
}

describe('D1 supply chain (.github)', () => {
  const workflow = parse(read('.github/workflows/ci.yml')) as Workflow;
  const jobs = Object.values(workflow.jobs);
  const jobRunning = (command: RegExp) =>
    jobs.find((job) => job.steps.some((step) => command.test(step.run ?? '')));

  it('D1/CI: a workflow runs .ci/run on Ubuntu with Node 20', () => {
    const check = jobRunning(/^\.ci\/run$/m);
    expect(check).toBeDefined();
    expect(check!['runs-on']).toMatch(/^ubuntu-/);
    const node =
      check!.container?.image ??
      check!.steps.find((step) => step.uses?.startsWith('actions/setup-node'))?.with?.[
        'node-version'
      ];
    expect(node).toMatch(/(^|:)20\b/);
  });

  it('D1/audit: the workflow runs npm audit --audit-level=high', () => {
    const audit = jobRunning(/npm audit --audit-level=high/);
    expect(audit).toBeDefined();
    expect(audit!['runs-on']).toMatch(/^ubuntu-/);
  });

  it('D2/CI: the workflow validates the compose file, lints the Dockerfile and builds the image', () => {
    expect(jobRunning(/docker compose config/)).toBeDefined();
    expect(jobRunning(/hadolint/)).toBeDefined();
    expect(jobRunning(/docker build/)).toBeDefined();
  });

  it('D1/updates: Dependabot checks npm (grouped), the Docker base image and the workflow actions weekly', () => {
    const config = parse(read('.github/dependabot.yml')) as {
      version: number;
      updates: Array<{
        'package-ecosystem': string;
        schedule: { interval: string };
        groups?: Record<string, unknown>;
      }>;
    };
    expect(config.version).toBe(2);
    const byEcosystem = new Map(config.updates.map((u) => [u['package-ecosystem'], u]));
    for (const ecosystem of ['npm', 'docker', 'github-actions']) {
      expect(byEcosystem.get(ecosystem)?.schedule.interval, ecosystem).toBe('weekly');
    }
    expect(Object.keys(byEcosystem.get('npm')?.groups ?? {}).length).toBeGreaterThan(0);
  });
});
