import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix, solve } from 'ml-matrix';
import { foldIn, foldInObjective } from '../src/model/foldIn.ts';
import type { FoldInEntry } from '../src/model/foldIn.ts';
import type { ModelData } from '../src/model/types.ts';
import { tinyModel } from './support/tinyModel.ts';

/** A model with uniform random W (n x k) and its Gram; deterministic per seed. */
function randomModel(n: number, k: number, seed: number): ModelData {
  const model = tinyModel();
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const W = new Float32Array(n * k);
  for (let i = 0; i < W.length; i++) W[i] = random() < 0.3 ? 0 : random();
  const gram = new Float64Array(k * k);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) gram[a * k + b] += W[i * k + a] * W[i * k + b];
    }
  }
  model.artists = Array.from({ length: n }, (_, i) => ({
    id: i,
    name: `A${i}`,
    key: `a${i}`,
    listeners: 1,
    tags: [],
    url: null,
  }));
  model.components = k;
  model.artistFactors = W;
  model.artistGram = gram;
  model.similarityEmbedding = new Float32Array(n * k);
  return model;
}

/** The full objective 0.5||x - W u||^2 + l1 sum u + 0.5 l2 ||u||^2, straight from W. */
function fullObjective(
  model: ModelData,
  x: Float64Array,
  u: ArrayLike<number>,
  l1: number,
  l2: number,
): number {
  const k = model.components;
  let value = 0;
  for (let i = 0; i < model.artists.length; i++) {
    let prediction = 0;
    for (let c = 0; c < k; c++) prediction += model.artistFactors[i * k + c] * u[c];
    value += 0.5 * (x[i] - prediction) ** 2;
  }
  for (let c = 0; c < k; c++) value += l1 * u[c] + 0.5 * l2 * u[c] ** 2;
  return value;
}

function denseTaste(n: number, entries: FoldInEntry[]): Float64Array {
  const x = new Float64Array(n);
  for (const { index, weight } of entries) x[index] += weight;
  return x;
}

/**
 * Exact minimiser by enumerating every support set S of u: on S the optimum solves
 * (W_S^T W_S + l2 I) u_S = W_S^T x - l1; keep the feasible (u_S >= 0) candidate with the lowest
 * full objective. Independent of the Gram matrix stored in the model. O(2^k) solves.
 */
function bruteForce(model: ModelData, x: Float64Array, l1: number, l2: number): number[] {
  const n = model.artists.length;
  const k = model.components;
  let best = new Array(k).fill(0);
  let bestValue = fullObjective(model, x, best, l1, l2);
  for (let mask = 1; mask < 1 << k; mask++) {
    const support = [...Array(k).keys()].filter((c) => mask & (1 << c));
    const WS = new Matrix(n, support.length);
    for (let i = 0; i < n; i++) {
      support.forEach((c, s) => WS.set(i, s, model.artistFactors[i * k + c]));
    }
    const lhs = WS.transpose().mmul(WS).add(Matrix.eye(support.length).mul(l2));
    const rhs = WS.transpose()
      .mmul(Matrix.columnVector(Array.from(x)))
      .sub(Matrix.columnVector(new Array(support.length).fill(l1)));
    let uS: Matrix;
    try {
      uS = solve(lhs, rhs);
    } catch {
      continue;
    }
    if (uS.to1DArray().some((value) => value < -1e-12 || !Number.isFinite(value))) continue;
    const u = new Array(k).fill(0);
    support.forEach((c, s) => (u[c] = Math.max(0, uS.get(s, 0))));
    const value = fullObjective(model, x, u, l1, l2);
    if (value < bestValue) {
      best = u;
      bestValue = value;
    }
  }
  return best;
}

/** Projected gradient descent with step 1/L (L = Frobenius bound on G + l2 I), run long. */
function projectedGradient(
  model: ModelData,
  x: Float64Array,
  l1: number,
  l2: number,
  steps: number,
): Float64Array {
  const n = model.artists.length;
  const k = model.components;
  const W = model.artistFactors;
  const u = new Float64Array(k);
  let lipschitz = l2;
  const gram = new Float64Array(k * k);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < k; a++)
      for (let b = 0; b < k; b++) gram[a * k + b] += W[i * k + a] * W[i * k + b];
  }
  lipschitz += Math.sqrt(gram.reduce((sum, value) => sum + value * value, 0));
  for (let step = 0; step < steps; step++) {
    const residual = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let prediction = 0;
      for (let c = 0; c < k; c++) prediction += W[i * k + c] * u[c];
      residual[i] = prediction - x[i];
    }
    for (let c = 0; c < k; c++) {
      let gradient = l1 + l2 * u[c];
      for (let i = 0; i < n; i++) gradient += W[i * k + c] * residual[i];
      u[c] = Math.max(0, u[c] - gradient / lipschitz);
    }
  }
  return u;
}

