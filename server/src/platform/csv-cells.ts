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
 * What makes a field quoted (RFC 4180): a quote, a comma or a line break. csv-stringify with a
 * record delimiter set quotes only the CRLF pair, which would let a lone LF in a free-text cell
 * split its row for every reader; every CR and LF is quoted here.
 */
const NEEDS_QUOTES = /[",\r\n]/;
const QUOTE = /"/g;

/** A finished cell as one field: quoted by NEEDS_QUOTES, quotes doubled inside. */
export function quoteField(cell: string): string {
  return NEEDS_QUOTES.test(cell) ? `"${cell.replace(QUOTE, '""')}"` : cell;
}
