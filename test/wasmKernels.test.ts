import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assembleKernel, kernelSources, WASM_FOLDER } from '../src/model/wasm/build.ts';
import {
  HalsKernel,
  halsScratchLength,
  isResident,
  largestUnsigned,
  largestUnsigned16,
  nonDecreasing,
  residentMatrices,
  residentRoom,
  rowDots,
  rowDotsSingle,
  SharedArena,
} from '../src/model/wasm/kernels.ts';
import { sweepRows, sweepScratch } from '../src/model/nmfWorker.ts';

/** A seeded uniform generator in [0, 1) for fixtures. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

/** A rows x columns float32 matrix of values in [-1, 2), a third of them exactly zero. */
function randomMatrix(rows: number, columns: number, seed: number): Float32Array {
  const next = random(seed);
  return Float32Array.from({ length: rows * columns }, () =>
    next() < 1 / 3 ? 0 : next() * 3 - 1,
  );
}

/** The reference: plain float64 loops, row by row, column by column. */
function referenceDots(matrix: Float32Array, vector: ArrayLike<number>, rows: number): number[] {
  const columns = vector.length;
  const out: number[] = [];
  for (let row = 0; row < rows; row++) {
    let sum = 0;
    for (let c = 0; c < columns; c++) sum += matrix[row * columns + c] * vector[c];
    out.push(sum);
  }
  return out;
}

/** Largest |a - b| / max(1, |b|). */
function worstRelativeError(actual: ArrayLike<number>, expected: readonly number[]): number {
  assert.equal(actual.length, expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i]));
    worst = Math.max(worst, Number.isNaN(error) ? Infinity : error);
  }
  return worst;
}

test('every committed .wasm is exactly what its .wat assembles to', async () => {
  const sources = kernelSources();
  assert.ok(sources.includes('scan.wat'), `kernels found: ${sources.join(', ')}`);
  for (const name of sources) {
    const assembled = await assembleKernel(join(WASM_FOLDER, name));
    const committed = readFileSync(join(WASM_FOLDER, name.replace(/\.wat$/, '.wasm')));
    assert.ok(
      Buffer.from(assembled).equals(committed),
      `${name} differs from its .wasm: run npm run build:wasm`,
    );
  }
});

test('rowDots matches float64 loops for widths around the SIMD steps, k = 1 included', () => {
  const widths = [1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 31, 32, 33, 64, 100, 128];
  for (const [i, columns] of widths.entries()) {
    for (const rows of [1, 2, 37]) {
      const matrix = randomMatrix(rows, columns, 11 + i * 7 + rows);
      const next = random(500 + i);
      const vector = Float64Array.from({ length: columns }, () => next() * 4 - 2);
      const [resident] = residentMatrices(columns, matrix);
      const out = new Float64Array(rows).fill(Number.NaN);
      rowDots(resident, vector, out);
      const error = worstRelativeError(out, referenceDots(matrix, vector, rows));
      assert.ok(error < 1e-12, `rows ${rows}, k ${columns}: error ${error}`);
    }
  }
});

test('rowDotsSingle matches float64 loops to float32 accuracy, a resident row in place', () => {
  const widths = [1, 3, 4, 5, 8, 13, 15, 16, 17, 31, 32, 33, 48, 100, 128];
  for (const [i, columns] of widths.entries()) {
    const rows = 29;
    const matrix = randomMatrix(rows, columns, 70 + i);
    const [resident] = residentMatrices(columns, matrix);

    // A vector given as plain numbers (copied to float32 first, as the reference sees it).
    const next = random(900 + i);
    const vector = Array.from({ length: columns }, () => Math.fround(next() * 2 - 1));
    const out = new Float64Array(rows).fill(Number.NaN);
    rowDotsSingle(resident, vector, out);
    let scale = 0;
    for (let c = 0; c < columns; c++) scale += Math.abs(vector[c]) * 2;
    const expected = referenceDots(matrix, vector, rows);
    for (let row = 0; row < rows; row++) {
      const error = Math.abs(out[row] - expected[row]);
      assert.ok(error <= 1e-6 * Math.max(1, scale), `k ${columns} row ${row}: error ${error}`);
    }

    // Row 3 of the matrix itself as the vector, read where it lies: same as a copy of it.
    const inPlace = new Float64Array(rows);
    rowDotsSingle(resident, resident.subarray(3 * columns, 4 * columns), inPlace);
    const copied = new Float64Array(rows);
    rowDotsSingle(resident, Array.from(matrix.subarray(3 * columns, 4 * columns)), copied);
    assert.deepEqual([...inPlace], [...copied]);
    const selfExpected = referenceDots(matrix, matrix.subarray(3 * columns, 4 * columns), rows);
    assert.ok(Math.abs(inPlace[3] - selfExpected[3]) <= 1e-6 * Math.max(1, selfExpected[3]));
  }
});

