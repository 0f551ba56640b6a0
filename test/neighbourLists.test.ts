import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { decodeModel, encodeModel, ModelFileError } from '../src/model/modelFile.ts';
import { CACHED_NEIGHBOURS, Recommender } from '../src/model/recommender.ts';
import { trainModel } from '../src/model/train.ts';
import type { ListeningData, ModelData } from '../src/model/types.ts';
import { buildCsr } from '../src/model/sparse.ts';
import { lookupKey } from '../src/model/lookupKey.ts';
import { tinyModel } from './support/tinyModel.ts';

/**
 * The best `count` scores of `row` computed here in float64 from the embedding, independently of
 * the recommender: cosine x n / (n + 3), the artist itself and non-positive cosines left out.
 */
function bruteForceScores(model: ModelData, row: number, count: number): number[] {
  const k = model.components;
  const scores: number[] = [];
  for (let other = 0; other < model.artists.length; other++) {
    if (other === row) continue;
    let dot = 0;
    for (let c = 0; c < k; c++) {
      dot += model.similarityEmbedding[row * k + c] * model.similarityEmbedding[other * k + c];
    }
    const n = model.artists[other].listeners;
    if (dot > 0) scores.push((dot * n) / (n + 3));
  }
  return scores.sort((a, b) => b - a).slice(0, count);
}

test('stored lists answer exactly as ranking does, and match an independent ranking', () => {
  const model = tinyModel();
  const ranked = new Recommender(model);
  const lists = ranked.neighbourLists(model.artists.length);
  assert.equal(lists.width, CACHED_NEIGHBOURS);
  assert.equal(lists.artists.length, model.artists.length);

  const stored = new Recommender({ ...model, neighbourLists: lists });
  for (const [row, artist] of model.artists.entries()) {
    const answer = stored.similarArtists(artist, 25);
    assert.deepEqual(answer, ranked.similarArtists(artist, 25), artist.name);
    const expected = bruteForceScores(model, row, 25);
    assert.equal(answer.length, expected.length, artist.name);
    for (const [i, entry] of answer.entries()) {
      assert.ok(Math.abs(entry.score - expected[i]) < 1e-6, `${artist.name} #${i}`);
      assert.notEqual(entry.artist.key, artist.key);
    }
  }
});

test('lists cover the most listened artists first; the others are still ranked when asked', () => {
  const model = tinyModel();
  const lists = new Recommender(model).neighbourLists(5);
  const listeners = [...model.artists.map((artist) => artist.listeners)].sort((a, b) => b - a);
  assert.deepEqual(
    [...lists.artists].map((row) => model.artists[row].listeners),
    listeners.slice(0, 5),
  );

  const partly = new Recommender({ ...model, neighbourLists: lists });
  const ranked = new Recommender(model);
  for (const artist of model.artists) {
    assert.deepEqual(partly.similarArtists(artist, 10), ranked.similarArtists(artist, 10));
  }
});

test('neighbour lists survive the model file, and damaged ones are refused', () => {
  const model = tinyModel();
  model.neighbourLists = new Recommender(model).neighbourLists(10);
  const decoded = decodeModel(encodeModel(model));
  assert.deepEqual(decoded.neighbourLists, model.neighbourLists);

  // A model without lists is written with none and read back without any.
  assert.equal(decodeModel(encodeModel(tinyModel())).neighbourLists, undefined);

  // Damage that encoding refuses outright.
  const n = model.artists.length;
  const damaged: [string, (lists: NonNullable<ModelData['neighbourLists']>) => void][] = [
    ['row past the end', (lists) => (lists.neighbours[3] = n)],
    ['itself', (lists) => (lists.neighbours[0] = lists.artists[0])],
    ['a repeat', (lists) => (lists.neighbours[1] = lists.neighbours[0])],
    ['a list for a missing artist', (lists) => (lists.artists[2] = -4)],
  ];
  for (const [what, damage] of damaged) {
    const copy = tinyModel();
    const lists = new Recommender(copy).neighbourLists(10);
    damage(lists);
    copy.neighbourLists = lists;
    assert.throws(() => encodeModel(copy), ModelFileError, what);
  }

  // The same damage in a file whose checksum was forged to match.
  const bytes = encodeModel(model);
  const header = JSON.parse(bytes.toString('utf8', 16, 16 + bytes.readUInt32LE(12)));
  const section = header.sections.find((s: { name: string }) => s.name === 'neighbourRows');
  const forged = Buffer.from(bytes);
  forged.writeInt32LE(n + 7, section.offset);
  forged.writeUInt32LE(crc32(forged.subarray(0, forged.length - 4)), forged.length - 4);
  assert.throws(
    () => decodeModel(forged, 'forged.nmf'),
    (error: Error) =>
      error instanceof ModelFileError && /forged\.nmf: has damaged neighbour lists/.test(error.message),
  );
});

test('the trainer stores lists for every artist of a small catalogue, none when asked not to', async () => {
  // Two blocks of listeners with their own artists, so every artist has neighbours.
  const names = ['A1', 'A2', 'A3', 'A4', 'B1', 'B2', 'B3', 'B4'];
  const entries: [number, number, number][] = [];
  for (let user = 0; user < 40; user++) {
    const block = user % 2;
    for (let a = 0; a < 4; a++) {
      if ((user + a) % 3 !== 0) entries.push([block * 4 + a, user, 1 + ((user * a) % 5)]);
    }
  }
  const data: ListeningData = {
    source: 'test:blocks',
    artists: names.map((name, i) => ({
      id: 500 + i, name, key: lookupKey(name), tags: [], url: null,
    })),
    users: Array.from({ length: 40 }, (_, i) => `u${i}`),
    counts: buildCsr(8, 40, entries.map((e) => e[0]), entries.map((e) => e[1]),
      entries.map((e) => e[2])),
  };
  const parameters = {
    solver: 'implicit' as const, confidence: 1, components: 2, weighting: 'log1p' as const,
    seed: 3, maxIterations: 10, tolerance: 1e-6, l1Artist: 0, l2Artist: 0.1, l1User: 0,
    l2User: 0.1, minListeners: 1,
  };
  const model = await trainModel(data, parameters, { threads: 1 });
  assert.equal(model.neighbourLists?.artists.length, 8);
  const served = new Recommender(model);
  const ranked = new Recommender({ ...model, neighbourLists: undefined });
  for (const artist of model.artists) {
    assert.deepEqual(served.similarArtists(artist, 5), ranked.similarArtists(artist, 5));
    assert.equal(served.similarArtists(artist, 1)[0]?.artist.name[0], artist.name[0]);
  }

  const bare = await trainModel(data, parameters, { threads: 1, neighbourListArtists: 0 });
  assert.equal(bare.neighbourLists, undefined);
});
