import { test } from 'node:test';
import assert from 'node:assert/strict';

import { buildCsr } from '../src/model/sparse.ts';
import type { ListeningData } from '../src/model/types.ts';
import {
  factorCosineRanker,
  itemKnnRanker,
  popularityRanker,
} from '../src/eval/baselines.ts';
import { evaluateMethods, formatResultsTable, scoreSplit } from '../src/eval/protocol.ts';
import type { HoldoutSplit } from '../src/eval/split.ts';
import { seededRandom } from '../src/model/random.ts';

// Five artists x four users, dense for the independent computation.
const DENSE = [
  [3, 0, 1, 0],
  [0, 5, 0, 2],
  [1, 1, 1, 1],
  [0, 0, 7, 0],
  [2, 0, 0, 9],
];

function sparseOf(dense: number[][]) {
  const rows: number[] = [];
  const columns: number[] = [];
  const values: number[] = [];
  dense.forEach((row, r) => row.forEach((value, c) => {
    if (value === 0) return;
    rows.push(r);
    columns.push(c);
    values.push(value);
  }));
  return buildCsr(dense.length, dense[0].length, rows, columns, values);
}

function cosine(a: number[], b: number[]): number {
  const dot = a.reduce((sum, value, i) => sum + value * b[i], 0);
  const norm = (v: number[]) => Math.sqrt(v.reduce((sum, value) => sum + value * value, 0));
  return dot / (norm(a) * norm(b));
}

test('popularity ranks by train listeners and skips the user\'s artists', () => {
  const rank = popularityRanker(sparseOf(DENSE));
  // Listeners: artist 0: 2, 1: 2, 2: 4, 3: 1, 4: 2. Ties go to the lower row.
  assert.deepEqual(Array.from(rank(Int32Array.of(), 5, 0)), [2, 0, 1, 4, 3]);
  assert.deepEqual(Array.from(rank(Int32Array.of(2, 0), 2, 0)), [1, 4]);
});

test('item-kNN scores equal the sum of log1p cosines computed densely', () => {
  const rank = itemKnnRanker(sparseOf(DENSE));
  const logged = DENSE.map((row) => row.map(Math.log1p));
  const profile = [0, 3];
  const expected = logged
    .map((row, artist) => ({
      artist,
      score: profile.reduce((sum, other) => sum + cosine(row, logged[other]), 0),
    }))
    .filter((entry) => !profile.includes(entry.artist))
    .sort((a, b) => b.score - a.score || a.artist - b.artist)
    .map((entry) => entry.artist);
  assert.deepEqual(Array.from(rank(Int32Array.from(profile), 3, 0)), expected);
});

test('factor cosine ranking matches a dense computation and skips uncovered artists', () => {
  const k = 2;
  const factors = Float32Array.of(1, 0, 0.6, 0.8, 0, 2, 3, 3);
  // Artist rows 0..4 map to factor rows 0, 1, none, 2, 3.
  const rowOfArtist = Int32Array.of(0, 1, -1, 2, 3);
  const rank = factorCosineRanker(factors, k, rowOfArtist);
  const rows = [[1, 0], [0.6, 0.8], [0, 2], [3, 3]];
  const scoreOf = (factorRow: number) => cosine(rows[factorRow], rows[0]);
  // Profile = artist 0 alone: candidates are artists 1 (row 1), 3 (row 2), 4 (row 3).
  const expected = [1, 3, 4].sort((a, b) => scoreOf(rowOfArtist[b]) - scoreOf(rowOfArtist[a]));
  assert.deepEqual(Array.from(rank(Int32Array.of(0), 10, 0)), expected);
});

