import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCsr } from '../src/model/sparse.ts';
import type { SparseMatrix } from '../src/model/sparse.ts';
import { factorize, objective } from '../src/model/nmf.ts';
import type { NmfOptions, NmfProgress } from '../src/model/nmf.ts';
import { transposeCsr } from '../src/model/sparse.ts';
import { sweepRows, sweepScratch } from '../src/model/nmfWorker.ts';
import { symmetrize } from '../src/model/embedding.ts';

/** A seeded uniform generator for fixtures (independent of the trainer's own). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

/**
 * X = W0 H0 with sparse non-negative W0 (rows x rank) and H0 (rank x columns), keeping only
 * cells where the product is nonzero. Returns X and its dense form.
 */
function plantedMatrix(rows: number, columns: number, rank: number, seed: number) {
  const next = random(seed);
  const w0 = Array.from({ length: rows }, () =>
    Array.from({ length: rank }, () => (next() < 0.5 ? next() * 2 : 0)),
  );
  const h0 = Array.from({ length: rank }, () =>
    Array.from({ length: columns }, () => (next() < 0.5 ? next() * 3 : 0)),
  );
  const denseX: number[][] = [];
  const r: number[] = [];
  const c: number[] = [];
  const v: number[] = [];
  for (let i = 0; i < rows; i++) {
    denseX.push([]);
    for (let j = 0; j < columns; j++) {
      let x = 0;
      for (let t = 0; t < rank; t++) x += w0[i][t] * h0[t][j];
      denseX[i].push(Math.fround(x));
      if (x > 0) {
        r.push(i);
        c.push(j);
        v.push(x);
      }
    }
  }
  return { matrix: buildCsr(rows, columns, r, c, v), denseX };
}

const planted = plantedMatrix(60, 45, 4, 7);

function options(overrides: Partial<NmfOptions> = {}): NmfOptions {
  return {
    components: 4,
    maxIterations: 300,
    tolerance: 1e-7,
    seed: 42,
    l1Artist: 0,
    l2Artist: 0,
    l1User: 0,
    l2User: 0,
    threads: 1,
    ...overrides,
  };
}

/** 0.5 ||X - W H||^2 + penalties computed densely, cell by cell. */
function denseObjective(
  denseX: number[][],
  w: Float32Array,
  ht: Float32Array,
  k: number,
  penalties: { l1Artist: number; l2Artist: number; l1User: number; l2User: number },
): number {
  let residual = 0;
  for (let i = 0; i < denseX.length; i++) {
    for (let j = 0; j < denseX[i].length; j++) {
      let p = 0;
      for (let t = 0; t < k; t++) p += w[i * k + t] * ht[j * k + t];
      residual += (denseX[i][j] - p) ** 2;
    }
  }
  let sumW = 0;
  let squaresW = 0;
  for (const x of w) {
    sumW += x;
    squaresW += x * x;
  }
  let sumH = 0;
  let squaresH = 0;
  for (const x of ht) {
    sumH += x;
    squaresH += x * x;
  }
  return (
    0.5 * residual +
    penalties.l1Artist * sumW +
    0.5 * penalties.l2Artist * squaresW +
    penalties.l1User * sumH +
    0.5 * penalties.l2User * squaresH
  );
}

function squaredNorm(denseX: number[][]): number {
  let total = 0;
  for (const row of denseX) for (const x of row) total += x * x;
  return total;
}

test('the objective never increases from one iteration to the next', async () => {
  const seen: NmfProgress[] = [];
  await factorize(
    planted.matrix,
    options({ l1Artist: 0.01, l2User: 0.1, onIteration: (p) => void seen.push(p) }),
  );

  assert.ok(seen.length > 10);
  for (let i = 1; i < seen.length; i++) {
    assert.ok(
      seen[i].objective <= seen[i - 1].objective * (1 + 1e-9),
      `iteration ${seen[i].iteration}: ${seen[i].objective} > ${seen[i - 1].objective}`,
    );
    assert.equal(seen[i].iteration, i + 1);
  }
  assert.equal(seen[0].relativeChange, Infinity);
});

