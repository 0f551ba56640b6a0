import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCsr, transposeCsr } from '../src/model/sparse.ts';
import { seededRandom } from '../src/model/random.ts';
import type { SparseMatrix } from '../src/model/sparse.ts';
import { factorizeImplicit, implicitObjective, RowSolver } from '../src/model/implicitNmf.ts';
import type { ImplicitNmfOptions } from '../src/model/implicitNmf.ts';
import { gram } from '../src/model/embedding.ts';
import { gramRows } from '../src/model/implicitWorker.ts';
import { ImplicitKernel, SharedArena, implicitScratchLength } from '../src/model/wasm/kernels.ts';
import { foldIn, implicitFoldInObjective } from '../src/model/foldIn.ts';
import { trainModel } from '../src/model/train.ts';
import { readModel, writeModel } from '../src/model/modelFile.ts';
import {
  IMPLICIT_NEIGHBOUR_BLEND,
  NEIGHBOUR_BLEND,
  neighbourBlend,
  Recommender,
} from '../src/model/recommender.ts';
import type { ListeningData, TrainingParameters } from '../src/model/types.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A seeded uniform generator for fixtures (independent of the trainer's own). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

/**
 * Three blocks: artists 3b..3b+9 (b = block) are played only by users 4b..4b+11, each cell
 * with probability `density` and a count of 1 to 20. Returns the matrix and each row's block.
 */
function blockMatrix(density: number, seed: number) {
  const next = random(seed);
  const rows: number[] = [];
  const columns: number[] = [];
  const values: number[] = [];
  for (let block = 0; block < 3; block++) {
    for (let artist = block * 10; artist < block * 10 + 10; artist++) {
      for (let user = block * 12; user < block * 12 + 12; user++) {
        if (next() < density) {
          rows.push(artist);
          columns.push(user);
          values.push(1 + Math.floor(next() * 20));
        }
      }
    }
  }
  return buildCsr(30, 36, rows, columns, values);
}

/** A random sparse non-negative matrix. */
function randomMatrix(rowCount: number, columnCount: number, density: number, seed: number) {
  const next = random(seed);
  const rows: number[] = [];
  const columns: number[] = [];
  const values: number[] = [];
  for (let r = 0; r < rowCount; r++) {
    for (let c = 0; c < columnCount; c++) {
      if (next() < density) {
        rows.push(r);
        columns.push(c);
        values.push(next() * 5);
      }
    }
  }
  return buildCsr(rowCount, columnCount, rows, columns, values);
}

function dense(matrix: SparseMatrix): number[][] {
  const out = Array.from({ length: matrix.rows }, () => new Array<number>(matrix.columns).fill(0));
  for (let r = 0; r < matrix.rows; r++) {
    for (let i = matrix.rowPointers[r]; i < matrix.rowPointers[r + 1]; i++) {
      out[r][matrix.columnIndices[i]] = matrix.values[i];
    }
  }
  return out;
}

/** The objective written cell by cell over the dense matrix: the definition, no Gram trick. */
function denseObjective(
  matrix: SparseMatrix,
  W: Float32Array,
  H: Float32Array,
  k: number,
  options: { alpha: number; l2Artist: number; l2User: number },
): number {
  const x = dense(matrix);
  let value = 0;
  for (let a = 0; a < matrix.rows; a++) {
    for (let u = 0; u < matrix.columns; u++) {
      let prediction = 0;
      for (let t = 0; t < k; t++) prediction += W[a * k + t] * H[u * k + t];
      const played = x[a][u] > 0;
      const confidence = played ? 1 + options.alpha * x[a][u] : 1;
      value += confidence * ((played ? 1 : 0) - prediction) ** 2;
    }
  }
  let squaresW = 0;
  for (const w of W) squaresW += w * w;
  let squaresH = 0;
  for (const h of H) squaresH += h * h;
  return 0.5 * (value + options.l2Artist * squaresW + options.l2User * squaresH);
}

/**
 * Gradient of the one-row objective over the full (dense) row of preferences and confidences:
 * sum_a c_a (w_a . u - p_a) w_a + l2 u, summed over every artist a.
 */
