import { chromium, type Browser, type Page, type Response } from 'playwright-core';

/** Debian's Chromium; never use `playwright install` in this project. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

export interface OpenedPage {
  page: Page;
  /** Response of the top-level document navigation. */
  response: Response | null;
  /** CSP violations, from `securitypolicyviolation` events and from console reports. */
  cspViolations: string[];
  /** console.error messages (CSP console reports included). */
  consoleErrors: string[];
  /** Uncaught exceptions / unhandled rejections in the page. */
  pageErrors: string[];
  /** Closes the page's isolated browser context. */
  close(): Promise<void>;
}

/** Page-side name of the binding that forwards violation events to the test. */
const BINDING = '__havenReportCspViolation';

/**
 * Opens `url` in a fresh browser context with CSP-violation, console-error and page-error
 * collectors attached before any page script runs. CSP is enforced (bypassCSP stays false).
 */
export async function openPage(browser: Browser, url: string): Promise<OpenedPage> {
  const context = await browser.newContext({ bypassCSP: false });
  const page = await context.newPage();
  const cspViolations: string[] = [];
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];

  // (a) DOM events, forwarded through a binding (bindings and init scripts are not subject to CSP).
  await page.exposeBinding(BINDING, (_source, report: unknown) => {
    cspViolations.push(`event: ${String(report)}`);
  });
  await page.addInitScript((binding: string) => {
    document.addEventListener(
      'securitypolicyviolation',
      (e: SecurityPolicyViolationEvent) => {
        const report = (window as unknown as Record<string, unknown>)[binding];
        if (typeof report !== 'function') return;
        const where = e.sourceFile ? ` at ${e.sourceFile}:${e.lineNumber}:${e.columnNumber}` : '';
        void report(
          `${e.effectiveDirective} blocked ${e.blockedURI || '(unknown)'}${where}` +
            (e.sample ? ` sample=${JSON.stringify(e.sample)}` : ''),
        );
      },
      { capture: true },
    );
  }, BINDING);

  // (b) Chromium's console reports ("Refused to … because it violates … Content Security Policy").
  page.on('console', (msg) => {
    const text = msg.text();
    if (/content security policy/i.test(text)) cspViolations.push(`console: ${text}`);
    if (msg.type() === 'error') consoleErrors.push(text);
  });
  page.on('pageerror', (err) => {
    pageErrors.push(err.stack ?? err.message);
  });

  const response = await page.goto(url, { waitUntil: 'load' });
  return {
    page,
    response,
    cspViolations,
    consoleErrors,
    pageErrors,
    close: () => context.close(),
  };
}
