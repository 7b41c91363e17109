// Audit search in Chromium against the real server (issue 14, item 5), named by control: L3
// (an admin finds what happened: a whole action family, one actor picked by name, a local-time
// date range, and a CSV of exactly that, whose download is itself audited) and the axe checks
// every page gets. Every page opened is checked for CSP violations and page errors (suite.ts).
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { recordAudit } from '../../server/src/platform/audit/audit.js';
import { expectAccessibleAtBothWidths } from './accessibility.js';
import { seedUser } from './haven-server.js';
import { useBrowserSuite } from './suite.js';

const suite = useBrowserSuite();
const { open, goto, signIn, uniqueEmail } = suite;

/** A datetime-local value (the browser's time zone, the same machine's as this process). */
function localInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

describe('audit search SPA', () => {
  it('L3: an admin filters by the breakglass family, picks an actor by name, sets a date range and downloads the CSV', async () => {
    const server = suite.server();
    const { db } = server.app.database;
    const admin = await seedUser(server, {
      email: uniqueEmail('audit-admin'),
      password: 'correct horse battery staple audit',
      roles: ['admin'],
      displayName: 'Ada Auditor',
      withTotp: true,
    });
    const casey = await seedUser(server, {
      email: uniqueEmail('casey'),
      password: 'correct horse battery staple casey',
      roles: ['admin'],
      displayName: 'Casey Oversight',
    });
    const other = await seedUser(server, {
      email: uniqueEmail('robin'),
      password: 'correct horse battery staple robin',
      roles: ['admin'],
      displayName: 'Robin Other',
    });
    const now = Date.now();
    const minutesAgo = (n: number) => new Date(now - n * 60_000);
    const asCasey = { type: 'user', id: casey.id } as const;
    const history: Array<[Date, Parameters<typeof recordAudit>[1]]> = [
      // In the range, Casey, the family: these two are the answer.
      [minutesAgo(40), { actor: asCasey, action: 'breakglass.granted', outcome: 'success' }],
      [
        minutesAgo(30),
        {
          actor: asCasey,
          action: 'breakglass.revoked',
          target: { type: 'user', id: other.id },
          outcome: 'success',
        },
      ],
      // Each misses one filter: another family, another person, before the range.
      [minutesAgo(35), { actor: asCasey, action: 'breakglassx.drill', outcome: 'success' }],
      [minutesAgo(35), { actor: asCasey, action: 'patient.read', outcome: 'success' }],
      [
        minutesAgo(35),
        { actor: { type: 'user', id: other.id }, action: 'breakglass.granted', outcome: 'success' },
      ],
      [
        minutesAgo(3 * 24 * 60),
        { actor: asCasey, action: 'breakglass.granted', outcome: 'success' },
      ],
    ];
    for (const [at, event] of history) await recordAudit(db, event, at);

    const { page } = await open('/');
    await signIn(page, admin.email, admin.password, admin.totp);
    await goto(page, '/admin/audit');
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    const filters = page.getByRole('search', { name: 'Audit events' });

    // The action list offers the family and the known actions.
    const action = filters.getByLabel('Action', { exact: true });
    const listId = await action.getAttribute('list');
    expect(listId).toBeTruthy();
    await expect
      .poll(() =>
        page.evaluate(
          (id) =>
            Array.from(document.getElementById(id)?.querySelectorAll('option') ?? []).map(
              (o) => o.value,
            ),
          listId ?? '',
        ),
      )
      .toEqual(expect.arrayContaining(['breakglass', 'breakglass.granted', 'patient.read']));
    await action.fill('breakglass');

    // The actor by name; the filter sends the id.
    await filters.getByLabel('Actor', { exact: true }).fill('Casey');
    const matching = filters.getByLabel('Matching actor');
    const caseyLabel = `Casey Oversight <${casey.email}>`;
    await expect.poll(() => matching.locator('option').allTextContents()).toContain(caseyLabel);
    await matching.selectOption({ label: caseyLabel });

    // A date range in local time: the last two hours.
    await filters.getByLabel('From', { exact: true }).fill(localInput(minutesAgo(120)));
    await filters.getByLabel('To', { exact: true }).fill(localInput(new Date(now + 60 * 60_000)));

    const searched = page.waitForResponse(
      (res) =>
        res.url().includes('/api/admin/audit-events?') && res.url().includes(`actorId=${casey.id}`),
    );
    await filters.getByRole('button', { name: 'Search' }).click();
    const query = new URL((await searched).url()).searchParams;
    expect(query.get('action')).toBe('breakglass');
    // Sent as UTC instants, read back as the local times entered.
    expect(query.get('from')).toMatch(/Z$/);
    expect(Math.abs(Date.parse(query.get('from') ?? '') - minutesAgo(120).getTime())).toBeLessThan(
      60_000,
    );
    const events = page.getByRole('region', { name: 'Audit events' });
    await expect
      .poll(() => events.getByRole('row').count())
      // The header row and the two matching events.
      .toBe(3);
    const actions = await events.locator('td[data-label="Action"]').allTextContents();
    expect(actions).toEqual(['breakglass.revoked', 'breakglass.granted']);
    await expectAccessibleAtBothWidths(page, 'audit log, filtered');

    // The CSV of exactly this filter, and the download is audited.
    const downloading = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download CSV' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toMatch(/^haven-audit-.+\.csv$/);
    const csv = await readFile((await download.path()) ?? '', 'utf8');
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toMatch(/^seq,occurred_at,actor_type,actor_id,actor_display_name,action,/);
    expect(lines.slice(1).map((line) => line.split(',')[5])).toEqual([
      'breakglass.revoked',
      'breakglass.granted',
    ]);
    expect(lines.slice(1).every((line) => line.includes(casey.id))).toBe(true);
    await page.getByText('Downloaded 2 events.').waitFor();
    const exported = await db
      .selectFrom('audit_events')
      .select(['actor_id', 'details'])
      .where('action', '=', 'audit.exported')
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
    expect(exported.actor_id).toBe(admin.id);
    expect(exported.details).toMatchObject({
      filters: 'actorId,action,from,to',
      action: 'breakglass',
      rows: 2,
    });
    expect(JSON.stringify(exported.details)).not.toContain(casey.id);
    await expectAccessibleAtBothWidths(page, 'audit log, after the download');

    // Targets read as names, never ids; one row's target becomes the filter.
    const revokedRow = events.getByRole('row').filter({ hasText: 'breakglass.revoked' });
    const target = revokedRow.locator('td[data-label="Target"]');
    await expect.poll(() => target.innerText()).toMatch(/^Robin Other · Account/);
    const pinned = page.waitForResponse(
      (res) =>
        res.url().includes('/api/admin/audit-events?') &&
        res.url().includes(`targetId=${other.id}`),
    );
    await target.getByRole('button', { name: /^Events about this account/ }).click();
    expect(new URL((await pinned).url()).searchParams.get('targetType')).toBe('user');
    await page.getByText('Showing events about Robin Other (Account).').waitFor();
    await expect
      .poll(() => events.locator('td[data-label="Action"]').allTextContents())
      .toEqual(['breakglass.revoked']);
    await expectAccessibleAtBothWidths(page, 'audit log, one target pinned');
    await page.getByRole('button', { name: 'Show all targets' }).click();
    await expect.poll(() => events.getByRole('row').count()).toBe(3);
  });
});
