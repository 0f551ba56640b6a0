import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { importCommand } from '../src/cli/import.ts';
import { splitRecord } from '../src/import/csvRecords.ts';
import { importHetrec } from '../src/import/importHetrec.ts';
import { importSpotifyCsv, parseSpotifyCsv, splitCredits } from '../src/import/spotifyCsv.ts';
import { ImportFileError } from '../src/import/summary.ts';
import { importTriples, parseTriples } from '../src/import/triples.ts';
import { readListeningData } from '../src/storage/listeningData.ts';
import { openStorage } from '../src/storage/storage.ts';
import type { Storage } from '../src/storage/storage.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const quiet = { quiet: true };

let folder: string;
before(async () => {
  folder = await mkdtemp(join(tmpdir(), 'import-test-'));
});
after(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** Every row of every data table, for before/after comparisons. */
function snapshot(storage: Storage, withImports = true): Record<string, unknown[]> {
  const tables = ['artists', 'artist_tags', 'artist_sources', 'listeners', 'interactions'];
  if (withImports) tables.push('imports');
  return Object.fromEntries(
    tables.map((table) => [
      table,
      storage.database.prepare(`SELECT * FROM ${table} ORDER BY 1, 2, 3`).raw().all(),
    ]),
  );
}

/** { listener: { artist name: summed weight } } straight from SQL. */
function weights(storage: Storage): Record<string, Record<string, number>> {
  const rows = storage.database
    .prepare(
      `
      SELECT l.source || ':' || l.external_id, a.name, SUM(i.weight)
      FROM interactions i
      JOIN listeners l ON l.id = i.listener_id
      JOIN artists a ON a.id = i.artist_id
      GROUP BY l.id, a.id`,
    )
    .raw()
    .all() as [string, string, number][];
  const table: Record<string, Record<string, number>> = {};
  for (const [listener, artist, weight] of rows) (table[listener] ??= {})[artist] = weight;
  return table;
}

test('splitRecord handles quotes, doubled quotes, spaces and stray text', () => {
  assert.deepEqual(splitRecord('"a", "b,c" ,d', ','), { fields: ['a', 'b,c', 'd'] });
  assert.deepEqual(splitRecord('"say ""hi""",x', ','), { fields: ['say "hi"', 'x'] });
  assert.deepEqual(splitRecord('Guns "N" Roses,1', ','), { fields: ['Guns "N" Roses', '1'] });
  assert.deepEqual(splitRecord('a\t"b\tc"\t', '\t'), { fields: ['a', 'b\tc', ''] });
  assert.deepEqual(splitRecord('"open,x', ','), { unterminated: true });
  assert.ok('error' in splitRecord('"a"b,c', ','));
});

test('splitCredits splits feat./ft./featuring only', () => {
  assert.deepEqual(splitCredits('Drake feat. Rihanna'), ['Drake', 'Rihanna']);
  assert.deepEqual(splitCredits('Beyoncé FT. Jay-Z'), ['Beyoncé', 'Jay-Z']);
  assert.deepEqual(splitCredits('Jay-Z (featuring Beyoncé)'), ['Jay-Z', 'Beyoncé']);
  assert.deepEqual(splitCredits('A feat B [ft. C]'), ['A', 'B', 'C']);
  assert.deepEqual(splitCredits('Simon & Garfunkel'), ['Simon & Garfunkel']);
  assert.deepEqual(splitCredits('Daft Punk'), ['Daft Punk']);
  assert.deepEqual(splitCredits('Earth, Wind & Fire'), ['Earth, Wind & Fire']);
});

test('hostile Spotify CSV: broken lines counted by line number, weight = tracks', async () => {
  const parsed = await parseSpotifyCsv(join(FIXTURES, 'spotify-hostile.csv'));
  const { tally } = parsed;
  assert.equal(tally.rowsRead, 19);
  assert.equal(tally.rowsKept, 12);
  assert.equal(tally.rowsRejected, 7);
  assert.deepEqual(
    tally.rejected.map((row) => row.line),
    [7, 8, 10, 14, 17],
  );
  assert.match(tally.rejected[0].reason, /expected 4 fields, found 3/);
  assert.match(tally.rejected[3].reason, /unterminated/);

  const byPair = Object.fromEntries(
    parsed.interactions.map((row) => [`${row.userId}/${row.artistKey}`, row.weight]),
  );
  assert.deepEqual(byPair, {
    'u1/simon and garfunkel': 2,
    'u1/earth wind and fire': 1,
    'u2/drake': 1,
    'u2/rihanna': 2,
    'u3/bjork': 1,
    'u3/東方神起': 1,
    'u4/beyonce': 2,
    'u4/jay z': 2,
    'u5/rihanna': 1,
    'u5/robert drop table': 1,
    'u6/rihanna': 1,
  });
  const names = parsed.artists.map((artist) => artist.name);
  assert.ok(names.includes('Björk') && names.includes('東方神起'));
  assert.ok(names.includes('Robert DROP TABLE"; --'));
});

test('Spotify import: twice changes nothing, --force rewrites the same rows', async () => {
  const path = join(folder, 'playlists.csv');
  await copyFile(join(FIXTURES, 'spotify-hostile.csv'), path);
  const storage = openStorage(join(folder, 'spotify.sqlite'));

  const first = await importSpotifyCsv(storage, path, quiet);
  assert.equal(first.rowsKept, 12);
  assert.equal(first.listeners, 6);
  assert.equal(first.artists, 9);
  const before = snapshot(storage);
  assert.equal(weights(storage)['spotify:u2'].Rihanna, 2);

  const second = await importSpotifyCsv(storage, path, quiet);
  assert.match(second.notes?.[0] ?? '', /unchanged/);
  assert.deepEqual(snapshot(storage), before);

  await importSpotifyCsv(storage, path, { ...quiet, force: true });
  assert.deepEqual(
    snapshot(storage, false),
    Object.fromEntries(Object.entries(before).filter(([table]) => table !== 'imports')),
  );

  // A changed file at the same path replaces what it wrote: u6's row is gone.
  await writeFile(
    path,
    '"user_id", "artistname", "trackname", "playlistname"\n"u1","Adele","Hello","P"\n',
  );
  await importSpotifyCsv(storage, path, quiet);
  assert.deepEqual(weights(storage), { 'spotify:u1': { Adele: 1 } });
  storage.close();
});

test('triples: CSV with header and TSV without, bad counts rejected, sums pooled', async () => {
  const csv = await parseTriples(join(FIXTURES, 'triples.csv'));
  assert.equal(csv.tally.rowsRead, 11);
  assert.equal(csv.tally.rowsKept, 5);
  assert.deepEqual(
    csv.tally.rejected.map((row) => row.line),
    [5, 6, 8, 9, 10],
  );
  assert.equal(csv.tally.rowsRejected, 6);

  const storage = openStorage(':memory:');
  await importTriples(storage, join(FIXTURES, 'triples.csv'), quiet);
  await importTriples(storage, join(FIXTURES, 'triples-noheader.tsv'), quiet);
  assert.deepEqual(weights(storage), {
    'triples:alice': { Drake: 18 },
    'triples:bob': { Drake: 2, 'The Beatles': 5 },
    'triples:carol': { 'Earth, Wind & Fire': 7, 'Mötley Crüe': 2 },
    'triples:dave': { Adele: 2.5 },
  });

  // Training data read back agrees with the SQL sums.
  const data = readListeningData(storage);
  const drakeRow = data.artists.findIndex((artist) => artist.key === 'drake');
  const { rowPointers, values } = data.counts;
  let drakeTotal = 0;
  for (let i = rowPointers[drakeRow]; i < rowPointers[drakeRow + 1]; i++) drakeTotal += values[i];
  assert.equal(drakeTotal, 20);
  storage.close();
});

test('a line that is not valid UTF-8 is rejected, not guessed at', async () => {
  const path = join(folder, 'latin1.csv');
  const latin1 = Buffer.from('user,artist,count\nana,Mot\xf6rhead,3\nana,Adele,2\n', 'latin1');
  await writeFile(path, latin1);
  const parsed = await parseTriples(path);
  assert.equal(parsed.tally.rowsKept, 1);
  assert.deepEqual(parsed.tally.rejected, [
    { line: 2, reason: 'invalid UTF-8 (the file must be UTF-8)' },
  ]);
});

test('empty, missing and wrong-format files fail with a clear message', async () => {
  const storage = openStorage(':memory:');
  const empty = join(folder, 'empty.csv');
  await writeFile(empty, '');
  await assert.rejects(importTriples(storage, empty, quiet), /is empty/);
  await assert.rejects(importSpotifyCsv(storage, empty, quiet), /is empty/);
  await assert.rejects(
    importSpotifyCsv(storage, join(folder, 'nope.csv'), quiet),
    /does not exist/,
  );
  await assert.rejects(
    importSpotifyCsv(storage, join(FIXTURES, 'triples.csv'), quiet),
    (error: unknown) => error instanceof ImportFileError && /lacks user_id/.test(error.message),
  );
  await assert.rejects(importHetrec(storage, folder, quiet), /artists\.dat does not exist/);
  assert.equal(storage.database.prepare('SELECT COUNT(*) FROM imports').pluck().get(), 0);
  storage.close();
});

test('HetRec import keeps dataset ids, records aliases and is idempotent', async () => {
  const storage = openStorage(':memory:');
  const summary = await importHetrec(storage, join(FIXTURES, 'hetrec-small'), quiet);
  assert.equal(summary.rowsKept, 6);
  assert.equal(summary.artists, 4);
  assert.equal(summary.listeners, 3);

  const artists = storage.database.prepare('SELECT id, name FROM artists ORDER BY id').raw().all();
  assert.deepEqual(artists, [
    [2, 'Scorpions'],
    [3, 'Beyoncé'],
    [7, '東方神起'],
    [9, 'Simon & Garfunkel'],
  ]);
  const alias = storage.database
    .prepare("SELECT artist_id FROM artist_sources WHERE source = 'hetrec' AND external_id = '5'")
    .pluck()
    .get();
  assert.equal(alias, 2);
  const tags = storage.database
    .prepare('SELECT tag, count FROM artist_tags WHERE artist_id = 2 ORDER BY count DESC, tag')
    .raw()
    .all();
  assert.deepEqual(tags.slice(0, 2), [
    ['rock', 3],
    ['hard rock', 2],
  ]);

  const data = readListeningData(storage);
  assert.deepEqual(data.users, ['hetrec:2', 'hetrec:3', 'hetrec:10']);
  assert.deepEqual(
    data.artists.map((artist) => [artist.id, artist.tags[0] ?? null]),
    [
      [2, 'rock'],
      [3, 'pop'],
      [7, 'k-pop'],
      [9, 'folk'],
    ],
  );

  const before = snapshot(storage, false);
  await importHetrec(storage, join(FIXTURES, 'hetrec-small'), { ...quiet, force: true });
  assert.deepEqual(snapshot(storage, false), before);
  storage.close();
});

test('CLI import: exit codes and summary', async () => {
  const database = join(folder, 'cli.sqlite');
  const printed: string[] = [];
  const originalLog = console.log;
  const originalError = console.error;
  console.log = (...parts: unknown[]) => printed.push(parts.join(' '));
  console.error = (...parts: unknown[]) => printed.push(parts.join(' '));
  try {
    const ok = await importCommand.run([
      '--format',
      'triples',
      join(FIXTURES, 'triples.csv'),
      '--database',
      database,
      '--quiet',
    ]);
    assert.equal(ok, 0);
    assert.match(printed.join('\n'), /11 rows read, 5 kept, 6 rejected/);

    const missing = await importCommand.run([
      '-f',
      'triples',
      join(folder, 'absent.csv'),
      '--database',
      database,
      '--quiet',
    ]);
    assert.equal(missing, 1);
    assert.match(printed.join('\n'), /does not exist/);
    await assert.rejects(importCommand.run(['--format', 'mp3', 'x']), /--format must be one of/);
    await assert.rejects(importCommand.run(['--format', 'triples']), /exactly one PATH/);
  } finally {
    console.log = originalLog;
    console.error = originalError;
  }
});