test('resident matrices are copies in WebAssembly memory that do not overlap', () => {
  const columns = 5;
  const factors = randomMatrix(9, columns, 3);
  const embedding = randomMatrix(9, columns, 4);
  const [residentFactors, residentEmbedding] = residentMatrices(columns, factors, embedding);
  assert.ok(isResident(residentFactors) && isResident(residentEmbedding));
  assert.ok(!isResident(factors));
  assert.deepEqual([...residentFactors], [...factors]);
  assert.deepEqual([...residentEmbedding], [...embedding]);

  // Filling one leaves the other intact, and scans see the change.
  residentFactors.fill(1);
  assert.deepEqual([...residentEmbedding], [...embedding]);
  const out = new Float64Array(9);
  rowDots(residentFactors, [1, 2, 3, 4, 5], out);
  assert.deepEqual([...out], new Array(9).fill(15));
  rowDots(residentEmbedding, [1, 0, 0, 0, 0], out);
  assert.deepEqual(
    [...out],
    Array.from({ length: 9 }, (_, row) => embedding[row * columns]),
  );
});

test('rowDots scans ordinary arrays, unaligned views and prefixes of rows', () => {
  const columns = 11;
  const rows = 23;
  const matrix = randomMatrix(rows, columns, 9);
  const vector = Array.from({ length: columns }, (_, c) => (c % 3) - 0.5);
  const expected = referenceDots(matrix, vector, rows);

  // An array outside WebAssembly memory, scanned twice (the second time from its copy).
  for (let round = 0; round < 2; round++) {
    const out = new Float64Array(rows);
    rowDots(matrix, vector, out);
    assert.ok(worstRelativeError(out, expected) < 1e-12);
  }

  // A view starting one row in (44 bytes: not 16-byte aligned), and only the first 5 rows.
  const [resident] = residentMatrices(columns, matrix);
  const shifted = new Float64Array(rows - 1);
  rowDots(resident.subarray(columns), vector, shifted);
  assert.ok(worstRelativeError(shifted, expected.slice(1)) < 1e-12);
  const prefix = new Float64Array(5);
  rowDots(resident, vector, prefix);
  assert.ok(worstRelativeError(prefix, expected.slice(0, 5)) < 1e-12);
});

test('rowDots: empty shapes, and a matrix too short for the output is refused', () => {
  const [resident] = residentMatrices(4, randomMatrix(3, 4, 2));
  rowDots(resident, [1, 2, 3, 4], new Float64Array(0));
  const zeros = new Float64Array(3).fill(7);
  rowDots(new Float32Array(0), [], zeros);
  assert.deepEqual([...zeros], [0, 0, 0]);
  assert.throws(() => rowDots(resident, [1, 2, 3, 4], new Float64Array(4)), RangeError);
  assert.throws(() => rowDots(resident, [1, 2], new Float64Array(3)), RangeError);
  assert.throws(() => rowDotsSingle(resident, [1, 2, 3, 4], new Float64Array(4)), RangeError);
});