function randomEntries(n: number, count: number, seed: number): FoldInEntry[] {
  const entries: FoldInEntry[] = [];
  for (let e = 0; e < count; e++) {
    entries.push({ index: (seed * 7 + e * 13) % n, weight: 1 + ((seed + e * 5) % 4) });
  }
  return entries;
}

test('no entries, or only zero weights, give the zero vector', () => {
  const model = tinyModel();
  assert.deepEqual(Array.from(foldIn(model, [])), [0, 0, 0, 0]);
  assert.deepEqual(Array.from(foldIn(model, [{ index: 0, weight: 0 }])), [0, 0, 0, 0]);
});

test('a hip-hop taste loads mostly on the hip-hop component', () => {
  const model = tinyModel();
  const u = foldIn(model, [
    { index: 0, weight: 1 },
    { index: 1, weight: 1 },
  ]);
  assert.equal(u.length, 4);
  assert.ok(u.every((value) => value >= 0));
  assert.ok(u[0] > 0.05, `u = ${u}`);
  assert.ok(u[0] > 5 * Math.max(u[1], u[2], u[3]), `u = ${u}`);
});

test('matches the exact solution by support enumeration on k = 3', () => {
  for (const [seed, l1, l2] of [
    [1, 0, 0],
    [2, 0, 0.1],
    [3, 0.2, 0],
    [4, 0.05, 0.5],
    [5, 0, 0],
  ]) {
    const model = randomModel(20, 3, seed);
    const entries = randomEntries(20, 4, seed);
    const u = foldIn(model, entries, { l1, l2, tolerance: 1e-10, maxSweeps: 10_000 });
    const expected = bruteForce(model, denseTaste(20, entries), l1, l2);
    for (let c = 0; c < 3; c++) {
      assert.ok(
        Math.abs(u[c] - expected[c]) < 1e-6,
        `seed ${seed}: u = ${Array.from(u)}, exact = ${expected}`,
      );
    }
  }
});

test('matches long projected gradient on k = 8, and the default tolerance is close', () => {
  const model = randomModel(60, 8, 11);
  const entries = randomEntries(60, 6, 3);
  const x = denseTaste(60, entries);
  const l1 = 0.01;
  const l2 = 0.05;
  const reference = projectedGradient(model, x, l1, l2, 20_000);
  const u = foldIn(model, entries, { l1, l2 });
  const referenceValue = fullObjective(model, x, reference, l1, l2);
  const value = fullObjective(model, x, u, l1, l2);
  assert.ok(value <= referenceValue + 1e-6, `${value} vs ${referenceValue}`);
  for (let c = 0; c < 8; c++) {
    assert.ok(Math.abs(u[c] - reference[c]) < 1e-3, `u = ${Array.from(u)}, pg = ${reference}`);
  }

  // foldInObjective is the full objective less the constant 0.5 ||x||^2.
  const constant = 0.5 * x.reduce((sum, value) => sum + value * value, 0);
  const partial = foldInObjective(model, entries, u, { l1, l2 });
  assert.ok(Math.abs(partial + constant - value) < 1e-6 * Math.max(1, value));
});

test('penalties default to the model header', () => {
  const model = tinyModel();
  const entries = [
    { index: 8, weight: 2 },
    { index: 9, weight: 1 },
  ];
  const defaults = foldIn(model, entries);
  const explicit = foldIn(model, entries, model.meta.foldIn);
  assert.deepEqual(Array.from(defaults), Array.from(explicit));

  model.meta.foldIn = { l1: 0, l2: 50 };
  const heavier = foldIn(model, entries);
  assert.ok(heavier[1] < defaults[1] * 0.9, `${heavier} vs ${defaults}`);
});

test('a large l1 penalty gives the zero vector; repeated entries add up', () => {
  const model = tinyModel();
  assert.deepEqual(Array.from(foldIn(model, [{ index: 0, weight: 1 }], { l1: 1e6 })), [0, 0, 0, 0]);
  const twice = foldIn(model, [
    { index: 3, weight: 1 },
    { index: 3, weight: 1 },
  ]);
  const double = foldIn(model, [{ index: 3, weight: 2 }]);
  for (let c = 0; c < 4; c++) assert.ok(Math.abs(twice[c] - double[c]) < 1e-12);
});

test('bad entries throw a RangeError', () => {
  const model = tinyModel();
  assert.throws(() => foldIn(model, [{ index: -1, weight: 1 }]), RangeError);
  assert.throws(() => foldIn(model, [{ index: model.artists.length, weight: 1 }]), RangeError);
  assert.throws(() => foldIn(model, [{ index: 0, weight: Number.NaN }]), RangeError);
});
