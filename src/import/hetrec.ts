/**
 * Reads the HetRec 2011 Last.fm folder (GroupLens `hetrec2011-lastfm-2k`) into memory as
 * listening data: artists x users play counts, artist tags and urls.
 *
 * Files: `artists.dat` (id, name, url, pictureURL; UTF-8), `user_artists.dat` (userID, artistID,
 * weight = play count), `tags.dat` (tagID, tagValue; Latin-1) and `user_taggedartists.dat`
 * (userID, artistID, tagID, day, month, year). All tab-separated with a header line; line ends
 * may be CRLF. The dataset spells some artists twice (`Scorpions` / `The Scorpions`, `Rihanna` /
 * `Rihannà`): those are merged by lookupKey, and placeholders (`[unknown]`, `Various Artists`)
 * are dropped together with their plays.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

import { isPlaceholderArtist, lookupKey } from '../model/lookupKey.ts';
import { buildCsr } from '../model/sparse.ts';
import type { CatalogueArtist, ListeningData } from '../model/types.ts';
import { fileSize, readLines } from './lines.ts';
import type { ImportSummary } from './summary.ts';
import { ImportFileError, RowTally } from './summary.ts';

export type { ImportSummary } from './summary.ts';

/** How many of an artist's most-applied tags are kept. */
export const TAGS_PER_ARTIST = 5;

/** The files of a HetRec folder that are read. */
export const HETREC_FILES = {
  artists: 'artists.dat',
  listening: 'user_artists.dat',
  tags: 'tags.dat',
  taggings: 'user_taggedartists.dat',
} as const;

/** The result of readHetrec: listening data plus how dataset ids map to kept ids. */
export interface HetrecData extends ListeningData {
  /** Every non-placeholder dataset artist id -> the id kept for its merged artist. */
  artistIdAliases: Map<number, number>;
  /** Kept id -> its top tags with how many times each was applied (the counts behind `tags`). */
  tagCounts: Map<number, [tag: string, count: number][]>;
  /** Counts over the rows of user_artists.dat; side-file problems are in `notes`. */
  summary: ImportSummary;
}

/** Options of readHetrec. */
export interface ReadHetrecOptions {
  /** Called as the files are read, with bytes read and total bytes of the four files. */
  onProgress?(done: number, total: number): void;
}

interface DatasetArtist {
  id: number;
  name: string;
  url: string | null;
}

/**
 * Reads a HetRec 2011 Last.fm folder (user_artists.dat, artists.dat, tags.dat,
 * user_taggedartists.dat; tab-separated, header line, CRLF, tags.dat Latin-1) into memory.
 * Artists merged by lookupKey (counts summed; the smallest dataset id is kept as the artist id,
 * with that id's name and url, and `artistIdAliases` maps every dataset id to the kept one),
 * placeholder artists dropped, tags = the artist's most-applied tags (top 5), url from
 * artists.dat. Users keep their dataset ids as strings (`'2'`), sorted numerically. Artists
 * with no kept play are left out; artists are sorted by id.
 *
 * Throws ImportFileError when the folder or a file is missing or a header is wrong; bad rows are
 * counted in the summary. Streams each file: O(rows) memory for the result only. About 1.6 s
 * of CPU for the full dataset.
 */
export async function readHetrec(
  dir: string,
  options: ReadHetrecOptions = {},
): Promise<HetrecData> {
  const started = performance.now();
  const folder = resolve(dir);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new ImportFileError(`HetRec folder ${folder} does not exist or is not a folder`);
  }

  // Sizes first, so that progress covers all four files and a missing file fails fast.
  const paths = {
    artists: join(folder, HETREC_FILES.artists),
    listening: join(folder, HETREC_FILES.listening),
    tags: join(folder, HETREC_FILES.tags),
    taggings: join(folder, HETREC_FILES.taggings),
  };
  const sizes = {
    artists: await fileSize(paths.artists, 'HetRec file'),
    listening: await fileSize(paths.listening, 'HetRec file'),
    tags: await fileSize(paths.tags, 'HetRec file'),
    taggings: await fileSize(paths.taggings, 'HetRec file'),
  };
  const totalBytes = sizes.artists + sizes.listening + sizes.tags + sizes.taggings;
  let finishedBytes = 0;
  const progressFrom = (offset: number) => (bytesRead: number) =>
    options.onProgress?.(offset + bytesRead, totalBytes);
  const notes: string[] = [];

  const catalogue = await readArtists(paths.artists, notes, progressFrom(finishedBytes));
  finishedBytes += sizes.artists;

  const tagNames = await readTagNames(paths.tags, notes, progressFrom(finishedBytes));
  finishedBytes += sizes.tags;

  const tagsByArtist = await readTaggings(
    paths.taggings,
    catalogue.aliases,
    tagNames,
    notes,
    progressFrom(finishedBytes),
  );
  finishedBytes += sizes.taggings;

  const listening = await readListening(paths.listening, catalogue, progressFrom(finishedBytes));
  options.onProgress?.(totalBytes, totalBytes);

  // Rows: artists with at least one kept play, by id. Columns: users, numerically.
  const artistIds = [...listening.playedArtists].sort((a, b) => a - b);
  const rowOf = new Map(artistIds.map((id, row) => [id, row]));
  const users = [...listening.userIds].sort(compareUserIds);
  const columnOf = new Map(users.map((user, column) => [user, column]));
  const artists: CatalogueArtist[] = artistIds.map((id) => {
    const artist = catalogue.kept.get(id)!;
    return {
      id,
      name: artist.name,
      key: lookupKey(artist.name),
      tags: (tagsByArtist.get(id) ?? []).map(([tag]) => tag),
      url: artist.url,
    };
  });

  const count = listening.artistIds.length;
  const rowIndices = new Int32Array(count);
  const columnIndices = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    rowIndices[i] = rowOf.get(listening.artistIds[i])!;
    columnIndices[i] = columnOf.get(listening.userIdsByRow[i])!;
  }
  const counts = buildCsr(
    artists.length,
    users.length,
    rowIndices,
    columnIndices,
    listening.weights,
  );

  const { tally } = listening;
  return {
    artists,
    users,
    counts,
    // The folder name only: a model header should not carry the trainer's own paths.
    source: `hetrec:${basename(folder)}`,
    artistIdAliases: catalogue.aliases,
    tagCounts: new Map(artistIds.map((id) => [id, tagsByArtist.get(id) ?? []])),
    summary: {
      source: 'hetrec',
      rowsRead: tally.rowsRead,
      rowsKept: tally.rowsKept,
      rowsRejected: tally.rowsRejected,
      rejected: tally.rejected,
      artists: artists.length,
      listeners: users.length,
      seconds: (performance.now() - started) / 1000,
      notes,
    },
  };
}

