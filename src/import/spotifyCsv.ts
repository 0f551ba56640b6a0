/**
 * Imports a Spotify playlists CSV, the input of the original project
 * (`"user_id", "artistname", "trackname", "playlistname"`, one row per track in a playlist).
 * The weight of (user, artist) is the number of the user's playlist tracks credited to the
 * artist; `A feat. B`, `A ft. B` and `A featuring B` (also in brackets) credit A and B both. `&`
 * never splits a credit: it belongs to real names (Simon & Garfunkel).
 *
 * Broken rows (wrong field count, unterminated or stray quotes, invalid UTF-8, empty user,
 * placeholder artist) are skipped and counted with their line numbers. The file must be UTF-8:
 * a line with invalid bytes is rejected rather than guessed at.
 */
import { isPlaceholderArtist } from '../model/lookupKey.ts';
import type { Storage } from '../storage/storage.ts';
import { InteractionCollector } from './collector.ts';
import { readCsvRecords } from './csvRecords.ts';
import { fileSize } from './lines.ts';
import type { ImportOptions, ParsedImport } from './runImport.ts';
import { runImport } from './runImport.ts';
import type { ImportSummary } from './summary.ts';
import { ImportFileError, RowTally } from './summary.ts';

const REQUIRED_COLUMNS = ['user_id', 'artistname', 'trackname', 'playlistname'] as const;

// `feat.`, `ft.`, `featuring`, optionally opening a bracket: `Drake (feat. Rihanna)`.
const FEATURING = /\s+[([]?\s*(?:feat\.?|ft\.?|featuring)\s+/iu;

/**
 * The artists a credit names: `Drake feat. Rihanna` -> [`Drake`, `Rihanna`]; brackets around a
 * featured part are dropped; anything else is one artist. O(length).
 */
export function splitCredits(credit: string): string[] {
  return credit
    .split(FEATURING)
    .map((part) => part.replace(/\s*[)\]]\s*$/u, '').trim())
    .filter((part) => part.length > 0);
}

/** Reads the CSV into pooled interactions, without touching the database. */
export async function parseSpotifyCsv(
  path: string,
  onBytes: (done: number, total: number) => void = () => {},
): Promise<ParsedImport> {
  const total = await fileSize(path, 'Spotify CSV');
  const collector = new InteractionCollector();
  const tally = new RowTally();
  let columns: { user: number; artist: number; count: number } | null = null;

  for await (const record of readCsvRecords(path, ',', (bytes) => onBytes(bytes, total))) {
    if (columns === null) {
      if (record.fields === undefined) {
        throw new ImportFileError(`${path}: the header line cannot be read (${record.error})`);
      }
      const names = record.fields.map((name) => name.trim().toLowerCase());
      const missing = REQUIRED_COLUMNS.filter((name) => !names.includes(name));
      if (missing.length > 0) {
        throw new ImportFileError(
          `${path} is not a Spotify playlists CSV: the header lacks ${missing.join(', ')} ` +
            `(expected "${REQUIRED_COLUMNS.join('", "')}")`,
        );
      }
      columns = {
        user: names.indexOf('user_id'),
        artist: names.indexOf('artistname'),
        count: names.length,
      };
      continue;
    }

    if (record.fields === undefined) {
      tally.reject(record.line, record.error);
      continue;
    }
    const { fields, line } = record;
    if (fields.length !== columns.count) {
      tally.reject(line, `expected ${columns.count} fields, found ${fields.length}`);
      continue;
    }
    const user = fields[columns.user].trim();
    if (user === '') {
      tally.reject(line, 'empty user_id');
      continue;
    }

    // Each named artist gets the track once, even if credited twice.
    const artists = splitCredits(fields[columns.artist].trim()).filter(
      (name) => !isPlaceholderArtist(name),
    );
    if (artists.length === 0) {
      tally.reject(line, `no artist (${JSON.stringify(fields[columns.artist].slice(0, 60))})`);
      continue;
    }
    const seen = new Set<string>();
    for (const name of artists) {
      if (seen.has(name)) continue;
      seen.add(name);
      collector.add(user, name, 1);
    }
    tally.keep();
  }
  if (columns === null) throw new ImportFileError(`${path} is empty`);

  return { artists: collector.artists(), interactions: collector.interactions(), tally };
}

/**
 * Imports a Spotify playlists CSV into the database: listeners `spotify:<user_id>`, weight =
 * tracks per artist. Importing the same file again changes nothing; a changed file at the same
 * path replaces its earlier rows. Streams the file; memory O(distinct user-artist pairs).
 */
export async function importSpotifyCsv(
  storage: Storage,
  path: string,
  options: ImportOptions = {},
): Promise<ImportSummary> {
  await fileSize(path, 'Spotify CSV');
  return runImport(
    storage,
    {
      format: 'spotify-csv',
      path,
      files: [path],
      listenerSource: 'spotify',
      parse: (onBytes) => parseSpotifyCsv(path, onBytes),
    },
    options,
  );
}
