/** Sizes as people read them, the same on every page that shows one. */
/** Binary units, named as people know them: "2.1 GB", "512 KB", "37 bytes". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return bytes === 1 ? '1 byte' : `${bytes} bytes`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = value < 10 && !Number.isInteger(value) ? 1 : 0;
  const shown = Number(value.toFixed(digits));
  return `${shown.toLocaleString('en')} ${units[unit]}`;
}
