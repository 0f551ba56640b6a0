/**
 * The hot loop of the NMF trainer (src/model/nmf.ts) and the worker thread that runs it on a
 * share of the rows.
 *
 * One call of `sweepRows` performs one HALS / coordinate-descent pass over rows [start, end) of a
 * factor F (W for artists, H^T for users) with the other factor G fixed, minimising
 *   0.5 ||X - F G^T||_F^2 + l1 |F|_1 + 0.5 l2 ||F||_F^2.
 * For row f of F, with a = x G (the row of X times G) and Q = G^T G, each component t in order:
 *   f_t <- max(0, f_t - g_t / (Q_tt + l2)),   g = Q f - a + l1 + l2 f (the gradient),
 * which is the update of Cichocki & Phan (2009) and scikit-learn's `cd` solver; with
 * side.passes > 1 the pass is repeated on the same a and Q until one decreases the row's
 * objective by at most side.passRatio times the first pass's decrease (the inner iterations of
 * accelerated HALS, Gillis & Glineur 2012). Rows of F are independent given a and Q, so any
 * split of rows over threads gives the same factors. For a sparse row the gradient g is kept up
 * to date after each change (g += delta * Q_t), so entries that are and stay zero cost nothing;
 * a row more than half nonzero forms each g_t as a dot product instead (k^2 per row, fewer passes
 * over memory).
 *
 * The trainer runs this pass in WebAssembly (src/model/wasm/hals.wat, SIMD), on factors in a
 * shared WebAssembly memory; that kernel performs the same operations in the same order as
 * `sweepRows` below and writes the same bits (test/wasmKernels.test.ts checks it), so
 * `sweepRows` remains the readable statement of the update and the tests' reference.
 *
 * Each half-iteration (`halfIteration`) first forms a = x G for every row (`productParts`: a few
 * large parts, G read in blocks that stay in cache), then runs the coordinate pass over the
 * chunks (`sweepChunks`), then sums the chunks' Grams into the side's Gram, a range of its rows
 * per part (`gramParts`); the threads wait for each other between steps on shared counters,
 * without a message.
 *
 * TODO: at Last.fm 360K scale (17.5M values, k = 32) an iteration takes about 1.2 CPU seconds
 * (0.6 s on two threads), most of it the product's cache misses; ordering users so that
 * co-listened artists sit together, or float32 products, are the next steps for catalogues
 * several times larger.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { HalsKernel, halsScratchLength } from './wasm/kernels.ts';

/** One side of the factorization as a sweep sees it. */
export interface SweepSide {
  /** CSR rows of X (or X^T) against the other side's rows. */
  rowPointers: Int32Array;
  columnIndices: Int32Array;
  values: Float32Array;
  /** The factor being updated in place: rows x k, row-major. */
  factors: Float32Array;
  /** The fixed factor: columns x k, row-major. */
  other: Float32Array;
  /** other^T other, k x k, full and symmetric. */
  otherGram: Float64Array;
  l1: number;
  l2: number;
  /**
   * Coordinate passes per row at most (default 1). Later passes reuse the row's a and Q, so they
   * cost k^2 (dense rows) or less, against nnz(row) k for a and the other side's Gram.
   */
  passes?: number;
  /**
   * A row stops after a pass whose gain (decrease of the objective) is at most this fraction of
   * its first pass's gain (default 0: only a pass that changes nothing stops it early).
   */
  passRatio?: number;
}

/** What a sweep returns besides the updated rows. */
export interface SweepTotals {
  /** Sum of the updated entries (the L1 norm, as they are non-negative). */
  sum: number;
  /** sum over rows of <f_new, x G>: this share of tr(F^T X G). */
  cross: number;
}

/** Per-thread scratch space for `sweepRows`. */
export interface SweepScratch {
  product: Float64Array;
  gradient: Float64Array;
  row: Float64Array;
  nonzeroIndex: Int32Array;
  nonzeroValue: Float64Array;
  inverseCurvature: Float64Array;
}

