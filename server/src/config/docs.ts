// .env.example and docs/configuration.md, rendered from the configuration table. Nothing here
// knows a variable by name: a new row appears in both files when they are regenerated
// (`npm run config:docs`), and a test fails while the committed files differ.
import { GROUPS, type Group, type Variable } from './row.js';
import { CROSS_RULES, VARIABLES } from './variables.js';

const SOURCE = 'server/src/config/variables.ts';
const REGENERATE = 'npm run config:docs';

interface Entry {
  readonly name: string;
  readonly row: Variable<unknown>;
}

const ENTRIES: readonly Entry[] = Object.entries(VARIABLES).map(([name, row]) => ({ name, row }));

function entriesOf(group: Group): readonly Entry[] {
  return ENTRIES.filter((entry) => entry.row.group === group);
}

/** Markdown to plain text: .env.example is read in a terminal. */
const plain = (markdown: string): string => markdown.replaceAll('`', '');

/** Comment lines of at most `width` characters, words kept whole. */
function comment(text: string, width = 100): string[] {
  const lines: string[] = [];
  let line = '#';
  for (const word of text.split(/\s+/)) {
    if (line.length + 1 + word.length > width && line !== '#') {
      lines.push(line);
      line = '#';
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines;
}

/** What happens without a value, for rows without a literal default. */
function unsetText(row: Variable<unknown>): string {
  const unset = row.unset ?? 'no value';
  return row.fallback === undefined ? unset : `\`${row.fallback}\`, else ${unset}`;
}

function envBlock({ name, row }: Entry): string[] {
  const notes = [row.meaning, `Values: ${row.type}.`];
  if (row.default === undefined) notes.push(`Unset: ${unsetText(row)}.`);
  if (row.production) notes.push(`Production: ${row.production.rule}.`);
  if (row.secret) notes.push(`Secret: may be given as ${name}_FILE (a file holding the value).`);
  // Only a literal default is written as a live line: copying the file verbatim changes nothing.
  const line =
    row.default === undefined ? `# ${name}=${row.example ?? ''}` : `${name}=${row.default}`;
  return [...notes.flatMap((note) => comment(plain(note))), line];
}

/** The text of .env.example. */
export function renderEnvExample(): string {
  const header = [
    `Haven configuration: every variable Haven reads. Generated from ${SOURCE} by \`${REGENERATE}\`; edit the table there, not this file. Details: docs/configuration.md.`,
    'Copy to .env (git-ignored) or set the variables in the environment. Live lines hold the defaults and commented lines have none, so a verbatim copy changes nothing. Secrets are never written here: their lines show how to make one.',
    'With HAVEN_ENV=production (or NODE_ENV=production) Haven refuses to start while a production rule is broken, and names every problem at once.',
  ];
  const lines = header.flatMap((paragraph, index) => [
    ...(index > 0 ? ['#'] : []),
    ...comment(plain(paragraph)),
  ]);
  for (const [group, title] of Object.entries(GROUPS) as [Group, string][]) {
    lines.push('', `# ── ${title} ${'─'.repeat(Math.max(0, 92 - title.length))}`);
    for (const entry of entriesOf(group)) lines.push('', ...envBlock(entry));
  }
  return `${lines.join('\n')}\n`;
}

const cell = (text: string): string => text.replaceAll('|', '\\|');

function tableRow({ name, row }: Entry): string {
  const variable = row.secret ? `\`${name}\` (secret)` : `\`${name}\``;
  const defaultText = row.default === undefined ? unsetText(row) : `\`${row.default}\``;
  const production = row.production?.rule ?? '';
  return `| ${[variable, row.type, defaultText, row.meaning, production].map(cell).join(' | ')} |`;
}

/** The text of docs/configuration.md, before formatting. */
export function renderConfigurationDoc(): string {
  const secrets = ENTRIES.filter((entry) => entry.row.secret).map(({ name }) => `\`${name}\``);
  const parts = [
    '# Configuration',
    `<!-- Generated from ${SOURCE} by \`${REGENERATE}\`. Do not edit: change the table and regenerate. A test fails while this file or .env.example differs from the table. -->`,
    'Haven reads its configuration from environment variables, once, at start. It checks them as a whole and lists every problem at once (`haven` exits with status 78); the result is frozen before anything else runs. `.env.example` lists the same variables with their defaults.',
    `**Secrets.** ${secrets.join(', ')} may instead be read from a file: append \`_FILE\` to the name (\`HAVEN_MASTER_KEY_FILE=/run/secrets/master-key\`). Setting both is an error, and an empty secret counts as unset.`,
    '**Production.** With `HAVEN_ENV=production` (or `NODE_ENV=production`) each variable must also meet its rule in the Production column, and the rules across variables below hold; otherwise Haven refuses to start and names every problem.',
  ];
  for (const [group, title] of Object.entries(GROUPS) as [Group, string][]) {
    parts.push(
      `## ${title}`,
      [
        '| Variable | Values | Default | Meaning | Production |',
        '| --- | --- | --- | --- | --- |',
        ...entriesOf(group).map(tableRow),
      ].join('\n'),
    );
  }
  parts.push(
    '## Rules across variables',
    CROSS_RULES.map(
      (rule) => `- ${rule.productionOnly ? '**Production:** ' : ''}${rule.rule}`,
    ).join('\n'),
  );
  return `${parts.join('\n\n')}\n`;
}
