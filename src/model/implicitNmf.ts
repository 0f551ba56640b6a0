/**
 * Confidence-weighted non-negative factorization for implicit feedback: implicit-feedback ALS
 * (Hu, Koren & Volinsky 2008) with W >= 0 and H >= 0, fitted by coordinate descent.
 *
 * For the weighted artists x users matrix X (x_au > 0 where user u played artist a), the
 * preference is p_au = 1 where x_au > 0 and 0 elsewhere, the confidence c_au = 1 + alpha x_au
 * where x_au > 0 and 1 elsewhere, and with W (artists x k) and H^T (users x k), both >= 0:
 *
 *   min  0.5 sum_{a,u} c_au (p_au - w_a . h_u)^2 + 0.5 l2Artist ||W||^2 + 0.5 l2User ||H||^2
 *
 * Every cell counts, played or not, yet each half-step costs O(nnz k + rows k^2) per sweep: for
 * one user with W fixed and G = W^T W, the objective in h is
 *
 *   0.5 h^T (G + l2 I) h + 0.5 sum_{a played} (c_a - 1) (w_a . h)^2 - sum_{a played} c_a w_a . h
 *
 * (the all-ones part through G once per half-step, the correction over the row's nonzeros only).
 * Update rule: cyclic coordinate descent on that non-negative quadratic, each coordinate moved to
 * its exact minimiser given the others,
 *
 *   h_j <- max(0, h_j - g_j / (G_jj + l2 + sum_{a played} (c_a - 1) w_aj^2)),
 *
 * keeping the gradient g current through G h (O(k) a move) and the predictions e_a = w_a . h of
 * the played artists (O(nonzeros) a move): the CD form of iALS (Rendle et al. 2021, "iALS++"),
 * with the clamp at 0 of HALS (Cichocki & Phan 2009). Each iteration updates every user (H) with
 * W fixed, then every artist (W) with H fixed, `sweeps` coordinate sweeps per row; neither
 * half-step can raise the objective. Deterministic: the same matrix and options give the same
 * bytes, whatever the thread count.
 *
 * How it runs (src/model/implicitWorker.ts): the rows of a half-step are independent given the
 * Gram matrix, so the main thread and a worker take chunks of them in turn; Gram matrices are
 * split by their entries (each summed in row order by one thread), and the objective's played
 * cells are predicted in parallel and summed in cell order, so no sum changes its order. Both
 * steps run in WebAssembly SIMD (src/model/wasm/implicit.wat) on one shared memory, with the
 * same operations in the same order as `RowSolver` below and `gram` (src/model/embedding.ts):
 * the factors are bit-identical to those plain-JS loops, which remain the readable statement and
 * the tests' reference. On the Last.fm data (6,958 x 1,885, k = 256, 25 iterations) training
 * takes about 5.4 s on two threads and 10.3 s on one; the plain-JS loop took 38 s at k = 192.
 */
import type { Worker } from 'node:worker_threads';
import type { SparseMatrix } from './sparse.ts';
import { nonzeros, transposeCsr } from './sparse.ts';
import { gram, symmetrize } from './embedding.ts';
import { seededRandom } from './random.ts';
import type { NmfProgress } from './nmf.ts';
import type {
  ImplicitSetup,
  ImplicitSide,
  ImplicitStep,
  ImplicitTask,
  ImplicitWork,
} from './implicitWorker.ts';
import { IMPLICIT_WORKER_ROLE, ImplicitThread, cellPredictions } from './implicitWorker.ts';
import { SharedArena, implicitScratchLength } from './wasm/kernels.ts';
import {
  WorkerPool, balancedSplit, chooseThreads, csrIn, maxRowLength, triangleSplit,
} from './threads.ts';

export interface ImplicitNmfOptions {
  components: number;
  maxIterations: number;
  /** Stop once the relative change of the objective falls below this. */
  tolerance: number;
  seed: number;
  /** Confidence per unit of weighted count: c = 1 + alpha x on played cells. */
  alpha: number;
  l2Artist: number;
  l2User: number;
  /** Coordinate sweeps per row and half-step (default 3). */
  sweeps?: number;
  /** Default: min(2, available cores), or 1 when the matrix is too small to repay a thread. */
  threads?: number;
  /** Called after every iteration; returning `false` stops early. */
  onIteration?: (progress: NmfProgress) => void | boolean;
}