/** Scratch vectors for k components. */
export function sweepScratch(k: number): SweepScratch {
  return {
    product: new Float64Array(k),
    gradient: new Float64Array(k),
    row: new Float64Array(k),
    nonzeroIndex: new Int32Array(k),
    nonzeroValue: new Float64Array(k),
    inverseCurvature: new Float64Array(k),
  };
}

/**
 * Updates rows [start, end) of `side.factors` by one coordinate-descent pass and writes the upper
 * triangle of these rows' Gram matrix F^T F into `partialGram` (k x k, zeroed here first).
 * Cost O(nnz(rows) k + rows k^2) at worst; zero entries of the factors cost less.
 */
export function sweepRows(
  side: SweepSide,
  k: number,
  start: number,
  end: number,
  partialGram: Float64Array,
  scratch: SweepScratch,
): SweepTotals {
  const { rowPointers, columnIndices, values, factors, other, otherGram, l1, l2 } = side;
  const passes = side.passes ?? 1;
  const ratio = side.passRatio ?? 0;
  const { product, gradient, row, nonzeroIndex, nonzeroValue, inverseCurvature } = scratch;
  partialGram.fill(0);

  // 1 / (Q_tt + l2) once per sweep; 0 marks a component no row of G uses (its entries go to 0).
  for (let t = 0; t < k; t++) {
    const curvature = otherGram[t * k + t] + l2;
    inverseCurvature[t] = curvature > 0 ? 1 / curvature : 0;
  }
  let sum = 0;
  let cross = 0;

  // Small functions per step: V8 optimizes them reliably, where one large loop body deopts.
  for (let r = start; r < end; r++) {
    const base = r * k;
    rowTimesFactors(rowPointers[r], rowPointers[r + 1], columnIndices, values, other, k, product);
    for (let t = 0; t < k; t++) row[t] = factors[base + t];

    // Written `!(gain > ...)` so that a NaN gain stops the row, as the kernel's test does.
    let first = 0;
    for (let pass = 1; ; pass++) {
      const gain = solveRow(row, product, gradient, otherGram, inverseCurvature, k, l1, l2);
      if (pass === 1) first = gain;
      if (pass >= passes || !(gain > ratio * first)) break;
    }

    // Store in single precision; totals and the Gram use the stored values.
    let stored = 0;
    for (let t = 0; t < k; t++) {
      factors[base + t] = row[t];
      const f = factors[base + t];
      if (f === 0) continue;
      nonzeroIndex[stored] = t;
      nonzeroValue[stored++] = f;
      sum += f;
      cross += f * product[t];
    }
    addOuterProduct(nonzeroIndex, nonzeroValue, stored, k, partialGram);
  }
  return { sum, cross };
}

/** product = sum over stored cells p of values[p] * other[columnIndices[p]]. O(cells k). */
function rowTimesFactors(
  from: number,
  to: number,
  columnIndices: Int32Array,
  values: Float32Array,
  other: Float32Array,
  k: number,
  product: Float64Array,
): void {
  product.fill(0);
  for (let p = from; p < to; p++) {
    addScaledSingle(product, other, columnIndices[p] * k, values[p], k);
  }
}

/**
 * One Gauss-Seidel pass over the components of `row`, in place; returns the pass's gain, the
 * decrease of the row's objective (see `objectiveChange`). The gradient g = Q f - a + l1 + l2 f
 * is formed from the nonzero entries only and kept current after each change.
 * O(k (nonzeros + changes)).
 */
function solveRow(
  row: Float64Array,
  product: Float64Array,
  gradient: Float64Array,
  otherGram: Float64Array,
  inverseCurvature: Float64Array,
  k: number,
  l1: number,
  l2: number,
): number {
  // Keeping g current costs k per nonzero and per change, about 2 k nonzeros; a dot product per
  // component costs k^2. Dense rows take the second way.
  let nonzeros = 0;
  for (let t = 0; t < k; t++) if (row[t] !== 0) nonzeros++;
  if (2 * nonzeros > k) return solveDenseRow(row, product, otherGram, inverseCurvature, k, l1, l2);

  for (let t = 0; t < k; t++) gradient[t] = l1 - product[t] + l2 * row[t];
  for (let s = 0; s < k; s++) {
    if (row[s] !== 0) addScaledDouble(gradient, otherGram, s * k, row[s], k);
  }

  let gain = 0;
  for (let t = 0; t < k; t++) {
    const step = inverseCurvature[t];
    let next = step > 0 ? row[t] - gradient[t] * step : 0;
    if (next < 0) next = 0;
    const delta = next - row[t];
    if (delta === 0) continue;
    if (step > 0) gain -= objectiveChange(gradient[t], delta, otherGram, t, k, l2);
    row[t] = next;
    addScaledDouble(gradient, otherGram, t * k, delta, k);
    gradient[t] += delta * l2;
  }
  return gain;
}

