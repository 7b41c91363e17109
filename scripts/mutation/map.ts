// The security map's "removal caught by" column, made from mutants.ts: for each control, the
// mutants that remove a piece of it and the test file that must notice. `npm run mutation --
// --write-map` rewrites the column; server/test/proof/mutation-map.test.ts fails when the map
// and the mutants drift apart.
import type { Mutant } from './mutants.js';

const SERVER_SOURCE = 'server/src/';

/** The map names tests under server/src by their path there (see the map's preamble). */
function shortTestPath(path: string): string {
  return path.startsWith(SERVER_SOURCE) ? path.slice(SERVER_SOURCE.length) : path;
}

/** The controls a map row is about: "T1 HTTPS only" → [T1]; "D2, D3" → [D2, D3]. */
export function rowControls(idCell: string): string[] {
  const head = idCell.trim().split(/\s(?![A-Z]\d)/u)[0] ?? '';
  return head.split(/,\s*/u).filter((id) => /^[A-Z]\d+$/u.test(id));
}

/** The "removal caught by" cell of a row about `controls`. */
export function removalCell(controls: readonly string[], mutants: readonly Mutant[]): string {
  const mine = mutants.filter((mutant) => controls.includes(mutant.control));
  if (mine.length === 0) return '—';
  return mine
    .map(
      (mutant) =>
        `\`${mutant.id}\` → ${mutant.tests.map((t) => `\`${shortTestPath(t)}\``).join(', ')}` +
        (mutant.engine === 'postgres' ? ' (on PostgreSQL)' : ''),
    )
    .join('; ');
}

const HEADER = 'removal caught by (`npm run mutation`)';

/** The cells of a table line of the map, prettier's padding removed. */
function cellsOf(line: string): string[] {
  return line
    .split('|')
    .slice(1, -1)
    .map((cell) => cell.trim());
}

const isSeparator = (idCell: string): boolean => /^-+$/u.test(idCell);

/** The control rows of the map as [id cell, enforced-in cell] (header and separator left out). */
export function mapRows(map: string): Array<readonly [string, string]> {
  return map
    .split('\n')
    .filter((line) => line.startsWith('| '))
    .map(cellsOf)
    .filter(([id = '']) => id !== 'ID' && !isSeparator(id))
    .map(([id = '', enforced = '']) => [id, enforced] as const);
}

/** The map with its fourth column set from the mutants (cells unformatted; prettier aligns). */
export function withRemovalColumn(map: string, mutants: readonly Mutant[]): string {
  return map
    .split('\n')
    .map((line) => {
      if (!line.startsWith('| ')) return line;
      const [id = '', enforced = '', proven = ''] = cellsOf(line);
      if (isSeparator(id)) return '| --- | --- | --- | --- |';
      const fourth = id === 'ID' ? HEADER : removalCell(rowControls(id), mutants);
      return `| ${id} | ${enforced} | ${proven} | ${fourth} |`;
    })
    .join('\n');
}