export interface ImplicitNmfResult {
  /** W: rows x k, row-major. */
  artistFactors: Float32Array;
  /** H^T: columns x k, row-major. */
  userFactors: Float32Array;
  components: number;
  iterations: number;
  objective: number;
  converged: boolean;
  seconds: number;
  /** Threads that actually worked (1 when workers could not start). */
  threads: number;
}

const DEFAULT_SWEEPS = 3;

/** Rows of each side are cut into this many chunks of about equal cost, taken in turn. */
const ROW_CHUNKS = 64;

/** The upper triangle of a Gram matrix is cut into this many parts by its rows. */
const GRAM_PARTS = 16;


/**
 * Factorizes `matrix` (artists x users, non-negative weights) under the objective above.
 * Cost per iteration O(sweeps (nnz k + (rows + columns) k^2)), shared by `threads` threads;
 * memory O(nnz + (rows + columns) k + threads k maxRowLength).
 * Rejects with a RangeError on an empty matrix, negative or non-finite values, or bad options.
 */
export async function factorizeImplicit(
  matrix: SparseMatrix,
  options: ImplicitNmfOptions,
): Promise<ImplicitNmfResult> {
  const started = performance.now();
  validate(matrix, options);
  const k = options.components;
  const sweeps = options.sweeps ?? DEFAULT_SWEEPS;
  const { rows, columns } = matrix;
  const byUser = transposeCsr(matrix);
  const cells = nonzeros(matrix);
  const threads = chooseThreads(matrix, options.components, options.threads);
  const maxEntries = Math.max(maxRowLength(matrix), maxRowLength(byUser));

  // Both orientations of X, the factors, the Grams and the cell predictions in one shared
  // WebAssembly memory.
  const arena = new SharedArena(
    SharedArena.bytesFor([
      (rows + 1) * 4,
      (columns + 1) * 4,
      ...[cells, cells, cells, cells].map((count) => count * 4),
      rows * k * 4,
      columns * k * 4,
      k * k * 8,
      k * k * 8,
      cells * 8,
      4,
      threads * implicitScratchLength(k, maxEntries) * 8,
    ]),
  );
  const byArtist = csrIn(arena, matrix);
  const byUserShared = csrIn(arena, byUser);

  // Small uniform start, scaled so that a prediction w . h starts near 1/4 of the preference.
  const random = seededRandom(options.seed);
  const scale = Math.sqrt(0.25 / k) * 2;
  const artistFactors = arena.float32(rows * k);
  const userFactors = arena.float32(columns * k);
  for (let i = 0; i < artistFactors.length; i++) artistFactors[i] = scale * random();
  for (let i = 0; i < userFactors.length; i++) userFactors[i] = scale * random();

  const artistGram = arena.float64(k * k);
  const userGram = arena.float64(k * k);
  const { alpha, l2Artist, l2User } = options;
  const work: ImplicitWork = {
    k,
    alpha,
    sweeps,
    maxEntries,
    sides: [
      side(byArtist, artistFactors, userFactors, userGram, artistGram, l2Artist),
      side(byUserShared, userFactors, artistFactors, artistGram, userGram, l2User),
    ],
    rowBounds: [balancedSplit(matrix, k, ROW_CHUNKS), balancedSplit(byUser, k, ROW_CHUNKS)],
    gramBounds: triangleSplit(k, GRAM_PARTS),
    predictions: arena.float64(cells),
    counter: arena.int32(1),
    scratch: arena.float64(threads * implicitScratchLength(k, maxEntries)),
    memory: arena.memory,
  };
  const team = await ImplicitTeam.start(threads, work);
  try {
    await team.gram(0);
    let previous = Number.POSITIVE_INFINITY;
    let value = Number.POSITIVE_INFINITY;
    let iteration = 0;
    let converged = false;
    while (iteration < options.maxIterations) {
      iteration++;

      // Users with W fixed, then artists with H fixed; each Gram matrix is formed once and
      // serves both the next half-step and the objective.
      await team.run('rows', 1);
      await team.gram(1);
      await team.run('rows', 0);
      await team.gram(0);
      await team.run('predictions', 0);

      value = objectiveFromPredictions(matrix, artistFactors, userFactors, k, options,
        artistGram, userGram, work.predictions);
      const relativeChange = Number.isFinite(previous)
        ? Math.abs(previous - value) / Math.max(Math.abs(previous), 1e-300)
        : Number.POSITIVE_INFINITY;
      previous = value;
      const keepGoing = options.onIteration?.({
        iteration,
        objective: value,
        relativeChange,
        seconds: (performance.now() - started) / 1000,
      });
      if (relativeChange < options.tolerance) {
        converged = true;
        break;
      }
      if (keepGoing === false) break;
    }

    return {
      artistFactors: Float32Array.from(artistFactors),
      userFactors: Float32Array.from(userFactors),
      components: k,
      iterations: iteration,
      objective: value,
      converged,
      seconds: (performance.now() - started) / 1000,
      threads: team.size,
    };
  } catch (error) {
    team.discard();
    throw error;
  } finally {
    team.release();
  }
}