/** The same pass as `solveRow`, forming each g_t afresh as a dot product; its gain. O(k^2). */
function solveDenseRow(
  row: Float64Array,
  product: Float64Array,
  otherGram: Float64Array,
  inverseCurvature: Float64Array,
  k: number,
  l1: number,
  l2: number,
): number {
  let gain = 0;
  for (let t = 0; t < k; t++) {
    const step = inverseCurvature[t];
    if (step === 0) {
      row[t] = 0;
      continue;
    }
    const value = row[t];
    const gradient = dot(otherGram, t * k, row, k) - product[t] + l1 + l2 * value;
    const next = value - gradient * step;
    row[t] = next > 0 ? next : 0;
    const delta = row[t] - value;
    if (delta !== 0) gain -= objectiveChange(gradient, delta, otherGram, t, k, l2);
  }
  return gain;
}

/**
 * delta (g + 0.5 (Q_tt + l2) delta): the exact change of the row's objective (a quadratic) when
 * component t moves by delta where its gradient is g. Negative for a coordinate-descent step.
 */
function objectiveChange(
  gradient: number,
  delta: number,
  otherGram: Float64Array,
  t: number,
  k: number,
  l2: number,
): number {
  return delta * (gradient + 0.5 * (otherGram[t * k + t] + l2) * delta);
}

/** x[from .. from + k) . y, with four partial sums. */
function dot(x: Float64Array, from: number, y: Float64Array, k: number): number {
  const last = k - (k & 3);
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let t = 0;
  for (; t < last; t += 4) {
    s0 += x[from + t] * y[t];
    s1 += x[from + t + 1] * y[t + 1];
    s2 += x[from + t + 2] * y[t + 2];
    s3 += x[from + t + 3] * y[t + 3];
  }
  for (; t < k; t++) s0 += x[from + t] * y[t];
  return s0 + s1 + s2 + s3;
}

// y += scale * x[from .. from + k), unrolled by four: V8 does not vectorise, and the unrolled
// loop runs about 1.5x faster. One copy per array type keeps each call site monomorphic.

function addScaledSingle(y: Float64Array, x: Float32Array, from: number, scale: number, k: number) {
  const last = k - (k & 3);
  let t = 0;
  for (; t < last; t += 4) {
    y[t] += scale * x[from + t];
    y[t + 1] += scale * x[from + t + 1];
    y[t + 2] += scale * x[from + t + 2];
    y[t + 3] += scale * x[from + t + 3];
  }
  for (; t < k; t++) y[t] += scale * x[from + t];
}

function addScaledDouble(y: Float64Array, x: Float64Array, from: number, scale: number, k: number) {
  const last = k - (k & 3);
  let t = 0;
  for (; t < last; t += 4) {
    y[t] += scale * x[from + t];
    y[t + 1] += scale * x[from + t + 1];
    y[t + 2] += scale * x[from + t + 2];
    y[t + 3] += scale * x[from + t + 3];
  }
  for (; t < k; t++) y[t] += scale * x[from + t];
}

/** Adds the upper triangle of v v^T, for v given by its nonzero entries, into gram. */
function addOuterProduct(
  index: Int32Array,
  value: Float64Array,
  count: number,
  k: number,
  gram: Float64Array,
): void {
  for (let p = 0; p < count; p++) {
    const f = value[p];
    const gramBase = index[p] * k;
    for (let q = p; q < count; q++) gram[gramBase + index[q]] += f * value[q];
  }
}

