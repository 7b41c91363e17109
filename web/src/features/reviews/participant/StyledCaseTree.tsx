import { formatValue } from '../CaseTreeView';
import type { StyledNode } from './participationApi';

/** The marks of a feature, in words (never by colour alone). */
function Marks({ node }: { node: StyledNode }) {
  return (
    <>
      {node.pinned !== null && (
        <span className="feature-mark mark-pinned">
          <span aria-hidden="true">▲ </span>Pinned
        </span>
      )}
      {node.highlighted && (
        <span className="feature-mark mark-highlighted">
          <span aria-hidden="true">★ </span>Highlighted
        </span>
      )}
    </>
  );
}

function NodeText({ node }: { node: StyledNode }) {
  return (
    <>
      <span className="case-label">{node.label}</span>
      {node.value !== undefined && (
        <>
          : <span className="case-value">{formatValue(node.value, node.unit)}</span>
        </>
      )}
    </>
  );
}

/**
 * A case as the participant sees it: pruned and ordered by the server (pinned features first),
 * collapsed features closed until opened, highlighted and pinned ones marked in words.
 * Disclosures are native <details>, so Enter/Space open them and screen readers announce state.
 */
export function StyledCaseTree({ nodes, level = 1 }: { nodes: StyledNode[]; level?: number }) {
  return (
    <ul className={level === 1 ? 'case-tree styled-tree' : 'case-tree-children'}>
      {nodes.map((node) => {
        const className = node.highlighted ? 'case-node highlighted' : 'case-node';
        const hasChildren = node.children !== undefined && node.children.length > 0;
        if (!hasChildren && !node.collapsed) {
          return (
            <li key={node.key} className={className}>
              <NodeText node={node} /> <Marks node={node} />
            </li>
          );
        }
        return (
          <li key={node.key} className={className}>
            <details open={!node.collapsed}>
              <summary>
                <span className="case-label">{node.label}</span> <Marks node={node} />
              </summary>
              {hasChildren ? (
                <>
                  {node.value !== undefined && (
                    <p className="case-value">{formatValue(node.value, node.unit)}</p>
                  )}
                  <StyledCaseTree nodes={node.children ?? []} level={level + 1} />
                </>
              ) : (
                <p className="case-value">{formatValue(node.value, node.unit)}</p>
              )}
            </details>
          </li>
        );
      })}
    </ul>
  );
}