/**
 * The objective above at (W, H^T), both row-major (rows x k and columns x k). Uses
 * sum over all cells of (w . h)^2 = tr((W^T W)(H H^T)): O(nnz k + (rows + columns) k^2).
 */
export function implicitObjective(
  matrix: SparseMatrix,
  artistFactors: Float32Array,
  userFactors: Float32Array,
  k: number,
  penalties: { alpha: number; l2Artist: number; l2User: number },
  grams?: { artistGram: Float64Array; userGram: Float64Array },
): number {
  const artistGram = grams?.artistGram ?? gram(artistFactors, matrix.rows, k);
  const userGram = grams?.userGram ?? gram(userFactors, matrix.columns, k);
  const predictions = new Float64Array(nonzeros(matrix));
  const artists = { ...matrix, factors: artistFactors, other: userFactors };
  cellPredictions(artists, k, 0, matrix.rows, predictions);
  return objectiveFromPredictions(matrix, artistFactors, userFactors, k, penalties, artistGram,
    userGram, predictions);
}

/** The objective given both Grams and the prediction of every stored cell. O(nnz + k^2). */
function objectiveFromPredictions(
  matrix: SparseMatrix,
  artistFactors: Float32Array,
  userFactors: Float32Array,
  k: number,
  penalties: { alpha: number; l2Artist: number; l2User: number },
  artistGram: Float64Array,
  userGram: Float64Array,
  predictions: Float64Array,
): number {
  let value = 0;
  for (let i = 0; i < k * k; i++) value += artistGram[i] * userGram[i];

  // Played cells: c (1 - e)^2 in place of the e^2 counted above.
  const { values } = matrix;
  for (let i = 0; i < predictions.length; i++) {
    const prediction = predictions[i];
    const confidence = 1 + penalties.alpha * values[i];
    value += confidence * (1 - prediction) ** 2 - prediction * prediction;
  }

  let artistSquares = 0;
  for (let i = 0; i < artistFactors.length; i++) artistSquares += artistFactors[i] ** 2;
  let userSquares = 0;
  for (let i = 0; i < userFactors.length; i++) userSquares += userFactors[i] ** 2;
  return 0.5 * (value + penalties.l2Artist * artistSquares + penalties.l2User * userSquares);
}

/**
 * Solves the per-row problem of the file header: minimise over f >= 0
 *   0.5 f^T (G + l2 I) f + 0.5 sum_i (c_i - 1) (y_i . f)^2 - sum_i c_i y_i . f
 * for the played rows y_i of the fixed factors, by `sweeps` coordinate sweeps from `f`'s value.
 * Scratch buffers are sized once; O(sweeps (entries k + k^2)) a row. Serves fold-in; the trainer
 * runs the same computation in WebAssembly (`ImplicitKernel.solveRows`), checked against this.
 */
export class RowSolver {
  /** Played factor rows, transposed: component t of entry i at t * entries + i. */
  private readonly played: Float64Array;
  private readonly extra: Float64Array;
  private readonly predictions: Float64Array;
  private readonly gramTimesRow: Float64Array;
  private readonly row: Float64Array;