/** Dataset user ids are numbers written as text: order 2 < 10, any other text after them. */
function compareUserIds(a: string, b: string): number {
  const numberA = Number(a);
  const numberB = Number(b);
  const numericA = a !== '' && Number.isFinite(numberA);
  const numericB = b !== '' && Number.isFinite(numberB);
  if (numericA && numericB) return numberA - numberB;
  if (numericA !== numericB) return numericA ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Splits a tab-separated line; a trailing CR left by odd line ends is dropped. */
function fields(text: string): string[] {
  return text.replace(/\r$/, '').split('\t');
}

function expectHeader(path: string, first: string | undefined, expected: string[]): void {
  if (first === undefined) throw new ImportFileError(`${path} is empty`);
  const header = fields(first).map((name) => name.trim().toLowerCase());
  const matches = expected.every((name, index) => header[index] === name.toLowerCase());
  if (!matches) {
    throw new ImportFileError(
      `${path} does not look like a HetRec file: expected the header "${expected.join('\\t')}"`,
    );
  }
}

/** Parses a whole positive or zero integer written in decimal, or returns null. */
function parseId(text: string): number | null {
  return /^\d{1,15}$/.test(text.trim()) ? Number(text.trim()) : null;
}

interface Catalogue {
  /** Kept artists by kept id. */
  kept: Map<number, DatasetArtist>;
  /** Dataset id -> kept id, placeholders excluded. */
  aliases: Map<number, number>;
  /** Placeholder dataset ids and their names. */
  placeholders: Map<number, string>;
}

async function readArtists(
  path: string,
  notes: string[],
  onBytes: (bytes: number) => void,
): Promise<Catalogue> {
  const byKey = new Map<string, DatasetArtist>();
  const aliasKeys = new Map<number, string>();
  const placeholders = new Map<number, string>();
  let skipped = 0;
  let header: string | undefined;

  for await (const { number, text } of readLines(path, 'utf8', onBytes)) {
    if (number === 1) {
      header = text;
      expectHeader(path, header, ['id', 'name']);
      continue;
    }
    if (text.trim() === '') continue;
    const [idText, name = '', url = ''] = fields(text);
    const id = parseId(idText);
    if (id === null || aliasKeys.has(id) || placeholders.has(id)) {
      skipped++;
      if (skipped <= 3) notes.push(`${HETREC_FILES.artists} line ${number}: bad or repeated id`);
      continue;
    }
    if (isPlaceholderArtist(name)) {
      placeholders.set(id, name);
      continue;
    }

    // The smallest id of a key wins, with its own spelling and url.
    const key = lookupKey(name);
    aliasKeys.set(id, key);
    const current = byKey.get(key);
    if (current === undefined || id < current.id) {
      byKey.set(key, { id, name: name.trim(), url: url.trim() === '' ? null : url.trim() });
    }
  }
  if (header === undefined) throw new ImportFileError(`${path} is empty`);
  if (skipped > 3) notes.push(`${HETREC_FILES.artists}: ${skipped} lines skipped in all`);

  const kept = new Map<number, DatasetArtist>();
  for (const artist of byKey.values()) kept.set(artist.id, artist);
  const aliases = new Map<number, number>();
  for (const [id, key] of aliasKeys) aliases.set(id, byKey.get(key)!.id);
  const merged = aliases.size - kept.size;
  if (merged > 0) notes.push(`${merged} duplicate artist spellings merged into their first id`);
  if (placeholders.size > 0) {
    notes.push(
      `${placeholders.size} placeholder artists dropped (e.g. ` +
        `${[...placeholders.values()]
          .slice(0, 3)
          .map((name) => JSON.stringify(name))
          .join(', ')})`,
    );
  }
  return { kept, aliases, placeholders };
}

async function readTagNames(
  path: string,
  notes: string[],
  onBytes: (bytes: number) => void,
): Promise<Map<number, string>> {
  const names = new Map<number, string>();
  let skipped = 0;
  let sawHeader = false;
  for await (const { number, text } of readLines(path, 'latin1', onBytes)) {
    if (number === 1) {
      expectHeader(path, text, ['tagID', 'tagValue']);
      sawHeader = true;
      continue;
    }
    if (text.trim() === '') continue;
    const [idText, value = ''] = fields(text);
    const id = parseId(idText);
    if (id === null || value.trim() === '') {
      skipped++;
      continue;
    }
    names.set(id, value.trim());
  }
  if (!sawHeader) throw new ImportFileError(`${path} is empty`);
  if (skipped > 0) notes.push(`${HETREC_FILES.tags}: ${skipped} lines skipped`);
  return names;
}

/** Each kept artist's most-applied tags, most applied first, ties by tag text. */
async function readTaggings(
  path: string,
  aliases: Map<number, number>,
  tagNames: Map<number, string>,
  notes: string[],
  onBytes: (bytes: number) => void,
): Promise<Map<number, [string, number][]>> {
  const applications = new Map<number, Map<string, number>>();
  let unknown = 0;
  let sawHeader = false;
  for await (const { number, text } of readLines(path, 'utf8', onBytes)) {
    if (number === 1) {
      expectHeader(path, text, ['userID', 'artistID', 'tagID']);
      sawHeader = true;
      continue;
    }
    if (text.trim() === '') continue;
    const [, artistText = '', tagText = ''] = fields(text);
    const artistId = parseId(artistText);
    const tagId = parseId(tagText);
    const keptId = artistId === null ? undefined : aliases.get(artistId);
    const tag = tagId === null ? undefined : tagNames.get(tagId);
    if (keptId === undefined || tag === undefined) {
      unknown++;
      continue;
    }
    let tags = applications.get(keptId);
    if (tags === undefined) applications.set(keptId, (tags = new Map()));
    tags.set(tag, (tags.get(tag) ?? 0) + 1);
  }
  if (!sawHeader) throw new ImportFileError(`${path} is empty`);
  if (unknown > 0) {
    notes.push(`${HETREC_FILES.taggings}: ${unknown} taggings of unknown artists or tags ignored`);
  }

  const top = new Map<number, [string, number][]>();
  for (const [artistId, tags] of applications) {
    const ranked = [...tags].sort(
      (a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0),
    );
    top.set(artistId, ranked.slice(0, TAGS_PER_ARTIST));
  }
  return top;
}

interface ListeningRows {
  artistIds: number[];
  userIdsByRow: string[];
  weights: number[];
  playedArtists: Set<number>;
  userIds: Set<string>;
  tally: RowTally;
}

async function readListening(
  path: string,
  catalogue: Catalogue,
  onBytes: (bytes: number) => void,
): Promise<ListeningRows> {
  const rows: ListeningRows = {
    artistIds: [],
    userIdsByRow: [],
    weights: [],
    playedArtists: new Set(),
    userIds: new Set(),
    tally: new RowTally(),
  };
  const { tally } = rows;
  let sawHeader = false;

  for await (const { number, text } of readLines(path, 'utf8', onBytes)) {
    if (number === 1) {
      expectHeader(path, text, ['userID', 'artistID', 'weight']);
      sawHeader = true;
      continue;
    }
    if (text.trim() === '') continue;
    const parts = fields(text);
    if (parts.length < 3) {
      tally.reject(number, `expected 3 tab-separated fields, found ${parts.length}`);
      continue;
    }
    const user = parts[0].trim();
    const artistId = parseId(parts[1]);
    const weight = Number(parts[2]);
    if (user === '') {
      tally.reject(number, 'empty user id');
      continue;
    }
    if (artistId === null) {
      tally.reject(number, `artist id "${parts[1]}" is not a whole number`);
      continue;
    }
    if (parts[2].trim() === '' || !Number.isFinite(weight) || weight <= 0) {
      tally.reject(number, `play count "${parts[2]}" is not a positive number`);
      continue;
    }
    const keptId = catalogue.aliases.get(artistId);
    if (keptId === undefined) {
      const placeholder = catalogue.placeholders.get(artistId);
      tally.reject(
        number,
        placeholder === undefined
          ? `artist id ${artistId} is not in ${HETREC_FILES.artists}`
          : `placeholder artist ${JSON.stringify(placeholder)}`,
      );
      continue;
    }

    rows.artistIds.push(keptId);
    rows.userIdsByRow.push(user);
    rows.weights.push(weight);
    rows.playedArtists.add(keptId);
    rows.userIds.add(user);
    tally.keep();
  }
  if (!sawHeader) throw new ImportFileError(`${path} is empty`);
  return rows;
}
