// Dropping files in Chromium (issue 14, F2): a file dropped on the upload area is uploaded; one
// dropped beside it must not make the browser open the file in Haven's place, which would stop
// the uploads under way and forget what was typed. Every page is checked for CSP violations and
// page errors (suite.ts) and for accessibility.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createOrganization } from '../../server/test/actors.js';
import { expectAccessible } from './accessibility.js';
import { seedUser, type SeededUser } from './haven-server.js';
import { useBrowserSuite } from './suite.js';

const PASSWORD = 'files land where they are dropped';

const suite = useBrowserSuite();
const { open, goto } = suite;

async function seedClinician(displayName: string): Promise<SeededUser> {
  const s = suite.server();
  const user = await seedUser(s, {
    email: suite.uniqueEmail('dropper'),
    password: PASSWORD,
    roles: ['clinician'],
    displayName,
    withTotp: true,
  });
  await createOrganization(s.app.database.db, {
    name: `Drop Clinic ${Date.now()}`,
    members: [{ userId: user.id, role: 'org_admin' }],
  });
  return user;
}

/**
 * Drags a small PDF over the element `selector` and drops it there, as a person dragging from
 * their file manager does. Answers whether the page took each event (default prevented): an
 * event nobody takes is the browser's, and a drop the browser takes opens the file in the tab.
 */
function dropPdf(
  page: Page,
  selector: string,
  name: string,
): Promise<{ dragOverTaken: boolean; dropTaken: boolean }> {
  return page.evaluate(
    ([target, fileName]) => {
      const element = document.querySelector(target);
      if (!element) throw new Error(`nothing matches ${target}`);
      const data = new DataTransfer();
      data.items.add(
        new File(['%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n'], fileName, {
          type: 'application/pdf',
        }),
      );
      const dragOver = new DragEvent('dragover', {
        dataTransfer: data,
        bubbles: true,
        cancelable: true,
      });
      element.dispatchEvent(dragOver);
      const drop = new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true });
      element.dispatchEvent(drop);
      return { dragOverTaken: dragOver.defaultPrevented, dropTaken: drop.defaultPrevented };
    },
    [selector, name] as const,
  );
}

describe('dropping files (issue 14)', () => {
  it('F2: a file dropped on the upload area is uploaded', async () => {
    const user = await seedClinician('Dr Drop');
    const { page } = await open('/');
    await suite.signIn(page, user.email, user.password, user.totp);
    await goto(page, '/files');
    await page.getByRole('heading', { level: 1, name: 'My files' }).waitFor();
    await page.getByText('No files yet.').waitFor();

    expect(await dropPdf(page, '.drop-zone', 'Dropped referral.pdf')).toEqual({
      dragOverTaken: true,
      dropTaken: true,
    });
    const row = page.getByTestId('upload').filter({ hasText: 'Dropped referral.pdf' });
    await row.getByText(/^Uploaded\./).waitFor();
    await page.getByTestId('file').filter({ hasText: 'Dropped referral.pdf' }).waitFor();
    await expectAccessible(page, '/files after a drop');
  });

  it('F2: a file dropped beside the upload area does not replace Haven in the tab', async () => {
    const user = await seedClinician('Dr Miss');
    const { page } = await open('/');
    await suite.signIn(page, user.email, user.password, user.totp);
    await goto(page, '/files');
    await page.getByRole('heading', { level: 1, name: 'My files' }).waitFor();
    await page.getByText('No files yet.').waitFor();

    // On the heading, on the page's frame, and on a page without any upload area.
    expect(await dropPdf(page, 'main h1', 'Missed.pdf')).toEqual({
      dragOverTaken: true,
      dropTaken: true,
    });
    expect(await dropPdf(page, 'footer', 'Missed.pdf')).toEqual({
      dragOverTaken: true,
      dropTaken: true,
    });
    // Nothing was uploaded by the missed drops.
    expect(await page.getByTestId('upload').count()).toBe(0);
    await goto(page, '/account');
    await page.getByRole('heading', { level: 1, name: 'Your account' }).waitFor();
    expect(await dropPdf(page, 'main', 'Missed.pdf')).toEqual({
      dragOverTaken: true,
      dropTaken: true,
    });
    expect(new URL(page.url()).pathname).toBe('/account');
    await expectAccessible(page, '/account after a missed drop');
  });
});
