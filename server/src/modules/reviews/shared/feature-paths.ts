// Feature paths of a case tree: every node's keys from its section down, joined by `/`
// (`vitals/heart_rate`). A display configuration names features by these paths, so an upload or
// an arm template is checked against them, and the randomizer keeps only the paths a case has.
import type { CaseNode } from './schemas.js';

/**
 * Every node's path in tree order (sections too: a whole section may be hidden or collapsed).
 * Walked with an explicit stack rather than recursion, so a tree read back from storage can
 * never drive the call stack however it is shaped.
 */
export function listFeaturePaths(tree: readonly CaseNode[]): string[] {
  const paths: string[] = [];
  const stack: Array<{ node: CaseNode; prefix: string }> = [];
  const pushChildren = (nodes: readonly CaseNode[], prefix: string) => {
    for (let index = nodes.length - 1; index >= 0; index -= 1) {
      stack.push({ node: nodes[index]!, prefix });
    }
  };
  pushChildren(tree, '');
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const path = item.prefix === '' ? item.node.key : `${item.prefix}/${item.node.key}`;
    paths.push(path);
    if (item.node.children) pushChildren(item.node.children, path);
  }
  return paths;
}
