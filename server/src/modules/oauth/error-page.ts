// The pages a browser sees when Haven cannot continue an authorization (A12): no redirect to an
// address that is not verified (RFC 6749 §4.1.2.1), escaped sentences only, no inline style or
// script (Haven's CSP).
import { escapeHtml } from '../../platform/html.js';

/** The page, with these sentences under its heading. */
export function authorizationErrorPage(sentences: readonly string[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Haven could not continue</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Haven could not continue this sign-in</h1>
${sentences.map((sentence) => `<p>${escapeHtml(sentence)}</p>`).join('\n')}
</main></body></html>`;
}

/**
 * The page a browser sees when an authorization request cannot go back to the app (an unknown
 * client, a redirect URI not registered): nothing from the request but the error text.
 */
export function renderAuthorizationError(
  ctx: { type: string; body: string },
  out: { error?: string; error_description?: string },
): void {
  ctx.type = 'html';
  const reason = out.error_description ?? out.error ?? 'unknown error';
  ctx.body = authorizationErrorPage([
    `The app that sent you here made a request Haven cannot accept (${reason}).`,
    "Close this page and return to the app. If this keeps happening, tell the app's maker.",
  ]);
}