function denseRowGradient(
  W: Float32Array,
  artists: number,
  k: number,
  taste: Map<number, number>,
  alpha: number,
  l2: number,
  u: Float64Array,
): number[] {
  const gradient = Array.from(u, (value) => l2 * value);
  for (let a = 0; a < artists; a++) {
    let prediction = 0;
    for (let t = 0; t < k; t++) prediction += W[a * k + t] * u[t];
    const weight = taste.get(a);
    const confidence = weight === undefined ? 1 : 1 + alpha * weight;
    const preference = weight === undefined ? 0 : 1;
    for (let t = 0; t < k; t++) gradient[t] += confidence * (prediction - preference) * W[a * k + t];
  }
  return gradient;
}

/** KKT conditions of min f(u) s.t. u >= 0: g_j ~ 0 where u_j > 0, g_j >= 0 where u_j = 0. */
function assertStationary(u: Float64Array, gradient: number[], tolerance: number): void {
  const scale = Math.max(1, ...gradient.map(Math.abs));
  for (let j = 0; j < u.length; j++) {
    if (u[j] > 0) {
      assert.ok(Math.abs(gradient[j]) <= tolerance * scale, `g_${j} = ${gradient[j]} at u > 0`);
    } else {
      assert.ok(gradient[j] >= -tolerance * scale, `g_${j} = ${gradient[j]} at u = 0`);
    }
  }
}

const OPTIONS: ImplicitNmfOptions = {
  components: 4,
  maxIterations: 30,
  tolerance: 0,
  seed: 7,
  alpha: 0.5,
  l2Artist: 0.1,
  l2User: 0.2,
};

test('implicitObjective equals the cell-by-cell definition', () => {
  const matrix = randomMatrix(12, 15, 0.3, 3);
  const next = random(11);
  const k = 3;
  const W = Float32Array.from({ length: 12 * k }, () => next());
  const H = Float32Array.from({ length: 15 * k }, () => next());
  const penalties = { alpha: 0.7, l2Artist: 0.3, l2User: 0.9 };
  const expected = denseObjective(matrix, W, H, k, penalties);
  const actual = implicitObjective(matrix, W, H, k, penalties);
  assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.abs(expected), `${actual} vs ${expected}`);
});

test('the objective never rises from one iteration to the next', async () => {
  const matrix = randomMatrix(40, 50, 0.15, 5);
  const objectives: number[] = [];
  const result = await factorizeImplicit(matrix, {
    ...OPTIONS,
    sweeps: 1,
    onIteration: (progress) => {
      objectives.push(progress.objective);
    },
  });
  assert.equal(objectives.length, OPTIONS.maxIterations);
  for (let i = 1; i < objectives.length; i++) {
    assert.ok(
      objectives[i] <= objectives[i - 1] * (1 + 1e-9),
      `iteration ${i + 1}: ${objectives[i]} > ${objectives[i - 1]}`,
    );
  }
  assert.ok(objectives.at(-1)! < objectives[0] * 0.95, 'the fit improved');

  // The reported objective is the definition's, at the returned factors.
  const expected = denseObjective(matrix, result.artistFactors, result.userFactors, 4, OPTIONS);
  assert.ok(Math.abs(result.objective - expected) <= 1e-6 * expected);
  for (const value of result.artistFactors) assert.ok(value >= 0);
  for (const value of result.userFactors) assert.ok(value >= 0);
});

test('the row solver reaches the constrained minimum of its row (KKT, dense gradient)', () => {
  const artists = 25;
  const k = 5;
  const next = random(21);
  const W = Float32Array.from({ length: artists * k }, () => (next() < 0.3 ? 0 : next()));
  const taste = new Map([
    [2, 3],
    [7, 0.5],
    [11, 12],
    [19, 1],
  ]);
  const alpha = 0.8;
  const l2 = 0.05;
  const solver = new RowSolver(k, taste.size);
  const u = new Float64Array(k);
  const sweeps = solver.solve(
    gram(W, artists, k),
    l2,
    W,
    Int32Array.from(taste.keys()),
    Float64Array.from(taste.values()),
    0,
    taste.size,
    alpha,
    5000,
    u,
    1e-12,
  );
  assert.ok(sweeps < 5000, 'converged before the sweep limit');
  assertStationary(u, denseRowGradient(W, artists, k, taste, alpha, l2, u), 1e-7);
});