test('factor cosine ranking breaks ties by the tie-break values, then by row', () => {
  // All-zero factors (what the original pipeline's penalties produce): every score ties at 0.
  const factors = new Float32Array(5 * 2);
  const rowOfArtist = Int32Array.of(0, 1, 2, 3, -1);
  const listeners = [3, 9, 9, 1, 50];
  const rank = factorCosineRanker(factors, 2, rowOfArtist, listeners);
  // Artist 4 is not covered; artist 1 is a train artist; 2 has most listeners, then 0, then 3.
  assert.deepEqual(Array.from(rank(Int32Array.of(1), 10, 0)), [2, 0, 3]);
  assert.deepEqual(Array.from(rank(Int32Array.of(), 2, 0)), [1, 2]);

  // Scores still come first: a real cosine beats any tie-break value.
  const some = Float32Array.of(1, 0, 0, 1, 1, 0.1, 0, 0, 0, 0);
  const ranked = factorCosineRanker(some, 2, rowOfArtist, listeners);
  assert.deepEqual(Array.from(ranked(Int32Array.of(0), 3, 0)), [2, 1, 3]);
});

test('scoreSplit averages recall and nDCG over users and counts coverage', () => {
  const split: HoldoutSplit = {
    train: sparseOf(DENSE),
    users: Int32Array.of(0, 1),
    heldOut: [Int32Array.of(3), Int32Array.of(0, 4)],
    trainArtists: [Int32Array.of(0), Int32Array.of(1)],
  };
  const lists = [Int32Array.of(3, 2), Int32Array.of(2, 4)];
  let call = 0;
  const scores = scoreSplit(split, () => lists[call++], 2, 10);
  assert.equal(scores.recall, (1 + 1 / 2) / 2);
  const secondNdcg = 1 / Math.log2(3) / (1 + 1 / Math.log2(3));
  assert.ok(Math.abs(scores.ndcg - (1 + secondNdcg) / 2) < 1e-12);
  assert.equal(scores.coverage, 3 / 10);
});

/** Two taste groups of users over two groups of artists, with a few popular crossover artists. */
function plantedListening(seed: number): ListeningData {
  const random = seededRandom(seed);
  const artistsPerGroup = 30;
  const users = 80;
  const rows: number[] = [];
  const columns: number[] = [];
  const values: number[] = [];
  for (let user = 0; user < users; user++) {
    const group = user % 2;
    for (let a = 0; a < artistsPerGroup; a++) {
      if (random() < 0.35) {
        rows.push(group * artistsPerGroup + a);
        columns.push(user);
        values.push(1 + Math.floor(random() * 50));
      }
    }
  }
  const artistCount = 2 * artistsPerGroup;
  const artists = Array.from({ length: artistCount }, (_, id) => ({
    id, name: `Artist ${id}`, key: `artist ${id}`, tags: [], url: null,
  }));
  return {
    artists,
    users: Array.from({ length: users }, (_, user) => `user${user}`),
    counts: buildCsr(artistCount, users, rows, columns, values),
    source: 'planted',
  };
}

test('evaluateMethods: item-kNN finds held-out planted-group artists far better', async () => {
  const data = plantedListening(3);
  const results = await evaluateMethods(
    data,
    [
      { name: 'popularity', fit: async (train) => popularityRanker(train.counts) },
      { name: 'item-kNN', fit: async (train) => itemKnnRanker(train.counts) },
    ],
    { seeds: [1, 2], listLength: 10 },
  );
  assert.equal(results.length, 2);
  const [popularity, itemKnn] = results;
  for (const result of results) {
    for (const value of [result.recall, result.ndcg, result.coverage]) {
      assert.ok(value >= 0 && value <= 1);
    }
  }
  // Random would be about 10/50 = 0.2 recall; the group structure lets kNN reach well above.
  assert.ok(itemKnn.recall > 0.3, `item-kNN recall ${itemKnn.recall}`);
  assert.ok(itemKnn.recall > popularity.recall + 0.05);
  const table = formatResultsTable(results, 10);
  assert.match(table, /\| item-kNN \| 0\.\d{3} \| 0\.\d{3} \| 0\.\d{3} \|/);
});
