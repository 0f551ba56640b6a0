/**
 * A forgiving CSV/TSV reader for hand-made and scraped files, built on readLines so that line
 * numbers are exact and one broken line never takes the rest of the file with it.
 *
 * - Fields are split on the delimiter; a field may be quoted (`"Earth, Wind & Fire"`), with `""`
 *   for a quote inside; spaces around a quoted field are dropped (`"a", "b"`).
 * - A quote inside an unquoted field is kept as text (`Guns "N" Roses`).
 * - A quoted field that does not close on its line may close on the next one; if the two lines
 *   together do not make a record with the header's number of fields, the first line is
 *   rejected as an unterminated quote and the second is read on its own.
 * - Text after a closing quote (`"a"b,`) rejects the line.
 *
 * csv-parse (7.0.3) was tried first: with skip_records_with_error and relax_quotes, a stray
 * quote inside a quoted field made it silently drop every following record, hence this file.
 */
import { readLines } from './lines.ts';

/** One record, or one line that could not be read as a record. */
export type CsvRecord =
  | { line: number; fields: string[]; error?: undefined }
  | { line: number; fields?: undefined; error: string };

type LineResult = { fields: string[] } | { unterminated: true } | { error: string };

/**
 * Splits one record. Returns `unterminated` when a quoted field is still open at the end of the
 * text, so that the caller can append the next line. O(length).
 */
export function splitRecord(text: string, delimiter: string): LineResult {
  const fields: string[] = [];
  let position = 0;
  const length = text.length;

  for (;;) {
    // Spaces before an opening quote are not part of the field.
    let start = position;
    while (start < length && text[start] === ' ' && delimiter !== ' ') start++;

    if (text[start] === '"') {
      let value = '';
      let cursor = start + 1;
      for (;;) {
        const quote = text.indexOf('"', cursor);
        if (quote === -1) return { unterminated: true };
        value += text.slice(cursor, quote);
        if (text[quote + 1] === '"') {
          value += '"';
          cursor = quote + 2;
          continue;
        }
        cursor = quote + 1;
        break;
      }
      while (cursor < length && (text[cursor] === ' ' || text[cursor] === '\r')) cursor++;
      fields.push(value);
      if (cursor >= length) return { fields };
      if (text.startsWith(delimiter, cursor)) {
        position = cursor + delimiter.length;
        continue;
      }
      return { error: `text after the closing quote of field ${fields.length}` };
    }

    const end = text.indexOf(delimiter, position);
    if (end === -1) {
      fields.push(text.slice(position).replace(/\r$/, ''));
      return { fields };
    }
    fields.push(text.slice(position, end));
    position = end + delimiter.length;
  }
}

/**
 * Reads a delimited file record by record. The first record's field count (the header's) is
 * what a record spread over two lines must reach to be accepted. Empty lines are skipped.
 * Lines with invalid UTF-8 are yielded as errors rather than decoded into U+FFFD.
 */
export async function* readCsvRecords(
  path: string,
  delimiter: string,
  onBytes?: (bytesRead: number) => void,
): AsyncGenerator<CsvRecord> {
  let expectedFields: number | null = null;
  let pending: { line: number; text: string } | null = null;

  for await (const { number, text } of readLines(path, 'utf8', onBytes)) {
    if (pending !== null) {
      const held: { line: number; text: string } = pending;
      pending = null;
      const joined = splitRecord(`${held.text}\n${text}`, delimiter);
      if (
        'fields' in joined &&
        (expectedFields === null || joined.fields.length === expectedFields)
      ) {
        yield checked(held.line, `${held.text}\n${text}`, joined.fields);
        continue;
      }
      yield { line: held.line, error: 'unterminated quoted field' };
    }

    if (text.trim() === '') continue;
    const result = splitRecord(text, delimiter);
    if ('unterminated' in result) {
      pending = { line: number, text };
      continue;
    }
    if ('error' in result) {
      yield { line: number, error: result.error };
      continue;
    }
    expectedFields ??= result.fields.length;
    yield checked(number, text, result.fields);
  }
  if (pending !== null) yield { line: pending.line, error: 'unterminated quoted field' };
}

function checked(line: number, text: string, fields: string[]): CsvRecord {
  if (text.includes('\uFFFD')) return { line, error: 'invalid UTF-8 (the file must be UTF-8)' };
  return { line, fields };
}
