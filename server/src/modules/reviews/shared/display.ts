// A case tree as one participant sees it: pruned and styled by the assignment's display
// configuration. Hidden features (and everything below them) are removed; every remaining node
// carries its collapsed / highlighted flags and its pin order; pinned siblings come first, lowest
// `top` first, and everything else keeps the order the case was loaded in. Pure, so the
// participant's route, the SPA preview and the tests all agree on what was shown.
import type { CaseNode, DisplayConfigView, FeatureDisplayView } from './schemas.js';

/** A node as shown; participation/schemas.ts has its response schema (StyledTree). */
export interface StyledNode {
  key: string;
  label: string;
  value?: string | number | boolean | null;
  unit?: string;
  collapsed: boolean;
  highlighted: boolean;
  /** The feature's pin order (`top`), or null when it is not pinned. */
  pinned: number | null;
  children?: StyledNode[];
}

function styleLevel(
  nodes: readonly CaseNode[],
  prefix: string,
  settings: ReadonlyMap<string, FeatureDisplayView>,
): StyledNode[] {
  const kept: StyledNode[] = [];
  for (const node of nodes) {
    const path = prefix === '' ? node.key : `${prefix}/${node.key}`;
    const setting = settings.get(path);
    if (setting?.hidden === true) continue;
    const styled: StyledNode = {
      key: node.key,
      label: node.label,
      collapsed: setting?.collapsed === true,
      highlighted: setting?.highlighted === true,
      pinned: setting?.top ?? null,
    };
    if (node.value !== undefined) styled.value = node.value;
    if (node.unit !== undefined) styled.unit = node.unit;
    if (node.children !== undefined) styled.children = styleLevel(node.children, path, settings);
    kept.push(styled);
  }
  // Array.prototype.sort is stable: unpinned siblings keep their loaded order.
  return kept.sort(byPin);
}

function byPin(a: StyledNode, b: StyledNode): number {
  if (a.pinned === b.pinned) return 0;
  if (a.pinned === null) return 1;
  if (b.pinned === null) return -1;
  return a.pinned - b.pinned;
}

/** The tree `tree` as `display` shows it (a new tree; the input is not changed). */
export function styleCaseTree(
  tree: readonly CaseNode[],
  display: Pick<DisplayConfigView, 'features'>,
): StyledNode[] {
  const settings = new Map<string, FeatureDisplayView>();
  for (const feature of display.features) settings.set(feature.path, feature);
  return styleLevel(tree, '', settings);
}