test('rowDots propagates NaN and infinities as the float64 loop does', () => {
  const matrix = new Float32Array([1, Number.NaN, 3, 4, 5, 1, 1, Number.POSITIVE_INFINITY, 0, 2]);
  const out = new Float64Array(2);
  rowDots(matrix, [1, 1, 1, 1, 1], out);
  assert.ok(Number.isNaN(out[0]));
  assert.equal(out[1], Number.POSITIVE_INFINITY);
  rowDots(new Float32Array([1, 2, 3, 4, 5]), [1, 1, 1, 1, 1], out.subarray(0, 1));
  assert.equal(out[0], 15);
});

/**
 * A random side of a HALS pass (rows x columns CSR with about `density` of the cells stored,
 * factors with about `zeros` of their entries zero) in a shared arena, and the same arrays as
 * ordinary copies for the plain-JS pass.
 */
function halsFixture(rows: number, columns: number, k: number, seed: number, zeros: number) {
  const next = random(seed);
  const rowPointers = new Int32Array(rows + 1);
  const columnIndices: number[] = [];
  const values: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      if (next() < 0.3) {
        columnIndices.push(c);
        values.push(1 + Math.floor(next() * 20));
      }
    }
    rowPointers[r + 1] = columnIndices.length;
  }
  const factors = Float32Array.from({ length: rows * k }, () => (next() < zeros ? 0 : next()));
  const other = Float32Array.from({ length: columns * k }, () => (next() < 0.3 ? 0 : next()));
  const otherGram = new Float64Array(k * k);
  for (let c = 0; c < columns; c++) {
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) otherGram[a * k + b] += other[c * k + a] * other[c * k + b];
    }
  }
  // A component no row of G uses: its entries must go to zero.
  if (k > 2) {
    for (let c = 0; c < columns; c++) other[c * k + 1] = 0;
    for (let t = 0; t < k; t++) otherGram[k + t] = otherGram[t * k + 1] = 0;
  }
  const plain = {
    rowPointers,
    columnIndices: Int32Array.from(columnIndices),
    values: Float32Array.from(values),
    factors,
    other,
    otherGram,
    l1: 0.05,
    l2: 0.1,
  };
  const arena = new SharedArena(SharedArena.bytesFor([
    rowPointers.byteLength, columnIndices.length * 4, values.length * 4, factors.byteLength,
    other.byteLength, otherGram.byteLength, k * k * 8, halsScratchLength(k) * 8, 16,
    rows * k * 8, rows * 4,
  ]));
  const resident = {
    ...plain,
    rowPointers: arena.copy(plain.rowPointers),
    columnIndices: arena.copy(plain.columnIndices),
    values: arena.copy(plain.values),
    factors: arena.copy(plain.factors),
    other: arena.copy(plain.other),
    otherGram: arena.float64(k * k),
  };
  resident.otherGram.set(otherGram);
  return {
    plain: { ...plain, factors: Float32Array.from(factors) },
    resident,
    arena,
    partialGram: arena.float64(k * k),
    scratch: arena.float64(halsScratchLength(k)),
    totals: arena.float64(2),
    products: arena.float64(rows * k),
    cursors: arena.int32(rows),
  };
}

test('the WebAssembly HALS pass writes the same bits as the plain-JS sweepRows', () => {
  // Dense and sparse rows (zeros), k not a multiple of 4, k = 1, a middle range of rows.
  const cases = [
    { k: 1, zeros: 0.3 },
    { k: 3, zeros: 0.2 },
    { k: 7, zeros: 0.8 },
    { k: 8, zeros: 0.1 },
    { k: 13, zeros: 0.6 },
    { k: 32, zeros: 0.5 },
  ];
  for (const [i, { k, zeros }] of cases.entries()) {
    const rows = 40;
    const fixture = halsFixture(rows, 25, k, 300 + i, zeros);
    const kernel = new HalsKernel(fixture.arena.memory);
    for (const [start, end] of [[0, rows], [5, 17]]) {
      const jsGram = new Float64Array(k * k);
      const jsTotals = sweepRows(fixture.plain, k, start, end, jsGram, sweepScratch(k));
      fixture.partialGram.fill(Number.NaN);
      kernel.sweepRows(
        fixture.resident, k, start, end, fixture.partialGram, fixture.scratch, fixture.totals,
      );
      const label = `k ${k}, rows ${start}..${end}`;
      assert.deepEqual(
        Buffer.from(fixture.resident.factors.buffer, fixture.resident.factors.byteOffset,
          fixture.resident.factors.byteLength),
        Buffer.from(fixture.plain.factors.buffer),
        `${label}: factors`,
      );
      assert.deepEqual([...fixture.partialGram], [...jsGram], `${label}: Gram`);
      assert.deepEqual([...fixture.totals], [jsTotals.sum, jsTotals.cross], `${label}: totals`);
      assert.ok(jsTotals.sum > 0, `${label}: the pass left some entries nonzero`);
    }
    if (k > 2) {
      for (let r = 0; r < rows; r++) assert.equal(fixture.resident.factors[r * k + 1], 0);
    }
  }
});

