import type { CaseNode } from '@haven/contract';

/** A case value as text: numbers as the reader's locale writes them, booleans as yes/no. */
export function formatValue(value: CaseNode['value'], unit?: string): string {
  if (value === undefined || value === null) return '—';
  const text =
    typeof value === 'number'
      ? value.toLocaleString()
      : typeof value === 'boolean'
        ? value
          ? 'Yes'
          : 'No'
        : value;
  return unit ? `${text} ${unit}` : text;
}

/** A case tree as the researcher uploaded it: sections and features as nested disclosures. */
export function CaseTreeView({ nodes, path = '' }: { nodes: CaseNode[]; path?: string }) {
  return (
    <ul className={path ? 'case-tree-children' : 'case-tree'}>
      {nodes.map((node) => {
        const nodePath = path ? `${path}/${node.key}` : node.key;
        return (
          <li key={node.key}>
            {node.children && node.children.length > 0 ? (
              <details open={!path}>
                <summary>
                  {node.label}
                  {node.value !== undefined && `: ${formatValue(node.value, node.unit)}`}{' '}
                  <span className="subtle mono">{nodePath}</span>
                </summary>
                <CaseTreeView nodes={node.children} path={nodePath} />
              </details>
            ) : (
              <span>
                <span className="case-label">{node.label}</span>:{' '}
                {formatValue(node.value, node.unit)} <span className="subtle mono">{nodePath}</span>
              </span>
            )}
          </li>
        );
      })}
    </ul>
  );
}
