// D1: dependencies are pinned. Every package.json names exact versions (a range would let a
// compromised or broken release in at the next install), npm is told to keep it so, and the
// lockfile that `npm ci` installs from agrees with the manifests and pins every tarball.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const MANIFESTS = ['package.json', 'server/package.json', 'web/package.json'];
const EXACT = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;
const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'optionalDependencies'] as const;

type Manifest = Partial<Record<(typeof DEPENDENCY_FIELDS)[number], Record<string, string>>>;

const readJson = <T>(file: string): T =>
  JSON.parse(readFileSync(path.join(ROOT, file), 'utf8')) as T;

describe('D1 pinned dependencies', () => {
  it('D1/floating versions: every dependency of every package.json is an exact version', () => {
    const ranges = MANIFESTS.flatMap((file) => {
      const manifest = readJson<Manifest>(file);
      return DEPENDENCY_FIELDS.flatMap((field) =>
        Object.entries(manifest[field] ?? {})
          .filter(([, version]) => !EXACT.test(version))
          .map(([name, version]) => `${file} ${field}: ${name}@${version}`),
      );
    });
    expect(ranges).toEqual([]);
  });

  it('D1: .npmrc makes npm save exact versions', () => {
    const settings = readFileSync(path.join(ROOT, '.npmrc'), 'utf8')
      .split('\n')
      .map((line) => line.trim());
    expect(settings).toContain('save-exact=true');
  });

  it('D1/tampered tarballs: the lockfile agrees with the manifests and pins every package by integrity hash', () => {
    const lock = readJson<{
      lockfileVersion: number;
      packages: Record<string, Manifest & { version?: string; integrity?: string; link?: boolean }>;
    }>('package-lock.json');
    expect(lock.lockfileVersion).toBe(3);
    for (const [file, key] of [
      ['package.json', ''],
      ['server/package.json', 'server'],
      ['web/package.json', 'web'],
    ] as const) {
      const manifest = readJson<Manifest>(file);
      for (const field of DEPENDENCY_FIELDS) {
        expect(lock.packages[key]?.[field] ?? {}, `${file} ${field}`).toEqual(
          manifest[field] ?? {},
        );
      }
    }
    const unpinned = Object.entries(lock.packages)
      .filter(([where, entry]) => where.includes('node_modules/') && !entry.link)
      .filter(([, entry]) => !/^sha(?:512|384|256)-/.test(entry.integrity ?? ''))
      .map(([where]) => where);
    expect(unpinned).toEqual([]);
  });
});
