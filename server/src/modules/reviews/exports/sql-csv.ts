// CSV fields written by the database, byte for byte what format.ts writes for the value the
// driver would have parsed, for the plain cells of the exports with the most rows: the row then
// crosses the driver as one text instead of a dozen typed fields (uuids, a timestamp parsed into
// a Date, booleans, a number), which measured as the larger part of an export's time in Node.
// An expression gives NULL where it cannot promise format.ts's bytes; the caller then formats
// the chunk through format.ts. Plain SQL, so PostgreSQL and PGlite give the same text.
import { sql, type RawBuilder } from 'kysely';

type Text = RawBuilder<string | null>;

/**
 * A text cell as format.ts writes it: neutralizeCell's apostrophe before = + - @, a tab or a
 * carriage return (V3; ascii() is the first character's code, which for these ASCII characters
 * is what the JavaScript pattern tests, the first UTF-16 unit), then quoted when it holds a
 * quote, a comma, a semicolon, a tab, a LF or a CR (csv-cells.ts NEEDS_QUOTES), quotes doubled.
 * The apostrophe needs no quoting, so both checks read the text as given. strpos() and ascii() instead of patterns: a regular expression per cell
 * measured several times slower. NULL stays NULL (the caller decides what an empty cell is).
 */
export function textCell(text: Text): Text {
  const apostrophe = sql`(case when ascii(${text}) in (61, 43, 45, 64, 9, 13) then '''' else '' end)`;
  return sql<string | null>`(case
    when strpos(${text}, '"') > 0 or strpos(${text}, ',') > 0
      or strpos(${text}, ';') > 0 or strpos(${text}, chr(9)) > 0
      or strpos(${text}, chr(10)) > 0 or strpos(${text}, chr(13)) > 0
    then '"' || ${apostrophe} || replace(${text}, '"', '""') || '"'
    else ${apostrophe} || ${text} end)`;
}

/**
 * Date.prototype.toISOString of the Date the driver would parse from a timestamptz: UTC,
 * milliseconds truncated (node-postgres and PGlite both drop the microseconds; checked for every
 * microsecond value). Outside 1970-9999, where toISOString's year or the drivers' parsing of
 * PostgreSQL's text is not this simple, it is NULL.
 */
export function isoMillis(instant: RawBuilder<unknown>): Text {
  return sql<string | null>`(case
    when ${instant} >= timestamptz '1970-01-01 00:00:00+00'
      and ${instant} < timestamptz '10000-01-01 00:00:00+00'
    then to_char(${instant} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') end)`;
}
