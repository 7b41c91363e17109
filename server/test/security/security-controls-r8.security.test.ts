// Scope declarations found unproven by mutation round 8 (Z2, A12): an app a patient allowed only
// to read (portal:read, files:read) must not give or withdraw consents or upload files. Every
// route of these families is checked from the app's own route table, so a write route declared
// with a read scope (or a new one added so) fails here, whoever calls it.
import { expect, it } from 'vitest';
import { createTestApp } from '../app-harness.js';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Where the tus and multipart upload routes live (the files module's TUS_PATH). */
const TUS_PATH = '/api/files/uploads';

it('Z2/A12 read-only app: every portal and tus upload route that changes state needs the write scope', async () => {
  const t = await createTestApp('pglite');
  try {
    const rows = t.app.routeTable.filter(
      (row) =>
        WRITES.has(row.method) &&
        (row.path.startsWith('/api/portal/') || row.path.startsWith(TUS_PATH)),
    );
    const declared = rows.map((row) => `${row.method} ${row.path}: ${row.scopes}`).sort();
    // Both families have write routes: the check is not vacuous.
    expect(declared.filter((d) => d.includes('/api/portal/')).length).toBeGreaterThanOrEqual(2);
    expect(declared.filter((d) => d.includes(TUS_PATH)).length).toBeGreaterThanOrEqual(2);
    for (const row of rows) {
      const needed = row.path.startsWith('/api/portal/') ? 'portal:write' : 'files:write';
      expect(row.scopes.split(' '), `${row.method} ${row.path}`).toContain(needed);
    }
  } finally {
    await t.close();
  }
});
