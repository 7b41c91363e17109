// Renders the route table for `haven routes` (and, later, the self-audit).
import type { RouteTableRow } from './route-contract.js';

export function formatRouteTable(rows: readonly RouteTableRow[]): string {
  const header = ['METHOD', 'PATH', 'ACCESS', 'SCOPES', 'STEP-UP', 'ALSO-SERVES', 'RATE'];
  const body = [...rows]
    .sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method))
    .map((r) => [
      r.method,
      r.path,
      r.access,
      r.scopes || '-',
      r.stepUp ? 'yes' : '-',
      r.serves || '-',
      r.rateClass,
    ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...body.map((row) => row[i]?.length ?? 0)),
  );
  return (
    [header, ...body]
      .map((row) =>
        row
          .map((cell, i) => cell.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