test('products taken block by block give the same pass, bit for bit, whatever the block', () => {
  const columns = 25;
  for (const [i, { k, zeros }] of [{ k: 5, zeros: 0.2 }, { k: 16, zeros: 0.7 }].entries()) {
    for (const blockColumns of [1, 3, 7, 24, 25, 1000]) {
      const rows = 30;
      const fixture = halsFixture(rows, columns, k, 600 + i, zeros);
      const kernel = new HalsKernel(fixture.arena.memory);
      const jsGram = new Float64Array(k * k);
      const jsTotals = sweepRows(fixture.plain, k, 2, rows, jsGram, sweepScratch(k));

      // Products of rows 2.. in two calls (a split of the rows changes nothing), then the pass.
      fixture.products.fill(Number.NaN);
      const side = fixture.resident;
      kernel.rowProducts(side, k, 2, 11, blockColumns, columns, fixture.products, fixture.cursors);
      kernel.rowProducts(side, k, 11, rows, blockColumns, columns, fixture.products, fixture.cursors);
      const { partialGram, scratch, totals, products } = fixture;
      kernel.sweepRows(side, k, 2, rows, partialGram, scratch, totals, products);

      const label = `k ${k}, blocks of ${blockColumns}`;
      assert.deepEqual(
        Buffer.from(side.factors.buffer, side.factors.byteOffset, side.factors.byteLength),
        Buffer.from(fixture.plain.factors.buffer),
        `${label}: factors`,
      );
      assert.deepEqual([...partialGram], [...jsGram], `${label}: Gram`);
      assert.deepEqual([...totals], [jsTotals.sum, jsTotals.cross], `${label}: totals`);
    }
  }
});

test('repeated passes per row: the kernel writes the bits of sweepRows and each pass gains', () => {
  // Several passes with and without the early stop, over dense and sparse rows.
  const settings = [
    { passes: 2, passRatio: 0 },
    { passes: 5, passRatio: 0.2 },
    { passes: 9, passRatio: 0 },
  ];
  for (const [i, { k, zeros }] of [{ k: 6, zeros: 0.2 }, { k: 19, zeros: 0.7 }].entries()) {
    for (const { passes, passRatio } of settings) {
      const rows = 30;
      const fixture = halsFixture(rows, 25, k, 900 + i, zeros);
      const kernel = new HalsKernel(fixture.arena.memory);
      const plain = { ...fixture.plain, passes, passRatio };
      const resident = { ...fixture.resident, passes, passRatio };
      const before = Float32Array.from(plain.factors);
      const jsGram = new Float64Array(k * k);
      const jsTotals = sweepRows(plain, k, 0, rows, jsGram, sweepScratch(k));
      kernel.sweepRows(resident, k, 0, rows, fixture.partialGram, fixture.scratch, fixture.totals);

      const label = `k ${k}, ${passes} passes, ratio ${passRatio}`;
      assert.deepEqual(
        Buffer.from(resident.factors.buffer, resident.factors.byteOffset,
          resident.factors.byteLength),
        Buffer.from(plain.factors.buffer),
        `${label}: factors`,
      );
      assert.deepEqual([...fixture.partialGram], [...jsGram], `${label}: Gram`);
      assert.deepEqual([...fixture.totals], [jsTotals.sum, jsTotals.cross], `${label}: totals`);

      // Against one pass from the same start, row by row: never a higher row objective (up to
      // the float32 rounding of the stored entries).
      const single = { ...fixture.plain, factors: Float32Array.from(before) };
      sweepRows(single, k, 0, rows, new Float64Array(k * k), sweepScratch(k));
      let better = 0;
      for (let r = 0; r < rows; r++) {
        const many = rowObjective(plain, k, r, plain.factors);
        const one = rowObjective(plain, k, r, single.factors);
        assert.ok(many <= one + 1e-6 * Math.max(1, Math.abs(one)), `${label}, row ${r}`);
        if (many < one - 1e-6 * Math.max(1, Math.abs(one))) better++;
      }
      assert.ok(better > 0, `${label}: no row gained from the later passes`);
    }
  }
});