test('a planted rank-4 non-negative matrix is reconstructed closely', async () => {
  const result = await factorize(planted.matrix, options({ maxIterations: 2000, tolerance: 1e-9 }));

  // Relative reconstruction error ||X - W H|| / ||X||, from a dense computation.
  const residual =
    2 *
    denseObjective(planted.denseX, result.artistFactors, result.userFactors, 4, {
      l1Artist: 0,
      l2Artist: 0,
      l1User: 0,
      l2User: 0,
    });
  const relativeError = Math.sqrt(residual / squaredNorm(planted.denseX));
  assert.ok(relativeError < 0.02, `relative error ${relativeError}`);
  assert.equal(result.artistFactors.length, 60 * 4);
  assert.equal(result.userFactors.length, 45 * 4);
  for (const x of result.artistFactors) assert.ok(x >= 0);
  for (const x of result.userFactors) assert.ok(x >= 0);
});

test('the reported objective equals objective() and a dense computation', async () => {
  const penalties = { l1Artist: 0.05, l2Artist: 0.2, l1User: 0.03, l2User: 0.1 };
  const result = await factorize(planted.matrix, options({ ...penalties, maxIterations: 40 }));

  const direct = objective(planted.matrix, result.artistFactors, result.userFactors, 4, penalties);
  const dense = denseObjective(
    planted.denseX,
    result.artistFactors,
    result.userFactors,
    4,
    penalties,
  );
  assert.ok(Math.abs(direct - dense) <= 1e-6 * dense, `objective() ${direct} vs dense ${dense}`);
  assert.ok(
    Math.abs(result.objective - dense) <= 1e-6 * dense,
    `reported ${result.objective} vs dense ${dense}`,
  );
  assert.equal(result.iterations, 40);
  assert.equal(result.converged, false);
});

test('the same seed gives byte-identical factors; another seed does not', async () => {
  const first = await factorize(planted.matrix, options({ maxIterations: 25 }));
  const second = await factorize(planted.matrix, options({ maxIterations: 25 }));
  const other = await factorize(planted.matrix, options({ maxIterations: 25, seed: 43 }));

  assert.ok(
    Buffer.from(first.artistFactors.buffer).equals(Buffer.from(second.artistFactors.buffer)),
  );
  assert.ok(Buffer.from(first.userFactors.buffer).equals(Buffer.from(second.userFactors.buffer)));
  assert.equal(first.objective, second.objective);
  assert.ok(
    !Buffer.from(first.artistFactors.buffer).equals(Buffer.from(other.artistFactors.buffer)),
  );
});

test('two threads give the same factors and objective as one', async () => {
  const larger = plantedMatrix(300, 200, 6, 11).matrix;
  const settings = { components: 6, maxIterations: 30, l1Artist: 0.01, l2User: 0.05 };
  const single = await factorize(larger, options({ ...settings, threads: 1 }));
  const double = await factorize(larger, options({ ...settings, threads: 2 }));
  const triple = await factorize(larger, options({ ...settings, threads: 3 }));

  assert.ok(
    Math.abs(single.objective - double.objective) <= 1e-9 * single.objective,
    `${single.objective} vs ${double.objective}`,
  );
  assert.deepEqual([single.threads, double.threads, triple.threads], [1, 2, 3]);
  // Chunks are reduced in a fixed order, so even the bytes agree.
  for (const other of [double, triple]) {
    assert.ok(
      Buffer.from(single.artistFactors.buffer).equals(Buffer.from(other.artistFactors.buffer)),
    );
    assert.ok(Buffer.from(single.userFactors.buffer).equals(Buffer.from(other.userFactors.buffer)));
  }
});

for (const inner of [undefined, { artist: 3, user: 5 }]) {
  const label = inner ? ', with inner passes' : '';
  test(`the trainer (WebAssembly, in chunks) follows plain-JS sweeps step by step${label}`, () =>
    followsPlainSweeps(inner));
}

