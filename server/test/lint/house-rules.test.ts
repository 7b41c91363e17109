// The house rules of issue 8 (eslint.config.js) refuse what they must and accept what they may.
// ESLint runs the project's own config on planted sources (lintText with a path inside the tree,
// nothing written to disk), without type information: the house rules need none, and typed
// linting would take tens of seconds per case.
import path from 'node:path';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../../..');

let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({
    cwd: ROOT,
    overrideConfig: tseslint.configs.disableTypeChecked as Linter.Config,
  });
});

async function lint(file: string, code: string): Promise<Linter.LintMessage[]> {
  const results = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return results.flatMap((result) => result.messages);
}

async function expectRefused(file: string, code: string, ruleId: string): Promise<string[]> {
  const messages = await lint(file, code);
  const hits = messages.filter((message) => message.ruleId === ruleId).map((m) => m.message);
  expect(hits, `${file}: ${JSON.stringify(messages)}`).not.toEqual([]);
  return hits;
}

async function expectClean(file: string, code: string): Promise<void> {
  expect(await lint(file, code), file).toEqual([]);
}

/** A file of exactly `count` lines (plus the final newline). */
const linesOfCode = (count: number): string =>
  Array.from({ length: count }, (_, i) => `export const line${i} = ${i};`).join('\n') + '\n';

/** Statements filling a function body so the function spans exactly `lines` lines. */
const bodyFilling = (lines: number): string =>
  Array.from({ length: lines - 3 }, (_, i) => `    request.log.info('step ${i}');`).join('\n') +
  '\n    return { ok: true };';

const inlineHandlerRoutes = (
  handlerLines: number,
): string => `import type { FastifyInstance } from 'fastify';

export async function probeRoutes(app: FastifyInstance): Promise<void> {
  app.get('/api/probe', { config: { rateClass: 'read' } }, async (request) => {
${bodyFilling(handlerLines)}
  });
}
`;

describe('module front doors (haven/module-front-doors)', () => {
  const RULE = 'haven/module-front-doors';

  it('refuses a deep import of another module, from anywhere outside it', async () => {
    const cases: Array<[string, string]> = [
      ['server/src/modules/break-glass/probe.ts', '../patients/consents/repo.js'],
      ['server/src/modules/patients/notes/probe.ts', '../../identity/keys/signing-keys.js'],
      ['server/src/platform/access/probe.ts', '../../modules/identity/sessions.js'],
      ['server/src/jobs/probe.ts', '../modules/identity/cleanup.js'],
      ['server/src/probe.ts', './modules/identity/signing-keys.js'],
      ['server/test/probe.ts', '../src/modules/identity/sessions.js'],
      ['server/test/platform/probe.test.ts', '../../src/modules/identity/sessions.js'],
      ['server/test/probe.ts', '../src/modules/identity/sign-in/index.js'],
      // The contract door is the top-level schemas.js only, not a room's.
      ['server/src/modules/portal/probe.ts', '../patients/records/schemas.js'],
      ['server/src/modules/portal/schemas.ts', '../patients/records/schemas.js'],
      ['server/src/modules/portal/probe.ts', '../patients/records/service.js'],
      ['server/src/contract.ts', './modules/identity/sessions/schemas.js'],
    ];
    for (const [file, specifier] of cases) {
      const [message] = await expectRefused(
        file,
        `import { probe } from '${specifier}';\n\nexport const used = probe;\n`,
        RULE,
      );
      expect(message).toContain('front door');
    }
  });

  it('sees re-exports, type-only imports and dynamic imports too', async () => {
    const file = 'server/src/modules/portal/probe.ts';
    await expectRefused(
      file,
      `export { findPatient } from '../patients/records/service.js';\n`,
      RULE,
    );
    await expectRefused(file, `export * from '../patients/records/service.js';\n`, RULE);
    await expectRefused(
      file,
      `import type { Db } from '../patients/records/repo.js';\n\nexport type Used = Db;\n`,
      RULE,
    );
    await expectRefused(
      file,
      `export const load = () => import('../identity/onboarding.js');\n`,
      RULE,
    );
    await expectRefused(
      file,
      `export type Used = import('../identity/onboarding.js').Invitation;\n`,
      RULE,
    );
  });

  it('accepts front-door imports from outside and any import of a module from inside it', async () => {
    const cases: Array<[string, string]> = [
      ['server/src/modules/patients/probe.ts', '../identity/index.js'],
      ['server/src/modules/patients/notes/probe.ts', '../../break-glass/index.js'],
      ['server/src/probe.ts', './modules/patients/index.js'],
      ['server/src/jobs/probe.ts', '../modules/identity/index.js'],
      ['server/test/probe.ts', '../src/modules/identity/index.js'],
      ['server/test/security/probe.test.ts', '../../src/modules/patients/index.js'],
      // The contract door (top-level schemas.js), from another module's schemas and the contract.
      ['server/src/modules/portal/probe.ts', '../patients/schemas.js'],
      ['server/src/modules/break-glass/schemas.ts', '../portal/schemas.js'],
      ['server/src/modules/portal/account-export/schemas.ts', '../../patients/schemas.js'],
      ['server/src/probe.ts', './modules/patients/schemas.js'],
      // Inside a module, any depth, tests included.
      ['server/src/modules/patients/consents/probe.ts', '../records/schemas.js'],
      ['server/src/modules/patients/consents/probe.test.ts', '../records/service.js'],
      ['server/src/modules/patients/probe.test.ts', './notes/repo.js'],
      ['server/src/modules/identity/sign-in/probe.ts', '../keys/signing-keys.js'],
      // Not modules at all.
      ['server/src/modules/patients/probe.ts', '../../platform/access/scopes.js'],
      ['server/test/probe.ts', '../src/platform/errors.js'],
    ];
    for (const [file, specifier] of cases) {
      await expectClean(
        file,
        `import { probe } from '${specifier}';\n\nexport const used = probe;\n`,
      );
    }
  });
});