test('recovers planted blocks: each user ranks their own block first', async () => {
  const matrix = blockMatrix(0.6, 9);
  const k = 3;
  const result = await factorizeImplicit(matrix, { ...OPTIONS, components: k, maxIterations: 60 });
  const x = dense(matrix);
  for (let user = 0; user < 36; user++) {
    const block = Math.floor(user / 12);
    const scores = Array.from({ length: 30 }, (_, artist) => {
      let score = 0;
      for (let t = 0; t < k; t++) {
        score += result.artistFactors[artist * k + t] * result.userFactors[user * k + t];
      }
      return score;
    });
    const worstInside = Math.min(...scores.slice(block * 10, block * 10 + 10));
    const bestOutside = Math.max(
      ...scores.filter((_, artist) => Math.floor(artist / 10) !== block),
    );
    assert.ok(worstInside > bestOutside, `user ${user}: ${worstInside} <= ${bestOutside}`);
  }

  // Played cells are predicted near their preference of 1, unplayed cells of other blocks near 0.
  let playedError = 0;
  let played = 0;
  for (let artist = 0; artist < 30; artist++) {
    for (let user = 0; user < 36; user++) {
      if (x[artist][user] === 0) continue;
      let prediction = 0;
      for (let t = 0; t < k; t++) {
        prediction += result.artistFactors[artist * k + t] * result.userFactors[user * k + t];
      }
      playedError += Math.abs(1 - prediction);
      played++;
    }
  }
  assert.ok(playedError / played < 0.25, `mean |1 - prediction| on played cells ${playedError / played}`);
});

test('same seed gives the same bytes; another seed other factors', async () => {
  const matrix = randomMatrix(30, 40, 0.2, 13);
  const first = await factorizeImplicit(matrix, { ...OPTIONS, maxIterations: 5 });
  const second = await factorizeImplicit(matrix, { ...OPTIONS, maxIterations: 5 });
  const other = await factorizeImplicit(matrix, { ...OPTIONS, maxIterations: 5, seed: 8 });
  assert.deepEqual(Buffer.from(first.artistFactors.buffer), Buffer.from(second.artistFactors.buffer));
  assert.deepEqual(Buffer.from(first.userFactors.buffer), Buffer.from(second.userFactors.buffer));
  assert.notDeepEqual(Buffer.from(first.artistFactors.buffer), Buffer.from(other.artistFactors.buffer));
});

/**
 * The trainer written out plainly, one thread, as the file header states it: the seeded start,
 * then per iteration every user row by RowSolver (W fixed), H^T H, every artist row, W^T W.
 */
function referenceFactorization(matrix: SparseMatrix, options: ImplicitNmfOptions) {
  const k = options.components;
  const byUser = transposeCsr(matrix);
  const next = seededRandom(options.seed);
  const scale = Math.sqrt(0.25 / k) * 2;
  const W = Float32Array.from({ length: matrix.rows * k }, () => scale * next());
  const H = Float32Array.from({ length: matrix.columns * k }, () => scale * next());
  let longest = 0;
  for (const csr of [matrix, byUser]) {
    for (let r = 0; r < csr.rows; r++) {
      longest = Math.max(longest, csr.rowPointers[r + 1] - csr.rowPointers[r]);
    }
  }
  const solver = new RowSolver(k, longest);
  const sweeps = options.sweeps ?? 3;
  const objectives: number[] = [];
  for (let iteration = 0; iteration < options.maxIterations; iteration++) {
    solver.updateRows(byUser, H, W, gram(W, matrix.rows, k), options.alpha, options.l2User, sweeps);
    const userGram = gram(H, matrix.columns, k);
    solver.updateRows(matrix, W, H, userGram, options.alpha, options.l2Artist, sweeps);
    objectives.push(implicitObjective(matrix, W, H, k, options));
  }
  return { artistFactors: W, userFactors: H, objectives };
}

function bytes(array: Float32Array): Buffer {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
}

