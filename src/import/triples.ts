/**
 * Imports `user,artist,count` triples: CSV or TSV (by extension, else by a tab in the first
 * line), header optional (a first line whose count is not a number is a header; its names
 * `user`/`user_id`, `artist`/`artistname`, `count`/`plays`/`weight` may put the columns in any
 * order). Count must be a positive finite number; repeated (user, artist) rows are summed.
 * The file must be UTF-8: a line with invalid bytes is rejected.
 */
import { extname } from 'node:path';

import { isPlaceholderArtist } from '../model/lookupKey.ts';
import type { Storage } from '../storage/storage.ts';
import { InteractionCollector } from './collector.ts';
import { readCsvRecords } from './csvRecords.ts';
import { fileSize, readLines } from './lines.ts';
import type { ImportOptions, ParsedImport } from './runImport.ts';
import { runImport } from './runImport.ts';
import type { ImportSummary } from './summary.ts';
import { ImportFileError, RowTally } from './summary.ts';

const HEADER_NAMES = {
  user: ['user', 'user_id', 'userid', 'listener', 'username'],
  artist: ['artist', 'artistname', 'artist_name', 'name'],
  count: ['count', 'plays', 'playcount', 'play_count', 'weight'],
} as const;

/** `\t` for .tsv/.tab files or a first line with a tab, `,` otherwise. */
export async function detectDelimiter(path: string): Promise<string> {
  const extension = extname(path).toLowerCase();
  if (extension === '.tsv' || extension === '.tab') return '\t';
  if (extension === '.csv') return ',';
  for await (const { text } of readLines(path, 'utf8')) return text.includes('\t') ? '\t' : ',';
  return ',';
}

/** A count as written: plain decimal or exponent notation, nothing else. */
function parseCount(text: string): number {
  const trimmed = text.trim();
  return /^[+]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(trimmed) ? Number(trimmed) : Number.NaN;
}

/** Reads the triples into pooled interactions, without touching the database. */
export async function parseTriples(
  path: string,
  onBytes: (done: number, total: number) => void = () => {},
): Promise<ParsedImport> {
  const total = await fileSize(path, 'triples file');
  const delimiter = await detectDelimiter(path);
  const collector = new InteractionCollector();
  const tally = new RowTally();
  let columns = { user: 0, artist: 1, count: 2, fields: 3 };
  let first = true;
  let empty = true;

  for await (const record of readCsvRecords(path, delimiter, (bytes) => onBytes(bytes, total))) {
    empty = false;
    if (first && record.fields !== undefined) {
      first = false;
      const names = record.fields.map((name) => name.trim().toLowerCase());
      if (names.length >= 3 && !Number.isFinite(Number(names[2]))) {
        columns = headerColumns(path, names);
        continue;
      }
    }
    first = false;

    if (record.fields === undefined) {
      tally.reject(record.line, record.error);
      continue;
    }
    const { fields, line } = record;
    if (fields.length !== columns.fields) {
      tally.reject(line, `expected ${columns.fields} fields, found ${fields.length}`);
      continue;
    }
    const user = fields[columns.user].trim();
    const artist = fields[columns.artist].trim();
    const count = parseCount(fields[columns.count]);
    if (user === '') {
      tally.reject(line, 'empty user');
      continue;
    }
    if (isPlaceholderArtist(artist)) {
      tally.reject(line, `no artist (${JSON.stringify(artist.slice(0, 60))})`);
      continue;
    }
    if (!Number.isFinite(count) || count <= 0) {
      tally.reject(
        line,
        `count ${JSON.stringify(fields[columns.count].slice(0, 30))} is not a positive number`,
      );
      continue;
    }
    collector.add(user, artist, count);
    tally.keep();
  }
  if (empty) throw new ImportFileError(`${path} is empty`);

  return { artists: collector.artists(), interactions: collector.interactions(), tally };
}

function headerColumns(
  path: string,
  names: string[],
): { user: number; artist: number; count: number; fields: number } {
  const find = (choices: readonly string[]) => names.findIndex((name) => choices.includes(name));
  const user = find(HEADER_NAMES.user);
  const artist = find(HEADER_NAMES.artist);
  const count = find(HEADER_NAMES.count);
  if (user === -1 || artist === -1 || count === -1) {
    // An unnamed header (`a,b,c`) keeps the user, artist, count order.
    if (names.length === 3 && user === -1 && artist === -1 && count === -1) {
      return { user: 0, artist: 1, count: 2, fields: 3 };
    }
    throw new ImportFileError(
      `${path}: cannot tell the user, artist and count columns from the header ` +
        `"${names.join(',')}"`,
    );
  }
  return { user, artist, count, fields: names.length };
}

/**
 * Imports a triples file into the database: listeners `triples:<user>`, weight = summed counts.
 * Importing the same file again changes nothing. Streams the file; memory O(distinct pairs).
 */
export async function importTriples(
  storage: Storage,
  path: string,
  options: ImportOptions = {},
): Promise<ImportSummary> {
  await fileSize(path, 'triples file');
  return runImport(
    storage,
    {
      format: 'triples',
      path,
      files: [path],
      listenerSource: 'triples',
      parse: (onBytes) => parseTriples(path, onBytes),
    },
    options,
  );
}
