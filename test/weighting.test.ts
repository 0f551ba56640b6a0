import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCsr } from '../src/model/sparse.ts';
import type { SparseMatrix } from '../src/model/sparse.ts';
import { applyWeighting, BM25_B, BM25_K1 } from '../src/model/weighting.ts';

// 5 artists x 4 users:
//          u0  u1  u2  u3
//   a0      2   4   .   .
//   a1      1   .   3   .
//   a2      .  50   1   2
//   a3      .   .   .   7
//   a4      .   .   .   1
const cells: [number, number, number][] = [
  [0, 0, 2],
  [0, 1, 4],
  [1, 0, 1],
  [1, 2, 3],
  [2, 1, 50],
  [2, 2, 1],
  [2, 3, 2],
  [3, 3, 7],
  [4, 3, 1],
];
const counts = buildCsr(
  5,
  4,
  cells.map((c) => c[0]),
  cells.map((c) => c[1]),
  cells.map((c) => c[2]),
);

function cell(matrix: SparseMatrix, row: number, column: number): number {
  for (let i = matrix.rowPointers[row]; i < matrix.rowPointers[row + 1]; i++) {
    if (matrix.columnIndices[i] === column) return matrix.values[i];
  }
  return 0;
}

function assertClose(actual: number, expected: number, label: string): void {
  assert.ok(
    Math.abs(actual - expected) <= 1e-6 * Math.max(1, Math.abs(expected)),
    `${label}: ${actual} vs ${expected}`,
  );
}

test('raw keeps the counts and returns a new matrix', () => {
  const weighted = applyWeighting(counts, 'raw');
  for (const [r, c, x] of cells) assert.equal(cell(weighted, r, c), x);
  assert.notEqual(weighted.values, counts.values);
});

test('log1p is log(1 + x) on every stored cell, leaving the input untouched', () => {
  const weighted = applyWeighting(counts, 'log1p');
  for (const [r, c, x] of cells) assertClose(cell(weighted, r, c), Math.log(1 + x), `(${r},${c})`);
  assert.equal(cell(counts, 2, 1), 50);
});

test('user-max divides each user column by its largest count', () => {
  const weighted = applyWeighting(counts, 'user-max');
  // Column maxima by hand: u0 2, u1 50, u2 3, u3 7.
  const maxima = [2, 50, 3, 7];
  for (const [r, c, x] of cells) assertClose(cell(weighted, r, c), x / maxima[c], `(${r},${c})`);
  assert.equal(cell(weighted, 3, 3), 1);
});

test('bm25 matches the implicit library formula computed by hand', () => {
  const weighted = applyWeighting(counts, 'bm25');

  // Artists played per user: u0 2, u1 2, u2 2, u3 3; idf = log(5) - log(1 + played).
  const idf = [2, 2, 2, 3].map((played) => Math.log(5) - Math.log(1 + played));
  // Artist totals 6, 4, 53, 7, 1 -> mean 14.2.
  const totals = [6, 4, 53, 7, 1];
  const mean = 71 / 5;
  for (const [r, c, x] of cells) {
    const norm = 1 - BM25_B + (BM25_B * totals[r]) / mean;
    const expected = ((x * (BM25_K1 + 1)) / (BM25_K1 * norm + x)) * idf[c];
    assertClose(cell(weighted, r, c), Math.max(0, expected), `(${r},${c})`);
  }
  assert.ok(cell(weighted, 0, 0) > 0);
});

test('bm25 clamps the weight of a user who played nearly every artist to zero', () => {
  // One user played all 3 artists: idf = log 3 - log 4 < 0.
  const everyone = buildCsr(3, 2, [0, 1, 2, 0], [0, 0, 0, 1], [1, 2, 3, 4]);
  const weighted = applyWeighting(everyone, 'bm25');
  assert.equal(cell(weighted, 1, 0), 0);
  assert.ok(cell(weighted, 0, 1) > 0);
});

test('an unknown weighting is a RangeError naming the choices', () => {
  assert.throws(() => applyWeighting(counts, 'tfidf' as never), /Unknown weighting "tfidf".*bm25/);
});