describe('schema files import only schemas (no-restricted-imports)', () => {
  const RULE = '@typescript-eslint/no-restricted-imports';
  const SCHEMA_FILES = [
    'server/src/modules/patients/schemas.ts',
    'server/src/modules/patients/records/schemas.ts',
    'server/src/modules/identity/schemas.ts',
    'server/src/modules/identity/admin-users/schemas.ts',
  ];

  it('refuses a runtime import of anything but typebox and schema files', async () => {
    const specifiers = [
      './records/service.js',
      '../repo.js',
      './index.js',
      '../../../platform/errors.js',
      '../../platform/db/schema.js',
      'node:crypto',
      'fastify',
      'typebox-extra',
      './schemas.ts.js',
    ];
    for (const file of SCHEMA_FILES) {
      for (const specifier of specifiers) {
        const [message] = await expectRefused(
          file,
          `import { probe } from '${specifier}';\n\nexport const used = probe;\n`,
          RULE,
        );
        expect(message).toContain('browser bundle');
      }
      await expectRefused(file, `export { probe } from './records/service.js';\n`, RULE);
      await expectRefused(file, `export * from '../index.js';\n`, RULE);
    }
    // Only identity's schemas may read identity's role table.
    await expectRefused(
      'server/src/modules/patients/records/schemas.ts',
      `import { probe } from '../roles.js';\n\nexport const used = probe;\n`,
      RULE,
    );
  });

  it("accepts typebox, schema files, type-only imports and identity's role table", async () => {
    const specifiers = [
      'typebox',
      './records/schemas.js',
      '../schemas.js',
      '../../portal/schemas.js',
    ];
    for (const file of SCHEMA_FILES) {
      for (const specifier of specifiers) {
        await expectClean(
          file,
          `import { probe } from '${specifier}';\n\nexport const used = probe;\n`,
        );
      }
      await expectClean(
        file,
        `import type { Role } from '../../../platform/db/schema.js';\n\nexport type Used = Role;\n`,
      );
    }
    await expectClean(
      'server/src/modules/identity/admin-users/schemas.ts',
      `import { ROLE_SCOPES } from '../roles.js';\n\nexport const used = ROLE_SCOPES;\n`,
    );
    // Other files are not schema files: the rule leaves them alone.
    await expectClean(
      'server/src/modules/patients/records/routes.ts',
      `import { probe } from './service.js';\n\nexport const used = probe;\n`,
    );
  });
});