/**
 * 0.5 ||x - f G^T||^2 + l1 |f|_1 + 0.5 l2 ||f||^2 for row r, up to the constant 0.5 ||x||^2,
 * computed directly: 0.5 f^T Q f - f . (x G) + penalties, Q and x G formed here.
 */
function rowObjective(
  side: ReturnType<typeof halsFixture>['plain'],
  k: number,
  r: number,
  factors: Float32Array,
): number {
  const { rowPointers, columnIndices, values, other, otherGram, l1, l2 } = side;
  let total = 0;
  for (let s = 0; s < k; s++) {
    const f = factors[r * k + s];
    let product = 0;
    for (let p = rowPointers[r]; p < rowPointers[r + 1]; p++) {
      product += values[p] * other[columnIndices[p] * k + s];
    }
    for (let t = 0; t < k; t++) total += 0.5 * f * otherGram[s * k + t] * factors[r * k + t];
    total += -f * product + l1 * f + 0.5 * l2 * f * f;
  }
  return total;
}

test('summing chunk Grams in parts gives the bits of a scalar loop, mirrored', () => {
  for (const k of [1, 2, 7, 16]) {
    const chunks = 5;
    const arena = new SharedArena(SharedArena.bytesFor([chunks * k * k * 8, k * k * 8]));
    const chunkGrams = arena.float64(chunks * k * k);
    const next = random(40 + k);
    for (let i = 0; i < chunkGrams.length; i++) chunkGrams[i] = next() * 1e3;
    const out = arena.float64(k * k).fill(Number.NaN);
    const kernel = new HalsKernel(arena.memory);
    const middle = k >> 1;
    kernel.sumChunkGrams(chunkGrams, chunks, k, out, middle, k);
    kernel.sumChunkGrams(chunkGrams, chunks, k, out, 0, middle);

    for (let i = 0; i < k; i++) {
      for (let j = i; j < k; j++) {
        let sum = 0;
        for (let c = 0; c < chunks; c++) sum += chunkGrams[c * k * k + i * k + j];
        assert.equal(out[i * k + j], sum, `k ${k}: entry ${i}, ${j}`);
        assert.equal(out[j * k + i], sum, `k ${k}: mirror of ${i}, ${j}`);
      }
    }
  }
});

test('the HALS kernel refuses arrays outside its arena and ranges outside the factor', () => {
  const fixture = halsFixture(6, 5, 4, 77, 0.5);
  const kernel = new HalsKernel(fixture.arena.memory);
  const { partialGram, scratch, totals } = fixture;
  assert.throws(
    () => kernel.sweepRows(fixture.plain, 4, 0, 6, partialGram, scratch, totals),
    RangeError,
  );
  assert.throws(
    () => kernel.sweepRows(fixture.resident, 4, 0, 7, partialGram, scratch, totals),
    RangeError,
  );
  assert.throws(
    () => kernel.sweepRows(fixture.resident, 4, 0, 6, partialGram, scratch.subarray(1), totals),
    RangeError,
  );
  const { products, cursors } = fixture;
  assert.throws(
    () => kernel.rowProducts(fixture.resident, 4, 0, 6, 0, 5, products, cursors),
    RangeError,
  );
  assert.throws(
    () => kernel.rowProducts(fixture.resident, 4, 0, 7, 2, 5, products, cursors),
    RangeError,
  );
  const zeroPasses = { ...fixture.resident, passes: 0 };
  assert.throws(
    () => kernel.sweepRows(zeroPasses, 4, 0, 6, partialGram, scratch, totals),
    RangeError,
  );
  assert.throws(() => kernel.sumChunkGrams(partialGram, 2, 4, partialGram, 0, 4), RangeError);
  assert.throws(() => kernel.sumChunkGrams(partialGram, 1, 4, partialGram, 0, 5), RangeError);
});

