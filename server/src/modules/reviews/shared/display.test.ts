// Pruning and styling a case tree by a display configuration.
import { describe, expect, it } from 'vitest';
import { styleCaseTree } from './display.js';
import type { CaseNode } from './schemas.js';

const TREE: CaseNode[] = [
  {
    key: 'labs',
    label: 'Labs',
    children: [
      { key: 'a', label: 'A', value: 1 },
      { key: 'b', label: 'B', value: 2 },
      { key: 'c', label: 'C', value: 3 },
      { key: 'd', label: 'D', value: 4, children: [{ key: 'note', label: 'Note', value: 'x' }] },
      { key: 'e', label: 'E', value: 5 },
    ],
  },
  { key: 'plan', label: 'Plan' },
];

describe('styleCaseTree', () => {
  it('pins first by top, keeps every other sibling in its loaded order', () => {
    const [labs] = styleCaseTree(TREE, {
      features: [
        { path: 'labs/e', top: 2 },
        { path: 'labs/c', top: 1 },
      ],
    });
    expect(labs!.children!.map((node) => node.key)).toEqual(['c', 'e', 'a', 'b', 'd']);
  });

  it('removes hidden features with everything below them; an unlisted node is shown plainly', () => {
    const tree = styleCaseTree(TREE, {
      features: [
        { path: 'labs/d/note', hidden: true },
        { path: 'labs/b', hidden: true },
        { path: 'plan', hidden: true },
      ],
    });
    expect(tree.map((node) => node.key)).toEqual(['labs']);
    expect(tree[0]!.children!.map((node) => node.key)).toEqual(['a', 'c', 'd', 'e']);
    expect(tree[0]!.children![2]).toEqual({
      key: 'd',
      label: 'D',
      value: 4,
      collapsed: false,
      highlighted: false,
      pinned: null,
      children: [],
    });
  });

  it('marks collapsed and highlighted nodes and leaves the input unchanged', () => {
    const before = JSON.stringify(TREE);
    const [labs] = styleCaseTree(TREE, {
      features: [
        { path: 'labs', collapsed: true },
        { path: 'labs/a', highlighted: true },
      ],
    });
    expect(labs).toMatchObject({ collapsed: true, highlighted: false });
    expect(labs!.children![0]).toMatchObject({ key: 'a', highlighted: true, collapsed: false });
    expect(JSON.stringify(TREE)).toBe(before);
  });
});