/**
 * The rows of both sides cut into chunks that threads take in turn from a shared counter, so a
 * thread that finishes early takes more. Each chunk writes its own Gram and totals, summed in
 * chunk order afterwards: the result does not depend on which thread did which chunk.
 */
export interface ChunkedSweep {
  k: number;
  sides: [SweepSide, SweepSide];
  /** Chunk c of side s covers rows chunkBounds[s][c] .. chunkBounds[s][c + 1]. */
  chunkBounds: [Int32Array, Int32Array];
  /** chunks x k x k: upper-triangle Gram of each chunk's rows. */
  chunkGrams: Float64Array;
  /** chunks x 2: sum and cross of each chunk. */
  chunkTotals: Float64Array;
  /** [next chunk to take]. */
  counter: Int32Array;
  /** The shared WebAssembly memory every array above (chunkBounds aside) is a view of. */
  memory: WebAssembly.Memory;
  /** threads x halsScratchLength(k): each thread's kernel scratch, by thread number. */
  scratch: Float64Array;
  /** Part p of side s's products covers rows productBounds[s][p] .. productBounds[s][p + 1]. */
  productBounds: [Int32Array, Int32Array];
  /** Rows of the other factor per block when a side's products are formed (see rowProducts). */
  blockColumns: [number, number];
  /** max(rows, columns) x k: a = x G of every row of the side being swept. */
  products: Float64Array;
  /** max(rows, columns): rowProducts' cursors. */
  cursors: Int32Array;
  /** [next product part to take]. */
  productCounter: Int32Array;
  /** Part p of a Gram's sum over chunks covers its rows gramBounds[p] .. gramBounds[p + 1]. */
  gramBounds: Int32Array;
  /** [next Gram part to take]. */
  gramCounter: Int32Array;
  /**
   * Parts finished so far of this half-iteration's products, chunks and Gram parts, then 1 once a
   * thread has failed (so that the others stop waiting for it).
   */
  finished: Int32Array;
}

/**
 * One half-iteration of side `sideIndex` as one thread takes part in it: product parts, then (once
 * every thread's products are in) chunks of the coordinate pass, then (once every chunk is swept)
 * parts of the Gram. The main thread runs it too; a thread that comes late finds the parts taken
 * and the waits over. Throws if a step stays unfinished for STEP_TIMEOUT_MS (a thread died in it).
 */
export function halfIteration(
  work: ChunkedSweep,
  sideIndex: 0 | 1,
  kernel: HalsKernel,
  thread: number,
): void {
  productParts(work, sideIndex, kernel);
  awaitFinished(work.finished, 0, work.productBounds[sideIndex].length - 1);
  sweepChunks(work, sideIndex, kernel, thread);
  awaitFinished(work.finished, 1, work.chunkBounds[sideIndex].length - 1);
  gramParts(work, sideIndex, kernel);
}

/** Longest wait for the other threads to finish a step of a half-iteration. */
const STEP_TIMEOUT_MS = 120_000;

/** Counts one finished part of step `step`, waking the waiting threads after the last one. */
function finishPart(finished: Int32Array, step: number, parts: number): void {
  if (Atomics.add(finished, step, 1) + 1 === parts) Atomics.notify(finished, step);
}

/** Index in `finished` of the failure flag. */
const FAILED = 3;

/** Tells the other threads of a half-iteration that this one failed, waking any that wait. */
export function reportFailure(finished: Int32Array): void {
  Atomics.store(finished, FAILED, 1);
  for (let step = 0; step < FAILED; step++) Atomics.notify(finished, step);
}

/** Blocks until `parts` parts of step `step` are finished; throws if a thread failed. */
function awaitFinished(finished: Int32Array, step: number, parts: number): void {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (let seen = Atomics.load(finished, step); seen < parts; seen = Atomics.load(finished, step)) {
    Atomics.wait(finished, step, seen, 100);
    if (Atomics.load(finished, FAILED) !== 0) throw new Error('NMF sweep: another thread failed');
    if (Date.now() > deadline) {
      throw new Error(`NMF sweep: step ${step} still unfinished after ${STEP_TIMEOUT_MS} ms`);
    }
  }
}

/**
 * Takes parts of side `sideIndex` from the shared product counter until none are left and forms
 * their products a = x G (the first half of a sweep; `sweepChunks` is the second).
 */