  constructor(
    private readonly k: number,
    maxEntries: number,
  ) {
    this.played = new Float64Array(k * Math.max(1, maxEntries));
    this.extra = new Float64Array(Math.max(1, maxEntries));
    this.predictions = new Float64Array(Math.max(1, maxEntries));
    this.gramTimesRow = new Float64Array(k);
    this.row = new Float64Array(k);
  }

  /**
   * Updates rows r in [start, end) of `factors` (rows of `matrix` x k; all rows by default)
   * with `other` (columns of `matrix` x k) fixed; `otherGram` = other^T other.
   * O(sweeps (nnz k + rows k^2)).
   */
  updateRows(
    matrix: SparseMatrix,
    factors: Float32Array,
    other: Float32Array,
    otherGram: Float64Array,
    alpha: number,
    l2: number,
    sweeps: number,
    start = 0,
    end = matrix.rows,
  ): void {
    const k = this.k;
    const { rowPointers, columnIndices, values } = matrix;
    for (let r = start; r < end; r++) {
      const from = rowPointers[r];
      const to = rowPointers[r + 1];
      const row = this.row;
      for (let t = 0; t < k; t++) row[t] = factors[r * k + t];
      this.solve(otherGram, l2, other, columnIndices, values, from, to, alpha, sweeps, row);
      for (let t = 0; t < k; t++) factors[r * k + t] = row[t];
    }
  }

  /**
   * One row: entries `from..to` of (`indices`, `weights`) name the played rows of `other` and
   * their weights x (confidence 1 + alpha x). `row` holds the start and receives the result.
   * Stops before `sweeps` once a sweep moves no coordinate by more than `tolerance` x the largest
   * coordinate (never, at the default 0). Returns the sweeps made.
   */
  solve(
    otherGram: Float64Array,
    l2: number,
    other: Float32Array,
    indices: Int32Array | Uint32Array,
    weights: Float32Array | Float64Array,
    from: number,
    to: number,
    alpha: number,
    sweeps: number,
    row: Float64Array,
    tolerance = 0,
  ): number {
    const k = this.k;
    const entries = to - from;
    const played = this.played;
    const extra = this.extra;
    const predictions = this.predictions;
    const gramTimesRow = this.gramTimesRow;

    // Gather the played rows (transposed) and their current predictions.
    for (let i = 0; i < entries; i++) {
      const base = indices[from + i] * k;
      extra[i] = alpha * weights[from + i];
      let prediction = 0;
      for (let t = 0; t < k; t++) {
        const value = other[base + t];
        played[t * entries + i] = value;
        prediction += value * row[t];
      }
      predictions[i] = prediction;
    }
    for (let t = 0; t < k; t++) {
      let sum = 0;
      const base = t * k;
      for (let s = 0; s < k; s++) sum += otherGram[base + s] * row[s];
      gramTimesRow[t] = sum;
    }

    let sweep = 0;
    while (sweep < sweeps) {
      sweep++;
      let largestChange = 0;
      let largestValue = 0;
      for (let j = 0; j < k; j++) {
        // Gradient and curvature of coordinate j.
        const column = j * entries;
        let gradient = gramTimesRow[j] + l2 * row[j];
        let curvature = otherGram[j * k + j] + l2;
        for (let i = 0; i < entries; i++) {
          const y = played[column + i];
          const weight = extra[i];
          gradient += y * (weight * predictions[i] - (1 + weight));
          curvature += weight * y * y;
        }
        if (!(curvature > 0)) continue;

        const next = Math.max(0, row[j] - gradient / curvature);
        const change = next - row[j];
        if (next > largestValue) largestValue = next;
        if (change === 0) continue;
        if (Math.abs(change) > largestChange) largestChange = Math.abs(change);
        row[j] = next;
        const base = j * k;
        for (let s = 0; s < k; s++) gramTimesRow[s] += change * otherGram[base + s];
        for (let i = 0; i < entries; i++) predictions[i] += change * played[column + i];
      }
      if (largestChange <= tolerance * largestValue) break;
    }
    return sweep;
  }
}

function side(
  matrix: SparseMatrix,
  factors: Float32Array,
  other: Float32Array,
  otherGram: Float64Array,
  gramOut: Float64Array,
  l2: number,
): ImplicitSide {
  const { rowPointers, columnIndices, values } = matrix;
  return { rowPointers, columnIndices, values, factors, other, otherGram, gram: gramOut, l2 };
}