async function followsPlainSweeps(inner?: { artist: number; user: number }) {
  // Plain-JS HALS over all rows at once (nmfWorker's sweepRows), from the same warm start.
  const { matrix } = plantedMatrix(80, 70, 5, 19);
  const k = 5;
  const penalties = { l1Artist: 0.02, l2Artist: 0.1, l1User: 0.01, l2User: 0.05 };
  const next = random(5);
  const start = {
    artistFactors: Float32Array.from({ length: matrix.rows * k }, () => next()),
    userFactors: Float32Array.from({ length: matrix.columns * k }, () => next()),
  };
  const w = Float32Array.from(start.artistFactors);
  const ht = Float32Array.from(start.userFactors);
  const byUser = transposeCsr(matrix);
  const artistGram = new Float64Array(k * k);
  const userGram = new Float64Array(k * k);
  for (let j = 0; j < matrix.columns; j++) {
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) userGram[a * k + b] += ht[j * k + a] * ht[j * k + b];
    }
  }
  const scratch = sweepScratch(k);
  const expected: number[] = [];
  for (let iteration = 0; iteration < 8; iteration++) {
    const artists = { ...matrix, factors: w, other: ht, otherGram: userGram };
    const artistSide = {
      ...artists,
      l1: penalties.l1Artist,
      l2: penalties.l2Artist,
      passes: inner?.artist,
      passRatio: 0.2,
    };
    sweepRows(artistSide, k, 0, matrix.rows, artistGram, scratch);
    symmetrize(artistGram, k);
    const users = { ...byUser, factors: ht, other: w, otherGram: artistGram };
    const userSide = {
      ...users,
      l1: penalties.l1User,
      l2: penalties.l2User,
      passes: inner?.user,
      passRatio: 0.2,
    };
    sweepRows(userSide, k, 0, matrix.columns, userGram, scratch);
    symmetrize(userGram, k);
    expected.push(objective(matrix, w, ht, k, penalties));
  }

  const seen: number[] = [];
  const result = await factorize(
    matrix,
    options({
      components: k,
      maxIterations: 8,
      tolerance: 0,
      ...penalties,
      initial: start,
      innerPasses: inner,
      innerStop: 0.2,
      onIteration: (progress) => void seen.push(progress.objective),
    }),
  );
  assert.equal(seen.length, 8);
  for (let i = 0; i < 8; i++) {
    assert.ok(
      Math.abs(seen[i] - expected[i]) <= 1e-9 * expected[i],
      `iteration ${i + 1}: ${seen[i]} vs ${expected[i]}`,
    );
  }
  assert.ok(expected[7] < expected[0], 'the reference itself descends');
  let largest = 0;
  let worst = 0;
  for (let i = 0; i < w.length; i++) {
    largest = Math.max(largest, w[i]);
    worst = Math.max(worst, Math.abs(result.artistFactors[i] - w[i]));
  }
  for (let i = 0; i < ht.length; i++) {
    worst = Math.max(worst, Math.abs(result.userFactors[i] - ht[i]));
  }
  assert.ok(worst <= 1e-5 * largest, `largest factor difference ${worst} (scale ${largest})`);
}

test('inner passes never raise the objective and descend further per iteration', async () => {
  const { matrix, denseX } = plantedMatrix(120, 90, 6, 23);
  const penalties = { l1Artist: 0.01, l2Artist: 0, l1User: 0, l2User: 0.05 };
  const settings = { components: 6, maxIterations: 8, tolerance: 0, ...penalties };
  const one: number[] = [];
  const many: number[] = [];
  await factorize(matrix, options({ ...settings, onIteration: (p) => void one.push(p.objective) }));
  const result = await factorize(
    matrix,
    options({
      ...settings,
      innerPasses: { artist: 4, user: 4 },
      innerStop: 0,
      onIteration: (p) => void many.push(p.objective),
    }),
  );

  for (let i = 0; i < many.length; i++) {
    if (i > 0) assert.ok(many[i] <= many[i - 1] * (1 + 1e-9), `iteration ${i + 1} rose`);
    assert.ok(many[i] < one[i], `iteration ${i + 1}: ${many[i]} not below one pass's ${one[i]}`);
  }
  const dense = denseObjective(denseX, result.artistFactors, result.userFactors, 6, penalties);
  assert.ok(Math.abs(result.objective - dense) <= 1e-6 * dense, `${result.objective} vs ${dense}`);
});

test('inner passes: 1 and 2 threads give the same bytes, and the stopping rule holds', async () => {
  // Rank 4 for rank-6 data: not a perfect fit, so the relative change of the objective falls.
  const larger = plantedMatrix(300, 200, 6, 11).matrix;
  const settings = {
    components: 4,
    maxIterations: 3000,
    tolerance: 1e-6,
    l1Artist: 0.01,
    innerPasses: { artist: 3, user: 6 },
  };
  const changes: number[] = [];
  const single = await factorize(
    larger,
    options({ ...settings, threads: 1, onIteration: (p) => void changes.push(p.relativeChange) }),
  );
  const double = await factorize(larger, options({ ...settings, threads: 2 }));

  assert.equal(double.threads, 2);
  const bytes = (factors: Float32Array) => Buffer.from(factors.buffer);
  assert.ok(bytes(single.artistFactors).equals(bytes(double.artistFactors)));
  assert.ok(bytes(single.userFactors).equals(bytes(double.userFactors)));
  assert.equal(single.objective, double.objective);
  assert.ok(single.converged && single.iterations < 3000, `${single.iterations} iterations`);
  assert.equal(changes.length, single.iterations);
  assert.ok(changes[changes.length - 1] < 1e-6);
  assert.ok(changes.slice(1, -1).every((change) => change >= 1e-6));
});

