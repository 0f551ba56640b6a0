import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ArtistTable,
  artistCount,
  artistTableOf,
  modelWithArtistTable,
} from '../src/model/artistTable.ts';
import { buildArtistSearchIndex } from '../src/model/artistSearch.ts';
import { decodeModel, encodeModel } from '../src/model/modelFile.ts';
import { Recommender } from '../src/model/recommender.ts';
import type { ModelArtist } from '../src/model/types.ts';
import { tinyModel } from './support/tinyModel.ts';

const artist = (key: string, listeners = 1): ModelArtist => ({
  id: listeners + 100,
  name: key.toUpperCase(),
  key,
  listeners,
  tags: [],
  url: null,
});

test('a table over records gives keys, prefixes and the records themselves', () => {
  const records = [artist('the national', 5), artist('', 2), artist('björk', 9), artist('a')];
  const table = ArtistTable.fromRecords(records);
  assert.equal(table.size, 4);
  assert.deepEqual([0, 1, 2, 3].map((row) => table.key(row)), records.map((a) => a.key));
  assert.deepEqual([0, 1, 2, 3].map((row) => table.keyLength(row)), [12, 0, 5, 1]);
  assert.equal(table.artist(2), records[2]);
  assert.deepEqual(Array.from(table.listeners), [5, 2, 9, 1]);
  assert.deepEqual(Array.from(table.ids), [105, 102, 109, 101]);

  // A prefix must lie inside the row's own key, not run into the next one.
  assert.ok(table.keyHasPrefix(0, 'the'));
  assert.ok(table.keyHasPrefix(0, 'nat', 4));
  assert.ok(table.keyHasPrefix(0, 'national', 4));
  assert.ok(!table.keyHasPrefix(0, 'nationalb', 4));
  assert.ok(!table.keyHasPrefix(1, 'b'));
  assert.ok(table.keyHasPrefix(1, ''));
  assert.ok(table.keyHasPrefix(2, 'björk'));
  assert.ok(!table.keyHasPrefix(2, 'björka'));
  assert.ok(!table.keyHasPrefix(3, 'ab'));
});

test('records() is every record in row order, frozen, the same array each time', () => {
  const model = decodeModel(encodeModel(tinyModel()));
  const table = artistTableOf(model);
  const first = table.artist(7);
  const records = table.records();
  assert.equal(records, table.records());
  assert.equal(records[7], first);
  assert.ok(Object.isFrozen(records));
  assert.deepEqual(records, tinyModel().artists);
  assert.equal(model.artists, records);
});

test('a model built in memory gets a table over its own array', () => {
  const model = tinyModel();
  assert.equal(artistCount(model), model.artists.length);
  const table = artistTableOf(model);
  assert.equal(table.size, model.artists.length);
  for (let row = 0; row < model.artists.length; row++) {
    assert.equal(table.artist(row), model.artists[row]);
    assert.equal(table.key(row), model.artists[row].key);
  }
});

test('serving makes records only for the artists it answers with', () => {
  const model = tinyModel();
  const columns = ArtistTable.fromRecords(model.artists);
  const made = new Set<number>();
  const table = new ArtistTable(
    columns.ids,
    columns.listeners,
    columns.keyUnits,
    columns.keyStarts,
    (row) => {
      made.add(row);
      return { ...model.artists[row] };
    },
  );
  const { artists, ...fields } = model;
  const searchIndex = buildArtistSearchIndex(artists);
  const recommender = new Recommender(modelWithArtistTable({ ...fields, searchIndex }, table));
  assert.equal(made.size, 0, 'none on construction, with a stored search index');

  const shown = new Set<string>();
  const note = (list: { key: string }[]) => list.forEach((artist) => shown.add(artist.key));
  note(recommender.autocomplete('ra', 5));
  note(recommender.autocomplete('metalica', 5));
  const picks = recommender.recommend([{ artistKey: artists[8].key, weight: 2 }], 3);
  note(picks.flatMap((pick) => [pick.artist, pick.because]));
  assert.ok(made.size > 0);
  assert.deepEqual([...made].map((row) => artists[row].key).sort(), [...shown].sort());
  assert.equal(recommender.artistCount, artists.length);

  // /similar keeps a list of 25 neighbours per artist asked about: those records, no more.
  const before = made.size;
  recommender.similarArtists(artists[3], 4);
  assert.ok(made.size <= before + 25);
});
