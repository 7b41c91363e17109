// What the display-configuration schema cannot say (V1), shared by arm templates and assignment
// uploads: a feature path appears once, and two features never share a pin position (`top`).
// Also the one way a template meets a case: only the paths that case has are kept.
import type { FieldErrors } from '../../../platform/text.js';
import type { DisplayConfigView } from '../shared/schemas.js';

/** Records every repeated path and pin position of `display`, named under `at`. */
export function checkDisplay(errors: FieldErrors, at: string, display: DisplayConfigView): void {
  const paths = new Map<string, number>();
  const tops = new Map<number, number>();
  display.features.forEach((feature, index) => {
    const samePath = paths.get(feature.path);
    if (samePath !== undefined) {
      errors.add(`${at}.features.${index}.path`, `repeats the path of features.${samePath}`);
    } else {
      paths.set(feature.path, index);
    }
    if (feature.top !== undefined) {
      const sameTop = tops.get(feature.top);
      if (sameTop !== undefined) {
        errors.add(`${at}.features.${index}.top`, `repeats the top of features.${sameTop}`);
      } else {
        tops.set(feature.top, index);
      }
    }
  });
}

/** The template as one case shows it: features whose path the case does not have are dropped. */
export function displayForCase(
  template: DisplayConfigView,
  casePaths: ReadonlySet<string>,
): DisplayConfigView {
  return {
    showAiScore: template.showAiScore,
    features: template.features.filter((feature) => casePaths.has(feature.path)),
  };
}

/** Everything shown plainly, no AI score: the display when nothing else is given. */
export const PLAIN_DISPLAY: DisplayConfigView = Object.freeze({
  showAiScore: false,
  features: [],
});