describe('platform below the modules (no-restricted-imports)', () => {
  const RULE = 'no-restricted-imports';

  it('refuses any import of a module, even its front door, and of app.ts or main.ts', async () => {
    const cases: Array<[string, string]> = [
      ['server/src/platform/access/probe.ts', '../../modules/identity/index.js'],
      ['server/src/platform/probe.ts', '../modules/patients/index.js'],
      ['server/src/platform/db/probe.test.ts', '../../modules/patients/index.js'],
      ['server/src/platform/http/probe.ts', '../../app.js'],
      ['server/src/platform/probe.ts', '../main.js'],
    ];
    for (const [file, specifier] of cases) {
      await expectRefused(
        file,
        `import { probe } from '${specifier}';\n\nexport const used = probe;\n`,
        RULE,
      );
    }
    await expectRefused(
      'server/src/platform/access/probe.ts',
      `import type { IdentityApi } from '../../modules/identity/index.js';\n\nexport type Used = IdentityApi;\n`,
      RULE,
    );
  });

  it('accepts platform importing platform and the config', async () => {
    for (const specifier of ['../errors.js', './route-contract.js', '../../config.js']) {
      await expectClean(
        'server/src/platform/http/probe.ts',
        `import { probe } from '${specifier}';\n\nexport const used = probe;\n`,
      );
    }
  });
});

describe('typed handlers (no-restricted-syntax)', () => {
  const casts = `import type { FastifyRequest } from 'fastify';

export function probe(request: FastifyRequest): unknown[] {
  return [
    (request.body as { name: string }).name,
    (<{ id: string }>request.params).id,
    request.query as Record<string, string>,
  ];
}
`;

  it('refuses request.body, params and query casts in source files', async () => {
    const hits = await expectRefused(
      'server/src/modules/patients/records/routes.ts',
      casts,
      'no-restricted-syntax',
    );
    expect(hits).toHaveLength(3);
    expect(hits[0]).toContain('withTypeProvider');
  });

  it('leaves tests and other casts alone', async () => {
    await expectClean('server/src/modules/patients/records/probe.test.ts', casts);
    await expectClean(
      'server/src/modules/patients/records/service.ts',
      `export function probe(note: { body: unknown }): string {\n  return note.body as string;\n}\n`,
    );
  });
});

describe('file length (max-lines 400)', () => {
  it('refuses a 401-line source file on the server and in the SPA', async () => {
    await expectRefused('server/src/modules/patients/probe.ts', linesOfCode(401), 'max-lines');
    await expectRefused('web/src/features/probe.tsx', linesOfCode(401), 'max-lines');
  });

  it('accepts 400 lines, tests, and the declaration tables named in the config', async () => {
    await expectClean('server/src/modules/patients/probe.ts', linesOfCode(400));
    await expectClean('server/src/modules/patients/probe.test.ts', linesOfCode(450));
    await expectClean('server/src/platform/db/schema.ts', linesOfCode(450));
    await expectClean('server/src/platform/db/migrations/0099_probe.ts', linesOfCode(450));
  });
});

describe('handler length (haven/route-handler-lines 40)', () => {
  const RULE = 'haven/route-handler-lines';

  it('refuses a 41-line handler, inline, named or as a route option', async () => {
    const [inline] = await expectRefused(
      'server/src/modules/patients/notes/routes.ts',
      inlineHandlerRoutes(41),
      RULE,
    );
    expect(inline).toContain('41 lines');

    const named = `import type { FastifyInstance, FastifyRequest } from 'fastify';

async function listNotes(request: FastifyRequest) {
${bodyFilling(41)}
}

export async function noteRoutes(app: FastifyInstance): Promise<void> {
  app.get('/api/notes', { config: { rateClass: 'read' } }, listNotes);
}
`;
    const [message] = await expectRefused(
      'server/src/modules/patients/note-routes.ts',
      named,
      RULE,
    );
    expect(message).toContain('listNotes');

    const routeOption = `import type { FastifyInstance } from 'fastify';

export async function noteRoutes(app: FastifyInstance): Promise<void> {
  app.route({
    method: 'GET',
    url: '/api/notes',
    handler: async (request) => {
${bodyFilling(41)}
    },
  });
}
`;
    await expectRefused('server/src/modules/patients/notes/routes.ts', routeOption, RULE);
  });

  it('accepts a 40-line handler, a long route list, and long functions outside routes files', async () => {
    await expectClean('server/src/modules/patients/notes/routes.ts', inlineHandlerRoutes(40));

    const routes = Array.from(
      { length: 20 },
      (_, i) => `    scoped.get('/api/probe/${i}', { config: { rateClass: 'read' } }, listProbes);`,
    ).join('\n');
    const longList = `import type { FastifyInstance } from 'fastify';

async function listProbes() {
  return { ok: true };
}

export async function probeRoutes(app: FastifyInstance): Promise<void> {
  await app.register(async (scoped) => {
${routes}
  });
${routes.replaceAll('scoped.', 'app.')}
}
`;
    await expectClean('server/src/modules/patients/probe-routes.ts', longList);
    await expectClean('server/src/modules/patients/notes/service.ts', inlineHandlerRoutes(60));
  });
});
