// The two rules every CSV Haven writes follows, in one place for every export (the reviews
// exports, the audit log export).
//
// CSV injection (OWASP "CSV Injection"): a cell beginning with = + - @, a tab or a carriage
// return is taken as a formula by Excel, LibreOffice and Sheets. Such text cells get a leading
// single quote, which the spreadsheet shows as text and never evaluates. Numbers are written by
// the server itself (a negative scale value is a number, not text) and stay numbers.
export function neutralizeCell(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/**
 * What makes a field quoted: a quote, a comma or a line break (RFC 4180), and a semicolon or a
 * tab. csv-stringify with a record delimiter set quotes only the CRLF pair, which would let a
 * lone LF in a free-text cell split its row for every reader; every CR and LF is quoted here.
 * Spreadsheets split a CSV on the list separator of the reader's locale (`;` in much of Europe)
 * or on the separators last chosen in an import dialog (tabs): unquoted, `x;=1+1` became two
 * cells there, the second a live formula that neutralizeCell never saw at the start of a field
 * (OWASP CSV Injection). A quoted field is one cell for every separator.
 */
const NEEDS_QUOTES = /[",;\t\r\n]/;
const QUOTE = /"/g;

/** A finished cell as one field: quoted by NEEDS_QUOTES, quotes doubled inside. */
export function quoteField(cell: string): string {
  return NEEDS_QUOTES.test(cell) ? `"${cell.replace(QUOTE, '""')}"` : cell;
}