test('a warm start from a previous result converges in fewer iterations', async () => {
  // Rank 3 for rank-4 data, so the optimum is not a perfect fit and convergence is relative.
  const settings = { components: 3, maxIterations: 3000, tolerance: 1e-6, l1Artist: 0.01 };
  const cold = await factorize(planted.matrix, options(settings));
  const warm = await factorize(
    planted.matrix,
    options({
      ...settings,
      seed: 99,
      initial: { artistFactors: cold.artistFactors, userFactors: cold.userFactors },
    }),
  );

  assert.ok(cold.converged && warm.converged, `cold ${cold.iterations} warm ${warm.iterations}`);
  assert.ok(
    warm.iterations < cold.iterations / 2,
    `warm ${warm.iterations} vs cold ${cold.iterations}`,
  );
  assert.ok(warm.objective <= cold.objective * (1 + 1e-6));
});

test('heavy L1 penalties drive every factor to zero', async () => {
  const result = await factorize(
    planted.matrix,
    options({ l1Artist: 1e6, l1User: 1e6, maxIterations: 20 }),
  );

  assert.ok(result.artistFactors.every((x) => x === 0));
  assert.ok(result.userFactors.every((x) => x === 0));
  const half = 0.5 * squaredNorm(planted.denseX);
  assert.ok(Math.abs(result.objective - half) <= 1e-6 * half);
});

test('bad inputs are RangeErrors with a clear message', async () => {
  const tiny = buildCsr(3, 2, [0, 1, 2], [0, 1, 0], [1, 2, 3]);
  await assert.rejects(factorize(tiny, options({ components: 3 })), {
    name: 'RangeError',
    message: /components \(3\) cannot exceed .* at most 2/,
  });
  await assert.rejects(factorize(tiny, options({ components: 0 })), /at least 1/);
  await assert.rejects(factorize(tiny, options({ components: 1.5 })), /whole number/);
  await assert.rejects(factorize(buildCsr(0, 0, [], [], []), options()), /empty matrix/);
  await assert.rejects(
    factorize(buildCsr(3, 3, [0], [0], [0]), options({ components: 1 })),
    /empty/,
  );

  const negative = buildCsr(3, 2, [0, 1, 2], [0, 1, 0], [1, -2, 3]);
  await assert.rejects(factorize(negative, options({ components: 1 })), {
    name: 'RangeError',
    message: /non-negative values; found -2/,
  });
  const notANumber = buildCsr(3, 2, [0, 1, 2], [0, 1, 0], [1, Number.NaN, 3]);
  await assert.rejects(factorize(notANumber, options({ components: 1 })), /found NaN/);
  await assert.rejects(factorize(tiny, options({ components: 1, l1Artist: -1 })), /l1Artist/);
  await assert.rejects(
    factorize(
      tiny,
      options({
        components: 1,
        initial: { artistFactors: new Float32Array(2), userFactors: new Float32Array(2) },
      }),
    ),
    /Warm-start factors do not fit/,
  );
  for (const innerPasses of [{ artist: 0, user: 1 }, { artist: 2, user: 1.5 }]) {
    await assert.rejects(factorize(tiny, options({ components: 1, innerPasses })), {
      name: 'RangeError',
      message: /innerPasses must be whole numbers/,
    });
  }
  for (const innerStop of [1, -0.1, Number.NaN]) {
    await assert.rejects(factorize(tiny, options({ components: 1, innerStop })), /innerStop/);
  }
});

test('returning false from onIteration stops after that iteration', async () => {
  const result = await factorize(
    planted.matrix,
    options({ onIteration: (progress) => progress.iteration < 3 }),
  );
  assert.equal(result.iterations, 3);
  assert.equal(result.converged, false);
});