test('one thread and two give the bytes of the plain single-threaded loop', async () => {
  // Large enough for several row chunks and Gram parts on each side, with long and short rows.
  const matrix = randomMatrix(300, 220, 0.06, 29);
  const options: ImplicitNmfOptions = {
    ...OPTIONS,
    components: 24,
    maxIterations: 4,
    alpha: 1.5,
    l2Artist: 0.4,
    l2User: 0.3,
  };
  const expected = referenceFactorization(matrix, options);
  for (const threads of [1, 2]) {
    const objectives: number[] = [];
    const result = await factorizeImplicit(matrix, {
      ...options,
      threads,
      onIteration: ({ objective }) => {
        objectives.push(objective);
      },
    });
    assert.equal(result.threads, threads);
    assert.ok(bytes(result.artistFactors).equals(bytes(expected.artistFactors)), `W, ${threads}`);
    assert.ok(bytes(result.userFactors).equals(bytes(expected.userFactors)), `H, ${threads}`);
    assert.deepEqual(objectives, expected.objectives);
  }
});

test('the WebAssembly row solver and Gram rows write the bits of the plain-JS references', () => {
  for (const k of [1, 2, 3, 7, 24]) {
    // Rows of 0 to ~40 played cells (odd and even), factors about a third zero.
    const matrix = randomMatrix(23, 90, 0.2, 40 + k);
    const next = random(60 + k);
    const factor = (length: number) =>
      Float32Array.from({ length }, () => (next() < 1 / 3 ? 0 : next() * 0.5));
    const startFactors = factor(matrix.rows * k);
    const other = factor(matrix.columns * k);
    const otherGram = gram(other, matrix.columns, k);
    let longest = 0;
    for (let r = 0; r < matrix.rows; r++) {
      longest = Math.max(longest, matrix.rowPointers[r + 1] - matrix.rowPointers[r]);
    }
    const alpha = 0.7;
    const l2 = 0.05;

    for (const sweeps of [1, 3, 50]) {
      const expected = Float32Array.from(startFactors);
      new RowSolver(k, longest).updateRows(matrix, expected, other, otherGram, alpha, l2, sweeps);

      const arena = new SharedArena(1 << 20);
      const shared = {
        rowPointers: arena.copy(matrix.rowPointers),
        columnIndices: arena.copy(matrix.columnIndices),
        values: arena.copy(matrix.values),
        factors: arena.copy(startFactors),
        other: arena.copy(other),
        otherGram: arena.float64(k * k),
        l2,
      };
      shared.otherGram.set(otherGram);
      const kernel = new ImplicitKernel(arena.memory);
      const scratch = arena.float64(implicitScratchLength(k, longest));
      kernel.solveRows(shared, k, 0, 9, alpha, sweeps, scratch, longest);
      kernel.solveRows(shared, k, 9, matrix.rows, alpha, sweeps, scratch, longest);
      assert.ok(bytes(shared.factors).equals(bytes(expected)), `k ${k}, ${sweeps} sweeps`);

      // Gram rows in two parts: the bits of gram() (and of the JS gramRows) on the upper triangle.
      const out = arena.float64(k * k).fill(Number.NaN);
      const middle = k >> 1;
      kernel.gramRows(shared.factors, matrix.rows, k, 0, middle, out);
      kernel.gramRows(shared.factors, matrix.rows, k, middle, k, out);
      const reference = gram(expected, matrix.rows, k);
      const plain = new Float64Array(k * k);
      gramRows(expected, matrix.rows, k, 0, k, plain);
      for (let t = 0; t < k; t++) {
        for (let s = t; s < k; s++) {
          assert.ok(Object.is(out[t * k + s], reference[t * k + s]), `Gram ${t}, ${s} at k ${k}`);
          assert.ok(Object.is(plain[t * k + s], reference[t * k + s]));
        }
      }
    }
  }
});

test('the WebAssembly row solver refuses arrays outside its arena and rows past its scratch', () => {
  const matrix = randomMatrix(5, 8, 0.5, 3);
  const k = 2;
  const arena = new SharedArena(1 << 16);
  const side = {
    rowPointers: arena.copy(matrix.rowPointers),
    columnIndices: arena.copy(matrix.columnIndices),
    values: arena.copy(matrix.values),
    factors: arena.float32(5 * k),
    other: arena.float32(8 * k),
    otherGram: arena.float64(k * k),
    l2: 0,
  };
  const kernel = new ImplicitKernel(arena.memory);
  const scratch = arena.float64(implicitScratchLength(k, 8));
  assert.throws(
    () => kernel.solveRows({ ...side, factors: new Float32Array(5 * k) }, k, 0, 5, 1, 1,
      scratch, 8),
    /outside the shared arena/,
  );
  assert.throws(() => kernel.solveRows(side, k, 0, 6, 1, 1, scratch, 8), /out of range/);
  assert.throws(() => kernel.solveRows(side, k, 0, 5, 1, 1, scratch, 1), /longer than/);
});

