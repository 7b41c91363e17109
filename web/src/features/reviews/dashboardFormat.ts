/** Words and numbers of the study dashboard: durations, rates and agreement. */

/** A duration in human units: "45 s", "1 min 20 s", "2 h 5 min". */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    const rest = seconds % 60;
    return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
  }
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

export function formatRate(rate: number | null): string {
  return rate === null ? 'No checks yet' : `${Math.round(rate * 100)}%`;
}

/**
 * Landis and Koch's reading of a kappa value, the one reviewers of agreement studies expect:
 * below 0 poor, up to 0.20 slight, 0.40 fair, 0.60 moderate, 0.80 substantial, above almost perfect.
 */
export function agreementWords(kappa: number | null): string {
  if (kappa === null || !Number.isFinite(kappa)) return 'not enough overlapping reviews yet';
  if (kappa < 0) return 'poor agreement (less than chance)';
  if (kappa <= 0.2) return 'slight agreement';
  if (kappa <= 0.4) return 'fair agreement';
  if (kappa <= 0.6) return 'moderate agreement';
  if (kappa <= 0.8) return 'substantial agreement';
  return 'almost perfect agreement';
}

export const METHOD_NAMES: Record<string, string> = {
  cohen: 'Cohen’s kappa (two raters)',
  fleiss: 'Fleiss’ kappa (three or more raters)',
  krippendorff: 'Krippendorff’s alpha',
};

/** A share (0–1) as one of the 21 width classes of reviews.css (no inline styles under the CSP). */
export function barClass(share: number): string {
  const step = Math.max(0, Math.min(20, Math.round(share * 20))) * 5;
  return `bar-fill bar-${step}`;
}
