// The accessibility check every browser test runs on the pages it visits: one <h1>, headings
// that never skip a level, every form control and progress bar labelled, every button and link
// named, unique ids; and axe-core's WCAG 2 A/AA rules. page.evaluate runs through the DevTools
// protocol, so the CSP does not block it.
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import { expect } from 'vitest';
import type { Page } from 'playwright-core';

/** axe-core's browser build, injected into each page checked. */
const axeSource = (): Promise<string> =>
  readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * One <h1>, headings that never skip a level, every control labelled, every button and link
 * named, unique ids; and axe-core's WCAG 2 A/AA rules (as in reviews.test.ts).
 */
export async function expectAccessible(page: Page, where: string): Promise<void> {
  await expect
    .poll(() =>
      page
        .getByRole('status')
        .filter({ hasText: /^Loading/ })
        .count(),
    )
    .toBe(0);
  const report = await page.evaluate(() => {
    const problems: string[] = [];
    const visible = (el: Element) => (el as HTMLElement).offsetParent !== null;
    const h1 = document.querySelectorAll('h1');
    if (h1.length !== 1) problems.push(`${h1.length} h1 elements`);
    let last = 0;
    for (const h of Array.from(
      document.querySelectorAll('main h1, main h2, main h3, main h4, main h5'),
    )) {
      const level = Number(h.tagName.slice(1));
      if (last && level > last + 1) problems.push(`heading "${h.textContent}" skips a level`);
      last = level;
    }
    for (const el of Array.from(
      document.querySelectorAll('main input, main select, main textarea, main progress'),
    )) {
      const input = el as HTMLInputElement;
      if (!input.labels?.length && !input.getAttribute('aria-label')) {
        problems.push(`unlabelled ${input.tagName.toLowerCase()} ${input.type}`);
      }
    }
    // Letters and digits only: arrows and punctuation are not words anyone would speak.
    const words = (text: string) =>
      text
        .replace(/[^\p{L}\p{N}]+/gu, ' ')
        .trim()
        .toLowerCase();
    for (const el of Array.from(document.querySelectorAll('button, a[href]'))) {
      const name = (el.getAttribute('aria-label') ?? el.textContent ?? '').trim();
      if (visible(el) && !name) problems.push(`unnamed ${el.tagName.toLowerCase()}`);
      // WCAG 2.5.3 label in name: a spoken command ("click Withdraw consent") must match the
      // accessible name, so an aria-label holds the visible words (icons and symbols aside).
      const label = el.getAttribute('aria-label');
      const shown = words((el as HTMLElement).innerText ?? '');
      if (visible(el) && label !== null && /\p{L}/u.test(shown) && !words(label).includes(shown)) {
        problems.push(`${el.tagName.toLowerCase()} "${shown}" is named "${label}"`);
      }
    }
    const ids = new Set<string>();
    for (const el of Array.from(document.querySelectorAll('[id]'))) {
      if (ids.has(el.id)) problems.push(`duplicate id ${el.id}`);
      ids.add(el.id);
    }
    return problems;
  });
  expect(report, where).toEqual([]);
  await page.evaluate(await axeSource());
  const violations = await page.evaluate(async () => {
    const run = (
      window as unknown as {
        axe: {
          run: (
            context: Document,
            options: object,
          ) => Promise<{ violations: Array<{ id: string; nodes: unknown[] }> }>;
        };
      }
    ).axe.run;
    const result = await run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] },
    });
    return result.violations.map((v) => `${v.id} (${v.nodes.length})`);
  });
  expect(violations, where).toEqual([]);
}

/**
 * expectAccessible at 1280 px and at 320 px, and no sideways scrolling at 320 px (a phone held
 * upright, WCAG 1.4.10 reflow); the viewport is put back to 1280 px after.
 */
export async function expectAccessibleAtBothWidths(page: Page, where: string): Promise<void> {
  await page.setViewportSize({ width: 1280, height: 800 });
  await expectAccessible(page, `${where} at 1280 px`);
  await page.setViewportSize({ width: 320, height: 640 });
  await expectAccessible(page, `${where} at 320 px`);
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow, `${where} at 320 px scrolls sideways`).toBeLessThanOrEqual(0);
  await page.setViewportSize({ width: 1280, height: 800 });
}
