import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCsr, nonzeros, rowCounts, selectRows, transposeCsr } from '../src/model/sparse.ts';
import type { SparseMatrix } from '../src/model/sparse.ts';

/** The matrix as nested arrays, for comparing against a hand-written expectation. */
function dense(matrix: SparseMatrix): number[][] {
  const result = Array.from({ length: matrix.rows }, () =>
    new Array<number>(matrix.columns).fill(0),
  );
  for (let r = 0; r < matrix.rows; r++) {
    for (let i = matrix.rowPointers[r]; i < matrix.rowPointers[r + 1]; i++) {
      result[r][matrix.columnIndices[i]] += matrix.values[i];
    }
  }
  return result;
}

test('buildCsr sums duplicate cells, orders columns and drops explicit zeros', () => {
  const matrix = buildCsr(3, 4, [2, 0, 2, 0, 1, 2], [3, 1, 0, 1, 2, 3], [1, 2, 5, 3, 0, 4]);

  assert.deepEqual(dense(matrix), [
    [0, 5, 0, 0],
    [0, 0, 0, 0],
    [5, 0, 0, 5],
  ]);
  assert.equal(nonzeros(matrix), 3);
  assert.deepEqual(Array.from(matrix.rowPointers), [0, 1, 1, 3]);
  assert.deepEqual(Array.from(matrix.columnIndices), [1, 0, 3]);
  assert.deepEqual(Array.from(rowCounts(matrix)), [1, 0, 2]);
});

test('buildCsr rejects cells outside the matrix and mismatched lengths', () => {
  assert.throws(() => buildCsr(2, 2, [0, 2], [0, 1], [1, 1]), RangeError);
  assert.throws(() => buildCsr(2, 2, [0, 1], [0, -1], [1, 1]), RangeError);
  assert.throws(() => buildCsr(2, 2, [0, 1], [0], [1, 1]), RangeError);
});

test('transposing twice gives the same matrix, and once swaps the cells', () => {
  const rows = [0, 0, 1, 3, 3, 3, 4];
  const columns = [0, 5, 2, 1, 4, 5, 0];
  const values = [1, 2, 3, 4, 5, 6, 7];
  const matrix = buildCsr(5, 6, rows, columns, values);

  const transposed = transposeCsr(matrix);
  assert.equal(transposed.rows, 6);
  assert.equal(transposed.columns, 5);
  const expected = buildCsr(6, 5, columns, rows, values);
  assert.deepEqual(dense(transposed), dense(expected));

  const back = transposeCsr(transposed);
  assert.deepEqual(Array.from(back.rowPointers), Array.from(matrix.rowPointers));
  assert.deepEqual(Array.from(back.columnIndices), Array.from(matrix.columnIndices));
  assert.deepEqual(Array.from(back.values), Array.from(matrix.values));
});

test('selectRows keeps the chosen rows in the chosen order', () => {
  const matrix = buildCsr(4, 3, [0, 1, 1, 2, 3], [0, 1, 2, 0, 2], [1, 2, 3, 4, 5]);
  const picked = selectRows(matrix, [3, 1]);

  assert.equal(picked.rows, 2);
  assert.equal(picked.columns, 3);
  assert.deepEqual(dense(picked), [
    [0, 0, 5],
    [0, 2, 3],
  ]);
});
