/**
 * Compressed sparse row (CSR) matrices: the only matrix form the trainer sees, so that the
 * artist x user matrix is never formed densely.
 */

/** A CSR matrix. Row r holds columnIndices/values[rowPointers[r] .. rowPointers[r + 1]). */
export interface SparseMatrix {
  readonly rows: number;
  readonly columns: number;
  /** Length rows + 1. */
  readonly rowPointers: Int32Array;
  /** Column of each stored value, ascending within a row. */
  readonly columnIndices: Int32Array;
  readonly values: Float32Array;
}

/** Number of stored values. */
export function nonzeros(matrix: SparseMatrix): number {
  return matrix.rowPointers[matrix.rows];
}

/**
 * Builds a CSR matrix from (row, column, value) triples in any order; duplicate cells are summed
 * and explicit zeros dropped. O(nnz + rows + columns) time and memory besides the output.
 */
export function buildCsr(
  rows: number,
  columns: number,
  rowIndices: ArrayLike<number>,
  columnIndices: ArrayLike<number>,
  values: ArrayLike<number>,
): SparseMatrix {
  const count = rowIndices.length;
  if (columnIndices.length !== count || values.length !== count) {
    throw new RangeError('buildCsr: rowIndices, columnIndices and values differ in length');
  }

  // Counting sort by column, then by row: a stable two-pass bucket sort leaves each row's
  // columns ascending without a comparison sort.
  const byColumn = bucketOrder(columns, columnIndices, identityOrder(count));
  const order = bucketOrder(rows, rowIndices, byColumn);

  const rowPointers = new Int32Array(rows + 1);
  const outColumns = new Int32Array(count);
  const outValues = new Float32Array(count);
  let stored = 0;
  let previousRow = -1;
  let previousColumn = -1;
  for (let position = 0; position < count; position++) {
    const entry = order[position];
    const row = rowIndices[entry];
    const column = columnIndices[entry];
    if (row < 0 || row >= rows || column < 0 || column >= columns) {
      throw new RangeError(`buildCsr: cell (${row}, ${column}) is outside ${rows} x ${columns}`);
    }
    if (row === previousRow && column === previousColumn) {
      outValues[stored - 1] += values[entry];
      continue;
    }
    outColumns[stored] = column;
    outValues[stored] = values[entry];
    rowPointers[row + 1]++;
    stored++;
    previousRow = row;
    previousColumn = column;
  }
  for (let row = 0; row < rows; row++) rowPointers[row + 1] += rowPointers[row];

  const matrix: SparseMatrix = {
    rows,
    columns,
    rowPointers,
    columnIndices: outColumns.subarray(0, stored),
    values: outValues.subarray(0, stored),
  };
  return dropZeros(matrix);
}

/** The transpose, in CSR form. O(nnz + rows + columns). */
export function transposeCsr(matrix: SparseMatrix): SparseMatrix {
  const { rows, columns, rowPointers, columnIndices, values } = matrix;
  const count = rowPointers[rows];
  const outPointers = new Int32Array(columns + 1);
  for (let i = 0; i < count; i++) outPointers[columnIndices[i] + 1]++;
  for (let column = 0; column < columns; column++) outPointers[column + 1] += outPointers[column];

  const next = outPointers.slice(0, columns);
  const outColumns = new Int32Array(count);
  const outValues = new Float32Array(count);
  for (let row = 0; row < rows; row++) {
    for (let i = rowPointers[row]; i < rowPointers[row + 1]; i++) {
      const target = next[columnIndices[i]]++;
      outColumns[target] = row;
      outValues[target] = values[i];
    }
  }
  return {
    rows: columns,
    columns: rows,
    rowPointers: outPointers,
    columnIndices: outColumns,
    values: outValues,
  };
}

/** Keeps only the given rows, in the given order, renumbered 0..keep.length-1. O(nnz). */
export function selectRows(matrix: SparseMatrix, keep: ArrayLike<number>): SparseMatrix {
  const rowPointers = new Int32Array(keep.length + 1);
  for (let r = 0; r < keep.length; r++) {
    const source = keep[r];
    rowPointers[r + 1] =
      rowPointers[r] + matrix.rowPointers[source + 1] - matrix.rowPointers[source];
  }
  const count = rowPointers[keep.length];
  const columnIndices = new Int32Array(count);
  const values = new Float32Array(count);
  for (let r = 0; r < keep.length; r++) {
    const start = matrix.rowPointers[keep[r]];
    const end = matrix.rowPointers[keep[r] + 1];
    columnIndices.set(matrix.columnIndices.subarray(start, end), rowPointers[r]);
    values.set(matrix.values.subarray(start, end), rowPointers[r]);
  }
  return { rows: keep.length, columns: matrix.columns, rowPointers, columnIndices, values };
}

/** Number of stored values in each row. */
export function rowCounts(matrix: SparseMatrix): Int32Array {
  const counts = new Int32Array(matrix.rows);
  for (let row = 0; row < matrix.rows; row++) {
    counts[row] = matrix.rowPointers[row + 1] - matrix.rowPointers[row];
  }
  return counts;
}

function identityOrder(count: number): Int32Array {
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  return order;
}

/** Stable counting sort of `order` by key[order[i]] in [0, buckets). */
function bucketOrder(buckets: number, key: ArrayLike<number>, order: Int32Array): Int32Array {
  const starts = new Int32Array(buckets + 1);
  for (let i = 0; i < order.length; i++) {
    const bucket = key[order[i]];
    if (bucket < 0 || bucket >= buckets || !Number.isInteger(bucket)) {
      throw new RangeError(`buildCsr: index ${bucket} is outside 0..${buckets - 1}`);
    }
    starts[bucket + 1]++;
  }
  for (let b = 0; b < buckets; b++) starts[b + 1] += starts[b];
  const sorted = new Int32Array(order.length);
  for (let i = 0; i < order.length; i++) sorted[starts[key[order[i]]]++] = order[i];
  return sorted;
}

function dropZeros(matrix: SparseMatrix): SparseMatrix {
  const { rows, rowPointers, columnIndices, values } = matrix;
  let zeros = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === 0) zeros++;
  if (zeros === 0) return matrix;

  const outPointers = new Int32Array(rows + 1);
  const outColumns = new Int32Array(values.length - zeros);
  const outValues = new Float32Array(values.length - zeros);
  let stored = 0;
  for (let row = 0; row < rows; row++) {
    for (let i = rowPointers[row]; i < rowPointers[row + 1]; i++) {
      if (values[i] === 0) continue;
      outColumns[stored] = columnIndices[i];
      outValues[stored++] = values[i];
    }
    outPointers[row + 1] = stored;
  }
  return { ...matrix, rowPointers: outPointers, columnIndices: outColumns, values: outValues };
}
