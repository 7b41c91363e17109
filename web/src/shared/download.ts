/** Saves a Blob the page holds as a file download (the account export, the audit CSV). */
export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started from the click; the URL is no longer needed once it is handed over.
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
