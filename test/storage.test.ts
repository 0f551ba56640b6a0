import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import Database from 'better-sqlite3';

import { writeImport } from '../src/storage/importWriter.ts';
import type { ImportBatch } from '../src/storage/importWriter.ts';
import { readListeningData } from '../src/storage/listeningData.ts';
import { migrate, readMigrations } from '../src/storage/migrations.ts';
import { DEFAULT_DATABASE_PATH, openStorage } from '../src/storage/storage.ts';
import type { Storage } from '../src/storage/storage.ts';
import type { ListeningData } from '../src/model/types.ts';

let folder: string;
before(async () => {
  folder = await mkdtemp(join(tmpdir(), 'storage-test-'));
});
after(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** The matrix as { artist key: { user: weight } }. */
function asTable(data: ListeningData): Record<string, Record<string, number>> {
  const table: Record<string, Record<string, number>> = {};
  const { counts } = data;
  for (let row = 0; row < counts.rows; row++) {
    const cells: Record<string, number> = {};
    for (let i = counts.rowPointers[row]; i < counts.rowPointers[row + 1]; i++) {
      cells[data.users[counts.columnIndices[i]]] = counts.values[i];
    }
    table[data.artists[row].key] = cells;
  }
  return table;
}

test('openStorage creates and migrates a file once, in WAL mode with foreign keys', () => {
  const path = join(folder, 'nested', 'fresh.sqlite');
  const storage = openStorage(path);
  assert.equal(storage.database.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(storage.database.pragma('foreign_keys', { simple: true }), 1);
  assert.ok(Number(storage.database.pragma('busy_timeout', { simple: true })) > 0);
  const versions = () =>
    storage.database
      .prepare('SELECT version FROM schema_migrations ORDER BY version')
      .pluck()
      .all();
  assert.deepEqual(
    versions(),
    readMigrations().map((migration) => migration.version),
  );
  storage.addTaste('member', { key: 'drake', name: 'Drake' }, 3);
  storage.close();

  const again = openStorage(path);
  assert.equal(again.database.prepare('SELECT COUNT(*) FROM schema_migrations').pluck().get(), 1);
  assert.equal(again.listTaste('member').length, 1);
  again.close();
  assert.match(DEFAULT_DATABASE_PATH, /db[/\\]bot\.sqlite$/);
});

test('migrations: a new file upgrades an old database; an unknown version is refused', async () => {
  const directory = join(folder, 'migrations');
  await mkdir(directory);
  await writeFile(join(directory, '001_first.sql'), 'CREATE TABLE one (id INTEGER PRIMARY KEY);');
  const database = new Database(':memory:');
  assert.deepEqual(migrate(database, readMigrations(directory)), [1]);

  await writeFile(join(directory, '002_second.sql'), 'ALTER TABLE one ADD COLUMN name TEXT;');
  assert.deepEqual(migrate(database, readMigrations(directory)), [2]);
  assert.deepEqual(migrate(database, readMigrations(directory)), []);
  database.prepare("INSERT INTO one (name) VALUES ('works')").run();

  // A failing migration leaves no trace, not even half of its statements.
  await writeFile(join(directory, '003_broken.sql'), 'CREATE TABLE two (x); SELECT nonsense(;');
  assert.throws(() => migrate(database, readMigrations(directory)));
  const tables = database.prepare("SELECT name FROM sqlite_master WHERE name = 'two'").all();
  assert.deepEqual(tables, []);

  await rm(join(directory, '003_broken.sql'));
  await rm(join(directory, '002_second.sql'));
  assert.throws(() => migrate(database, readMigrations(directory)), /newer version/);
  database.close();
});

test('tastes: added, updated, listed by weight then name, removed and cleared', () => {
  const storage = openStorage(':memory:');
  assert.equal(storage.addTaste('u1', { key: 'drake', name: 'Drake' }, 2), 'added');
  assert.equal(storage.addTaste('u1', { key: 'adele', name: 'Adele' }, 5), 'added');
  assert.equal(storage.addTaste('u1', { key: 'bjork', name: 'Björk' }, 2), 'added');
  assert.equal(storage.addTaste('u2', { key: 'drake', name: 'Drake' }, 1), 'added');
  assert.equal(storage.addTaste('u1', { key: 'drake', name: 'DRAKE' }, 2.5), 'updated');

  const list = storage.listTaste('u1');
  assert.deepEqual(
    list.map((entry) => [entry.artistName, entry.weight]),
    [
      ['Adele', 5],
      ['DRAKE', 2.5],
      ['Björk', 2],
    ],
  );
  assert.ok(list[1].updatedAt >= list[1].addedAt);
  assert.ok(!Number.isNaN(Date.parse(list[0].addedAt)));

  assert.equal(storage.removeTaste('u1', 'adele'), true);
  assert.equal(storage.removeTaste('u1', 'adele'), false);
  assert.equal(storage.clearTaste('u1'), 2);
  assert.equal(storage.clearTaste('u1'), 0);
  assert.deepEqual(storage.listTaste('u1'), []);
  assert.equal(storage.listTaste('u2').length, 1);
  storage.close();
});

test('taste weights outside (0, 1000] are a RangeError and write nothing', () => {
  const storage = openStorage(':memory:');
  const artist = { key: 'drake', name: 'Drake' };
  for (const weight of [0, -1, 1000.001, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => storage.addTaste('u', artist, weight), RangeError);
  }
  assert.throws(() => storage.addTaste('u', artist, '5' as unknown as number), RangeError);
  assert.deepEqual(storage.listTaste('u'), []);
  assert.equal(storage.addTaste('u', artist, 1000), 'added');
  assert.equal(storage.addTaste('u', artist, 1e-6), 'updated');
  assert.equal(storage.listTaste('u')[0].weight, 1e-6);
  storage.close();
});

test('any text round-trips: emoji, 10k characters, SQL, NUL characters', () => {
  const storage = openStorage(':memory:');
  const strange = [
    '🎸🔥 Ünïcødé 東方神起',
    'x'.repeat(10_000),
    "Robert'); DROP TABLE tastes;--",
    'nul\u0000inside\u0000',
    'console:alice',
  ];
  for (const text of strange) {
    storage.addTaste(text, { key: text, name: text }, 1);
    const [entry] = storage.listTaste(text);
    assert.equal(entry.artistKey, text);
    assert.equal(entry.artistName, text);
    storage.logRequest({
      guildId: text,
      channelId: null,
      userId: text,
      command: 'similar',
      artistKey: text,
      artistName: text,
      query: text,
    });
    const row = storage.database
      .prepare(
        'SELECT guild_id, user_id, artist_key, artist_name, query FROM requests WHERE id = ?',
      )
      .raw()
      .get(storage.database.prepare('SELECT MAX(id) FROM requests').pluck().get()) as string[];
    assert.deepEqual(row, [text, text, text, text, text]);
  }
  assert.deepEqual(storage.memberCounts(), { members: 5, tastes: 5, requests: 5 });
  storage.close();
});

test('logRequest, memberCounts and forgetMember', () => {
  const storage = openStorage(':memory:');
  const at = new Date('2024-05-01T12:00:00Z');
  const request = (userId: string, artistKey: string | null) =>
    storage.logRequest({
      at,
      guildId: '1',
      channelId: '2',
      userId,
      command: 'similar',
      artistKey,
      artistName: artistKey,
      query: `artist:${artistKey}`,
    });
  request('a', 'drake');
  request('a', null);
  request('b', 'adele');
  storage.addTaste('a', { key: 'drake', name: 'Drake' }, 1);
  storage.addTaste('c', { key: 'adele', name: 'Adele' }, 1);
  assert.equal(
    storage.database.prepare('SELECT at FROM requests LIMIT 1').pluck().get(),
    '2024-05-01T12:00:00.000Z',
  );
  assert.deepEqual(storage.memberCounts(), { members: 3, tastes: 2, requests: 3 });

  assert.deepEqual(storage.forgetMember('a'), { tastes: 1, requests: 2 });
  assert.deepEqual(storage.forgetMember('a'), { tastes: 0, requests: 0 });
  assert.deepEqual(storage.memberCounts(), { members: 2, tastes: 1, requests: 1 });
  assert.throws(() => storage.logRequest({ ...requestRow(), userId: '' }), TypeError);
  assert.throws(
    () => storage.logRequest({ ...requestRow(), at: new Date('nonsense') }),
    RangeError,
  );
  storage.close();
});

function requestRow() {
  return {
    guildId: null,
    channelId: null,
    userId: 'u',
    command: 'recommend',
    artistKey: null,
    artistName: null,
    query: '',
  };
}

test('read-only open: never creates, never migrates, refuses writes', async () => {
  const missing = join(folder, 'missing.sqlite');
  assert.throws(() => openStorage(missing, { readonly: true }), /does not exist/);

  const blank = join(folder, 'blank.sqlite');
  new Database(blank).close();
  assert.throws(() => openStorage(blank, { readonly: true }), /not up to date/);

  const garbage = join(folder, 'garbage.sqlite');
  await writeFile(garbage, 'this is not a database, just text long enough to have a header....');
  assert.throws(() => openStorage(garbage), /Cannot open database/);

  const path = join(folder, 'shared.sqlite');
  const writer = openStorage(path);
  writer.addTaste('u', { key: 'drake', name: 'Drake' }, 4);
  const reader = openStorage(path, { readonly: true });
  assert.equal(reader.readonly, true);
  assert.deepEqual(
    reader.listTaste('u').map((entry) => entry.weight),
    [4],
  );
  assert.throws(() => reader.addTaste('u', { key: 'adele', name: 'Adele' }, 1), /readonly/i);

  // The writer keeps writing while the reader is open (WAL), and the reader sees it.
  writer.addTaste('u', { key: 'adele', name: 'Adele' }, 1);
  assert.equal(reader.listTaste('u').length, 2);
  writeImport(writer, batch('triples', '/c.csv', [['x', 'drake', 2]]));
  const data = readListeningData(reader, { members: { tasteWeight: 1, requestWeight: 1 } });
  assert.deepEqual(asTable(data), { drake: { 'triples:x': 2, 'discord:u': 4 } });
  reader.close();
  writer.close();
});

function batch(format: string, path: string, rows: [string, string, number][]): ImportBatch {
  const keys = [...new Set(rows.map(([, key]) => key))];
  return {
    file: { format, path, size: 1, sha256: `${format}${path}` },
    listenerSource: format,
    artists: keys.map((key) => ({ key, name: key.toUpperCase() })),
    interactions: rows.map(([userId, artistKey, weight]) => ({ userId, artistKey, weight })),
    counts: { rowsRead: rows.length, rowsKept: rows.length, rowsRejected: 0 },
  };
}

test('readListeningData sums sources, drops rare artists and adds members', () => {
  const storage = openStorage(':memory:');
  writeImport(
    storage,
    batch('triples', '/a.csv', [
      ['x', 'drake', 2],
      ['y', 'drake', 1],
      ['y', 'adele', 4],
      ['z', 'loner', 9],
    ]),
  );
  writeImport(
    storage,
    batch('triples', '/b.csv', [
      ['x', 'drake', 3],
      ['x', 'adele', 1],
    ]),
  );

  // Imported listeners only; weights of one listener summed over the two files.
  const data = readListeningData(storage);
  assert.deepEqual(data.users, ['triples:x', 'triples:y', 'triples:z']);
  assert.deepEqual(asTable(data), {
    drake: { 'triples:x': 5, 'triples:y': 1 },
    adele: { 'triples:x': 1, 'triples:y': 4 },
    loner: { 'triples:z': 9 },
  });
  assert.match(data.source, /^sqlite:/);

  // An artist with one listener goes, and so does the listener left with nothing.
  const common = readListeningData(storage, { minListeners: 2 });
  assert.deepEqual(
    common.artists.map((artist) => artist.key),
    ['drake', 'adele'],
  );
  assert.deepEqual(common.users, ['triples:x', 'triples:y']);

  // Members: taste weight x 10, each request + 0.5; unknown artists ignored.
  storage.addTaste('m1', { key: 'loner', name: 'Loner' }, 2);
  storage.addTaste('m1', { key: 'nobody-knows', name: 'Nobody' }, 2);
  storage.logRequest({ ...requestRow(), userId: 'm1', artistKey: 'loner' });
  storage.logRequest({ ...requestRow(), userId: 'm2', artistKey: 'drake' });
  storage.logRequest({ ...requestRow(), userId: 'm2', artistKey: 'drake' });
  storage.logRequest({ ...requestRow(), userId: 'm3', artistKey: null });
  const withMembers = readListeningData(storage, {
    minListeners: 2,
    members: { tasteWeight: 10, requestWeight: 0.5 },
  });
  assert.deepEqual(asTable(withMembers), {
    drake: { 'triples:x': 5, 'triples:y': 1, 'discord:m2': 1 },
    adele: { 'triples:x': 1, 'triples:y': 4 },
    loner: { 'triples:z': 9, 'discord:m1': 20.5 },
  });
  assert.deepEqual(withMembers.users, [
    'triples:x',
    'triples:y',
    'triples:z',
    'discord:m1',
    'discord:m2',
  ]);
  assert.equal(withMembers.counts.rows, withMembers.artists.length);
  assert.equal(withMembers.counts.columns, withMembers.users.length);
  storage.close();
});

test('writeImport is all or nothing', () => {
  const storage = openStorage(':memory:');
  const broken = batch('triples', '/broken.csv', [['x', 'drake', 2]]);
  broken.interactions.push({ userId: 'x', artistKey: 'not-in-batch', weight: 1 });
  assert.throws(() => writeImport(storage, broken), /not in the batch/);
  for (const table of ['artists', 'listeners', 'interactions', 'imports']) {
    assert.equal(storage.database.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get(), 0, table);
  }
  storage.close();
});

test('hasTrainingData is false on a new database and true once a member adds an artist', () => {
  const storage = openStorage(':memory:');
  try {
    assert.equal(storage.hasTrainingData(), false);
    storage.logRequest({ guildId: null, channelId: null, userId: 'u1', command: 'similar',
      artistKey: null, artistName: null, query: 'nobody' });
    assert.equal(storage.hasTrainingData(), true);
    storage.forgetMember('u1');
    assert.equal(storage.hasTrainingData(), false);
    storage.addTaste('u2', { key: 'radiohead', name: 'Radiohead' }, 1);
    assert.equal(storage.hasTrainingData(), true);
  } finally {
    storage.close();
  }
});