export function productParts(work: ChunkedSweep, sideIndex: 0 | 1, kernel: HalsKernel): void {
  const { k, products, cursors, productCounter } = work;
  const bounds = work.productBounds[sideIndex];
  const parts = bounds.length - 1;
  const side = work.sides[sideIndex];
  const columns = side.other.length / k;
  const block = work.blockColumns[sideIndex];
  for (let part = Atomics.add(productCounter, 0, 1); part < parts;
    part = Atomics.add(productCounter, 0, 1)) {
    kernel.rowProducts(side, k, bounds[part], bounds[part + 1], block, columns, products, cursors);
    finishPart(work.finished, 0, parts);
  }
}

/**
 * Takes chunks of side `sideIndex` from the shared counter until none are left, sweeping each
 * with the WebAssembly kernel (the same computation as `sweepRows`) and scratch slot `thread`.
 */
export function sweepChunks(
  work: ChunkedSweep,
  sideIndex: 0 | 1,
  kernel: HalsKernel,
  thread: number,
): void {
  const { k, chunkGrams, chunkTotals, counter } = work;
  const bounds = work.chunkBounds[sideIndex];
  const chunks = bounds.length - 1;
  const length = halsScratchLength(k);
  const scratch = work.scratch.subarray(thread * length, (thread + 1) * length);
  const side = work.sides[sideIndex];
  for (let chunk = Atomics.add(counter, 0, 1); chunk < chunks; chunk = Atomics.add(counter, 0, 1)) {
    const gram = chunkGrams.subarray(chunk * k * k, (chunk + 1) * k * k);
    const totals = chunkTotals.subarray(2 * chunk, 2 * chunk + 2);
    kernel.sweepRows(side, k, bounds[chunk], bounds[chunk + 1], gram, scratch, totals,
      work.products);
    finishPart(work.finished, 1, chunks);
  }
}

/**
 * Takes parts from the shared Gram counter until none are left and sums their rows of the chunk
 * Grams of side `sideIndex` into that side's Gram (the third step of a sweep): F^T F, the
 * otherGram of the other side, full and symmetric.
 */
export function gramParts(work: ChunkedSweep, sideIndex: 0 | 1, kernel: HalsKernel): void {
  const { k, chunkGrams, gramBounds, gramCounter } = work;
  const chunks = work.chunkBounds[sideIndex].length - 1;
  const gram = work.sides[1 - sideIndex].otherGram;
  const parts = gramBounds.length - 1;
  for (let part = Atomics.add(gramCounter, 0, 1); part < parts;
    part = Atomics.add(gramCounter, 0, 1)) {
    kernel.sumChunkGrams(chunkGrams, chunks, k, gram, gramBounds[part], gramBounds[part + 1]);
    finishPart(work.finished, 2, parts);
  }
}

/** Sent once per factorization: everything a worker reads or writes, in shared memory. */
export interface WorkerSetup extends ChunkedSweep {
  type: 'setup';
  /** This worker's scratch slot (the main thread has 0). */
  thread: number;
}

/** Sent once per half-iteration: take part in `halfIteration` of side 0 (artists) or 1 (users). */
export interface WorkerSweep {
  type: 'sweep';
  side: 0 | 1;
}

/** Marks the workerData of an NMF worker, so importing this file elsewhere does nothing. */
export const WORKER_ROLE = 'nmf-sweep-worker';

function runWorker(): void {
  const port = parentPort!;
  let setup: WorkerSetup | null = null;
  let kernel: HalsKernel | null = null;

  port.on('message', (message: WorkerSetup | WorkerSweep) => {
    if (message.type === 'setup') {
      setup = message;
      kernel = new HalsKernel(message.memory);
      port.postMessage({ type: 'ready' });
      return;
    }
    try {
      halfIteration(setup!, message.side, kernel!, setup!.thread);
      port.postMessage({ type: 'done' });
    } catch (error) {
      reportFailure(setup!.finished);
      port.postMessage({ type: 'failed', message: String(error) });
    }
  });
}

if (!isMainThread && workerData?.role === WORKER_ROLE) runWorker();