test('largestUnsigned in WebAssembly equals a plain loop: lengths, offsets, strides, signs', () => {
  const room = residentRoom(4 * 256, 1, 1);
  const resident = new Int32Array(room.buffer, room.byteOffset, 256);
  const plain = new Int32Array(256);
  let state = 7;
  const next = () => (state = (Math.imul(state, 1664525) + 1013904223) | 0);
  for (let trial = 0; trial < 400; trial++) {
    for (let i = 0; i < 256; i++) resident[i] = plain[i] = trial % 2 ? next() : next() & 0xffff;
    const start = trial % 9;
    const length = trial % 41;
    for (const stride of [1, 2] as const) {
      const expected = largestUnsigned(plain.subarray(start, start + length), stride);
      let largest = 0;
      for (let i = start; i < start + length; i += stride) {
        largest = Math.max(largest, plain[i] >>> 0);
      }
      assert.equal(expected, largest);
      assert.equal(largestUnsigned(resident.subarray(start, start + length), stride), largest);
    }
  }

  // A negative value reads as a large unsigned one; the odd lanes do not count with stride 2.
  resident.fill(3);
  resident[5] = -1;
  assert.equal(largestUnsigned(resident.subarray(0, 16), 1), 2 ** 32 - 1);
  assert.equal(largestUnsigned(resident.subarray(0, 16), 2), 3);
  assert.equal(largestUnsigned(resident.subarray(0, 0), 1), 0);
});

test('largestUnsigned16 and nonDecreasing in WebAssembly equal plain loops', () => {
  const room = residentRoom(4 * 256, 1, 1);
  const wide = new Uint32Array(room.buffer, room.byteOffset, 256);
  const narrow = new Uint16Array(room.buffer, room.byteOffset, 512);
  let state = 11;
  const next = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0);
  for (let trial = 0; trial < 400; trial++) {
    const start = trial % 9;
    const length = trial % 45;

    // 16-bit maxima, the largest anywhere in the run.
    for (let i = 0; i < 512; i++) narrow[i] = next() & (trial % 3 ? 0xffff : 0xff);
    const values = narrow.subarray(start, start + length);
    assert.equal(largestUnsigned16(values), values.reduce((a, b) => Math.max(a, b), 0));
    assert.equal(largestUnsigned16(Uint16Array.from(values)), largestUnsigned16(values));

    // Increasing starts with at most one fall, placed anywhere (or nowhere).
    let total = 0;
    for (let i = 0; i < 256; i++) wide[i] = total += next() % 3;
    const fall = start + (next() % (length + 2)) - 1;
    if (trial % 4 !== 0 && fall > start && fall < start + length) wide[fall] = wide[fall - 1] - 1;
    const starts = wide.subarray(start, start + length);
    let expected = true;
    for (let i = 1; i < starts.length; i++) if (starts[i] < starts[i - 1]) expected = false;
    assert.equal(nonDecreasing(starts), expected, `trial ${trial}`);
    assert.equal(nonDecreasing(Uint32Array.from(starts)), expected);
  }

  // Unsigned: a value past 2^31 after a small one is not a fall.
  wide.set([0, 5, 0x80000000, 0xffffffff, 7]);
  assert.ok(nonDecreasing(wide.subarray(0, 4)));
  assert.ok(!nonDecreasing(wide.subarray(1, 5)));
});