test('stops at the tolerance and rejects bad input with a readable message', async () => {
  const matrix = randomMatrix(20, 20, 0.3, 17);
  const result = await factorizeImplicit(matrix, { ...OPTIONS, maxIterations: 500, tolerance: 1e-3 });
  assert.ok(result.converged);
  assert.ok(result.iterations < 500);

  await assert.rejects(factorizeImplicit(matrix, { ...OPTIONS, components: 0 }), /components/);
  await assert.rejects(factorizeImplicit(matrix, { ...OPTIONS, alpha: -1 }), /alpha/);
  await assert.rejects(factorizeImplicit(matrix, { ...OPTIONS, sweeps: 0 }), /sweeps/);
  await assert.rejects(factorizeImplicit(matrix, { ...OPTIONS, threads: 0 }), /threads/);
  const empty = buildCsr(0, 3, [], [], []);
  await assert.rejects(factorizeImplicit(empty, OPTIONS), /empty/);
  const negative = buildCsr(2, 2, [0], [1], [-1]);
  await assert.rejects(factorizeImplicit(negative, OPTIONS), /bad value/);
});

/** The block data as listening data, for trainModel. */
function blockListening(): ListeningData {
  const counts = blockMatrix(0.7, 23);
  return {
    artists: Array.from({ length: 30 }, (_, i) => ({
      id: i + 1,
      name: `Artist ${i}`,
      key: `artist ${i}`,
      tags: [],
      url: null,
    })),
    users: Array.from({ length: 36 }, (_, i) => `user${i}`),
    counts,
    source: 'test:blocks',
  };
}

const IMPLICIT_PARAMETERS: TrainingParameters = {
  solver: 'implicit',
  confidence: 1,
  components: 3,
  weighting: 'log1p',
  seed: 3,
  maxIterations: 40,
  tolerance: 0,
  l1Artist: 0,
  l2Artist: 0.1,
  l1User: 0,
  l2User: 0.1,
  minListeners: 1,
};

