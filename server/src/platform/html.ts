// Text for an HTML body (mail bodies, the OAuth error pages): every interpolated value goes
// through here, so no value can open a tag or an attribute.
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}