/**
 * The main thread plus any workers over one `ImplicitWork`. Each step resets the shared counter,
 * wakes the workers, takes chunks here too and waits for them all.
 */
class ImplicitTeam {
  private readonly thread: ImplicitThread;

  private constructor(
    private readonly work: ImplicitWork,
    private readonly workers: Worker[],
  ) {
    this.thread = new ImplicitThread(work, 0);
  }

  /** Threads taking chunks: the workers and this one. */
  get size(): number {
    return this.workers.length + 1;
  }

  /** Starts `threads - 1` workers on `work`; with none if they cannot start. */
  static async start(threads: number, work: ImplicitWork): Promise<ImplicitTeam> {
    if (threads > 1) {
      // A worker that cannot start (no tsx loader, say) only costs speed: go on with one thread.
      let team: ImplicitTeam | null = null;
      try {
        team = new ImplicitTeam(work, pool.borrow(threads - 1));
        await Promise.all(team.workers.map((worker, i) =>
          pool.request(worker, { type: 'setup', ...work, thread: i + 1 })));
        return team;
      } catch {
        team?.discard();
      }
    }
    return new ImplicitTeam(work, []);
  }

  /** Runs one step on side `sideIndex` over all threads. */
  async run(task: ImplicitTask, sideIndex: 0 | 1): Promise<void> {
    Atomics.store(this.work.counter, 0, 0);
    const pending = this.workers.map((worker) =>
      pool.request(worker, { type: task, side: sideIndex }));
    this.thread.run(task, sideIndex);
    await Promise.all(pending);
  }

  /** The full, symmetric Gram matrix of side `sideIndex`'s factors into its `gram`. */
  async gram(sideIndex: 0 | 1): Promise<void> {
    await this.run('gram', sideIndex);
    symmetrize(this.work.sides[sideIndex].gram, this.work.k);
  }

  /** Returns the workers to the idle pool (no-op after `discard`). */
  release(): void {
    pool.giveBack(this.workers.splice(0));
  }

  /** Stops the workers after a failure, so a broken one is never reused. */
  discard(): void {
    for (const worker of this.workers.splice(0)) void worker.terminate();
  }
}

/** The worker threads of this trainer, kept between factorizations. */
const pool = new WorkerPool<ImplicitSetup | ImplicitStep>(
  new URL('./implicitWorker.ts', import.meta.url), IMPLICIT_WORKER_ROLE, 'implicit NMF worker');

function validate(matrix: SparseMatrix, options: ImplicitNmfOptions): void {
  const { components, maxIterations, tolerance, alpha, l2Artist, l2User } = options;
  if (matrix.rows === 0 || matrix.columns === 0) {
    throw new RangeError(
      `factorizeImplicit: the matrix is empty (${matrix.rows} x ${matrix.columns})`,
    );
  }
  for (let i = 0; i < matrix.values.length; i++) {
    const value = matrix.values[i];
    if (!(value >= 0) || !Number.isFinite(value)) {
      throw new RangeError(`factorizeImplicit: the matrix holds a bad value ${value}`);
    }
  }
  if (!Number.isInteger(components) || components < 1) {
    throw new RangeError(
      `factorizeImplicit: components must be a whole number >= 1, got ${components}`,
    );
  }
  if (!Number.isInteger(maxIterations) || maxIterations < 1) {
    throw new RangeError(`factorizeImplicit: maxIterations must be >= 1, got ${maxIterations}`);
  }
  const sweeps = options.sweeps ?? DEFAULT_SWEEPS;
  if (!Number.isInteger(sweeps) || sweeps < 1) {
    throw new RangeError(`factorizeImplicit: sweeps must be a whole number >= 1, got ${sweeps}`);
  }
  const threads = options.threads;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
    throw new RangeError(`factorizeImplicit: threads must be a whole number >= 1, got ${threads}`);
  }
  for (const [name, value] of [
    ['tolerance', tolerance],
    ['alpha', alpha],
    ['l2Artist', l2Artist],
    ['l2User', l2User],
  ] as const) {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`factorizeImplicit: ${name} must be a number >= 0, got ${value}`);
    }
  }
}
