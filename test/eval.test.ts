import { test } from 'node:test';
import assert from 'node:assert/strict';

import { buildCsr, transposeCsr } from '../src/model/sparse.ts';
import type { SparseMatrix } from '../src/model/sparse.ts';
import { heldOutCount, holdoutSplit } from '../src/eval/split.ts';
import { catalogueCoverage, ndcgAtN, recallAtN, topN } from '../src/eval/metrics.ts';
import { seededRandom } from '../src/model/random.ts';

/** Artists x users matrix where user u listens to `sizes[u]` distinct random artists. */
function randomListening(artists: number, sizes: number[], seed: number): SparseMatrix {
  const random = seededRandom(seed);
  const rows: number[] = [];
  const columns: number[] = [];
  const values: number[] = [];
  sizes.forEach((size, user) => {
    const chosen = new Set<number>();
    while (chosen.size < size) chosen.add(Math.floor(random() * artists));
    for (const artist of chosen) {
      rows.push(artist);
      columns.push(user);
      values.push(1 + Math.floor(random() * 100));
    }
  });
  return buildCsr(artists, sizes.length, rows, columns, values);
}

function userArtists(matrix: SparseMatrix, user: number): Map<number, number> {
  const byUser = transposeCsr(matrix);
  const result = new Map<number, number>();
  for (let i = byUser.rowPointers[user]; i < byUser.rowPointers[user + 1]; i++) {
    result.set(byUser.columnIndices[i], byUser.values[i]);
  }
  return result;
}

const SIZES = [3, 4, 5, 6, 10, 12, 23, 40, 1, 7];

test('holdoutSplit hides round(20%) (at least one) of each user with >= 5 artists', () => {
  const counts = randomListening(60, SIZES, 1);
  const split = holdoutSplit(counts, { fraction: 0.2, minArtists: 5, seed: 7 });

  const evaluated = SIZES.map((size, user) => (size >= 5 ? user : -1)).filter((u) => u >= 0);
  assert.deepEqual(Array.from(split.users), evaluated);

  for (let i = 0; i < split.users.length; i++) {
    const user = split.users[i];
    const original = userArtists(counts, user);
    const kept = userArtists(split.train, user);
    const expectedHidden = Math.max(1, Math.round(0.2 * SIZES[user]));
    assert.equal(split.heldOut[i].length, expectedHidden);
    assert.equal(heldOutCount(SIZES[user], 0.2), expectedHidden);

    // Held-out and kept partition the user's artists, and kept cells keep their counts.
    assert.equal(kept.size + split.heldOut[i].length, original.size);
    for (const artist of split.heldOut[i]) {
      assert.ok(original.has(artist));
      assert.ok(!kept.has(artist));
    }
    for (const [artist, count] of kept) assert.equal(count, original.get(artist));
    assert.deepEqual(Array.from(split.trainArtists[i]), [...kept.keys()].sort((a, b) => a - b));
  }
});

test('holdoutSplit leaves users with fewer than 5 artists untouched', () => {
  const counts = randomListening(60, SIZES, 2);
  const split = holdoutSplit(counts, { fraction: 0.2, minArtists: 5, seed: 3 });
  SIZES.forEach((size, user) => {
    if (size >= 5) return;
    assert.deepEqual(userArtists(split.train, user), userArtists(counts, user));
  });
  assert.equal(split.train.rows, counts.rows);
  assert.equal(split.train.columns, counts.columns);
});

test('holdoutSplit is reproducible for a seed and differs between seeds', () => {
  const counts = randomListening(200, [30, 30, 30, 30, 30], 4);
  const first = holdoutSplit(counts, { fraction: 0.2, minArtists: 5, seed: 11 });
  const again = holdoutSplit(counts, { fraction: 0.2, minArtists: 5, seed: 11 });
  const other = holdoutSplit(counts, { fraction: 0.2, minArtists: 5, seed: 12 });
  const lists = (split: typeof first) => split.heldOut.map((artists) => Array.from(artists));
  assert.deepEqual(lists(first), lists(again));
  assert.notDeepEqual(lists(first), lists(other));
});

test('holdoutSplit hides about 20% of a large user population overall', () => {
  const sizes = Array.from({ length: 300 }, (_, u) => 5 + (u % 50));
  const counts = randomListening(400, sizes, 5);
  const split = holdoutSplit(counts, { fraction: 0.2, minArtists: 5, seed: 1 });
  const hidden = split.heldOut.reduce((sum, list) => sum + list.length, 0);
  const total = sizes.reduce((sum, size) => sum + size, 0);
  assert.ok(Math.abs(hidden / total - 0.2) < 0.01, `hidden share ${hidden / total}`);
});

test('holdoutSplit rejects a fraction outside (0, 1) and a tiny minArtists', () => {
  const counts = randomListening(10, [5], 1);
  assert.throws(() => holdoutSplit(counts, { fraction: 1.5, minArtists: 5, seed: 1 }), /fraction/);
  assert.throws(
    () => holdoutSplit(counts, { fraction: 0.2, minArtists: 1, seed: 1 }),
    /minArtists/,
  );
});

test('recallAtN and ndcgAtN match hand-computed values', () => {
  // Relevant {1, 2, 9}; the list finds 1 at rank 2 and 2 at rank 4.
  const list = [3, 1, 7, 2];
  const relevant = [1, 2, 9];
  assert.equal(recallAtN(list, relevant, 4), 2 / 3);
  assert.equal(recallAtN(list, relevant, 3), 1 / 3);
  // Only one relevant item: the denominator is min(N, 1) = 1.
  assert.equal(recallAtN(list, [7], 4), 1);

  const ideal = 1 + 1 / Math.log2(3) + 1 / Math.log2(4);
  const gain = 1 / Math.log2(3) + 1 / Math.log2(5);
  assert.ok(Math.abs(ndcgAtN(list, relevant, 4) - gain / ideal) < 1e-12);
  assert.ok(Math.abs(ndcgAtN(list, relevant, 4) - 0.498189) < 1e-6);
  assert.equal(ndcgAtN([9, 1, 2], relevant, 3), 1);
  assert.equal(ndcgAtN([5, 6], relevant, 2), 0);
  // With N = 2 and three relevant items, the ideal list holds two hits.
  const twoIdeal = 1 + 1 / Math.log2(3);
  assert.ok(Math.abs(ndcgAtN([4, 9], relevant, 2) - 1 / Math.log2(3) / twoIdeal) < 1e-12);
});

test('catalogueCoverage counts distinct recommended items', () => {
  assert.equal(catalogueCoverage([[1, 2, 3], [3, 4], [1]], 8), 4 / 8);
});

test('topN returns the best scores first, skipping excluded and non-finite ones', () => {
  const scores = [0.5, 2, Number.NaN, 2, 9, -1, Number.NEGATIVE_INFINITY, 3];
  assert.deepEqual(Array.from(topN(scores, 3)), [4, 7, 1]);
  assert.deepEqual(Array.from(topN(scores, 3, [4])), [7, 1, 3]);
  assert.deepEqual(Array.from(topN(scores, 20, [4, 7])), [1, 3, 0, 5]);
});