test('trainModel with the implicit solver: header, file round trip, fold-in on its objective', async () => {
  const model = await trainModel(blockListening(), IMPLICIT_PARAMETERS, {
    foldIn: { l1: 0, l2: 0.1 },
  });
  assert.equal(model.meta.parameters.solver, 'implicit');
  assert.equal(model.meta.parameters.confidence, 1);

  const folder = mkdtempSync(join(tmpdir(), 'implicit-nmf-'));
  try {
    const path = join(folder, 'model.nmf');
    await writeModel(path, model);
    const read = readModel(path);
    assert.equal(read.meta.parameters.solver, 'implicit');
    assert.equal(read.meta.parameters.confidence, 1);

    // A listener of block 1 (artists 10..19): stationary on the implicit objective, and the
    // block's other artists score above every artist of the other blocks.
    const entries = [
      { index: 11, weight: Math.log1p(5) },
      { index: 14, weight: Math.log1p(2) },
      { index: 17, weight: Math.log1p(9) },
    ];
    const u = foldIn(read, entries);
    const taste = new Map(entries.map(({ index, weight }) => [index, weight]));
    assertStationary(u, denseRowGradient(read.artistFactors, 30, 3, taste, 1, 0.1, u), 1e-4);
    const scores = Array.from({ length: 30 }, (_, artist) => {
      let score = 0;
      for (let t = 0; t < 3; t++) score += read.artistFactors[artist * 3 + t] * u[t];
      return score;
    });
    const inside = [10, 12, 13, 15, 16, 18, 19].map((artist) => scores[artist]);
    const outside = scores.filter((_, artist) => artist < 10 || artist >= 20);
    assert.ok(Math.min(...inside) > Math.max(...outside));

    // Its objective is no higher than at nearby non-negative points, nor at the zero vector.
    const at = implicitFoldInObjective(read, entries, u, 0.1);
    assert.ok(at < implicitFoldInObjective(read, entries, new Float64Array(3), 0.1));
    for (let j = 0; j < 3; j++) {
      const moved = Float64Array.from(u);
      moved[j] = Math.max(0, moved[j] + 0.01);
      assert.ok(at <= implicitFoldInObjective(read, entries, moved, 0.1) + 1e-12);
    }

    // Repeated entries count as one played cell with the summed weight.
    const split = foldIn(read, [
      { index: 11, weight: Math.log1p(5) / 2 },
      { index: 11, weight: Math.log1p(5) / 2 },
      entries[1],
      entries[2],
    ]);
    for (let j = 0; j < 3; j++) assert.ok(Math.abs(split[j] - u[j]) < 1e-9);
    assert.ok(foldIn(read, []).every((value) => value === 0));
    assert.throws(() => foldIn(read, [{ index: 30, weight: 1 }]), /outside/);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('trainModel rejects implicit settings it cannot honour', async () => {
  await assert.rejects(
    trainModel(blockListening(), { ...IMPLICIT_PARAMETERS, confidence: undefined }),
    /confidence/,
  );
  await assert.rejects(
    trainModel(blockListening(), { ...IMPLICIT_PARAMETERS, l1User: 1 }),
    /L1/,
  );
  await assert.rejects(
    trainModel(blockListening(), {
      ...IMPLICIT_PARAMETERS,
      solver: 'kl' as unknown as TrainingParameters['solver'],
    }),
    /solver/,
  );
});

test('recommend on an implicit model: log1p taste, implicit fold-in, half-and-half blend', async () => {
  const model = await trainModel(blockListening(), IMPLICIT_PARAMETERS, {
    foldIn: { l1: 0, l2: 0.1 },
  });
  assert.equal(neighbourBlend(model.meta), IMPLICIT_NEIGHBOUR_BLEND);
  assert.equal(neighbourBlend({ ...model.meta, parameters: FROBENIUS_LIKE }), NEIGHBOUR_BLEND);

  // Expected scores, computed here: fold-in of log(1 + count), W u and summed cosines, each
  // scaled by its maximum, blended with IMPLICIT_NEIGHBOUR_BLEND.
  const taste = [
    { artist: 21, count: 4 },
    { artist: 25, count: 30 },
  ];
  const k = model.components;
  const u = foldIn(
    model,
    taste.map(({ artist, count }) => ({ index: artist, weight: Math.log1p(count) })),
  );
  const foldInScores: number[] = [];
  const neighbourScores: number[] = [];
  for (let row = 0; row < 30; row++) {
    let prediction = 0;
    let neighbour = 0;
    for (let c = 0; c < k; c++) prediction += model.artistFactors[row * k + c] * u[c];
    for (const { artist } of taste) {
      for (let c = 0; c < k; c++) {
        neighbour += model.similarityEmbedding[row * k + c] * model.similarityEmbedding[artist * k + c];
      }
    }
    foldInScores.push(Math.max(0, prediction));
    neighbourScores.push(Math.max(0, neighbour));
  }
  const foldInMax = Math.max(...foldInScores);
  const neighbourMax = Math.max(...neighbourScores);
  const expected = foldInScores.map(
    (score, row) =>
      ((1 - IMPLICIT_NEIGHBOUR_BLEND) * score) / foldInMax +
      (IMPLICIT_NEIGHBOUR_BLEND * neighbourScores[row]) / neighbourMax,
  );

  const picks = new Recommender(model).recommend(
    taste.map(({ artist, count }) => ({ artistKey: `artist ${artist}`, weight: count })),
    5,
  );
  assert.equal(picks.length, 5);
  for (const pick of picks) {
    const row = pick.artist.id - 1;
    assert.ok(row >= 20 && row < 30 && row !== 21 && row !== 25, `pick ${row} is in block 2`);
    assert.ok(Math.abs(pick.score - expected[row]) < 1e-5, `${pick.score} vs ${expected[row]}`);
  }
  const ranked = expected
    .map((score, row) => ({ score, row }))
    .filter(({ row }) => row !== 21 && row !== 25)
    .sort((a, b) => b.score - a.score || a.row - b.row)
    .slice(0, 5)
    .map(({ row }) => row);
  assert.deepEqual(
    picks.map((pick) => pick.artist.id - 1),
    ranked,
  );
});

const FROBENIUS_LIKE: TrainingParameters = {
  ...IMPLICIT_PARAMETERS,
  solver: undefined,
  confidence: undefined,
};
