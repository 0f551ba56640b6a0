/**
 * Sparse non-negative matrix factorization of the artists x users matrix X ~ W H, W >= 0
 * (artists x k), H >= 0 (k x users), minimising
 *
 *   0.5 ||X - W H||_F^2 + l1Artist |W|_1 + 0.5 l2Artist ||W||_F^2
 *                       + l1User   |H|_1 + 0.5 l2User   ||H||_F^2
 *
 * with absolute penalties (not scaled by the matrix size as scikit-learn's alpha_W is).
 *
 * Solver: HALS / coordinate descent (Cichocki & Phan 2009, scikit-learn's `cd` solver). Each
 * iteration updates every row of W with H fixed, then every row of H^T with W fixed; for a row w
 * of W with a = x H^T and B = H H^T, each component in turn:
 *   w_t <- max(0, w_t - ((B w)_t - a_t + l1 + l2 w_t) / (B_tt + l2))
 * (src/model/nmfWorker.ts states it, src/model/wasm/hals.wat runs it). With `innerPasses`, a row
 * gets up to that many such passes on the same a and B, stopping after a pass that decreases the
 * objective by at most `innerStop` times the first pass's decrease: the inner iterations of
 * accelerated HALS (Gillis & Glineur 2012, "Accelerated multiplicative updates and hierarchical
 * ALS algorithms for nonnegative matrix factorization", Neural Computation 24(4)), with their
 * stopping rule applied row by row; one pass (plain HALS) is the default. X is only touched
 * through its CSR form and that of X^T: O(nnz k + (artists + users) k^2) per iteration. The
 * objective comes for free from quantities the sweeps already have:
 * ||X||^2 - 2 tr(W^T X H^T) + tr((W^T W)(H H^T)), plus the penalties.
 * Rows are cut into chunks that the main thread and worker threads take in turn; chunk results
 * are summed in chunk order, so the factors do not depend on the thread count. Everything a sweep
 * touches lives in one shared WebAssembly memory, where the SIMD kernel (src/model/wasm/hals.wat)
 * and every thread work on the one copy.
 */
import type { Worker } from 'node:worker_threads';
import type { SparseMatrix } from './sparse.ts';
import { nonzeros, transposeCsr } from './sparse.ts';
import { gram } from './embedding.ts';
import type {
  ChunkedSweep,
  SweepSide,
  SweepTotals,
  WorkerSetup,
  WorkerSweep,
} from './nmfWorker.ts';
import { WORKER_ROLE, halfIteration, reportFailure } from './nmfWorker.ts';
import { HalsKernel, SharedArena, halsScratchLength } from './wasm/kernels.ts';
import { mulberry32 } from './random.ts';
import { WorkerPool, balancedSplit, chooseThreads, csrIn, triangleSplit } from './threads.ts';

/** Reported after every iteration. */
export interface NmfProgress {
  iteration: number;
  objective: number;
  /** |previous - objective| / previous; Infinity after the first iteration. */
  relativeChange: number;
  /** Since the start of `factorize`. */
  seconds: number;
}

export interface NmfOptions {
  components: number;
  maxIterations: number;
  /** Stop once the relative change of the objective falls below this (1e-5 recommended). */
  tolerance: number;
  seed: number;
  l1Artist: number;
  l2Artist: number;
  l1User: number;
  l2User: number;
  /** Default: min(2, available cores), or 1 when the matrix is too small to repay a thread. */
  threads?: number;
  /** Called after every iteration; returning `false` stops early (the result is not converged). */
  onIteration?: (progress: NmfProgress) => void | boolean;
  /** Warm start from earlier factors of the same shape (copied, not modified). */
  initial?: { artistFactors: Float32Array; userFactors: Float32Array };
  /**
   * Coordinate passes per row and half-iteration at most, for each side (default 1 each: plain
   * HALS). Later passes reuse the row's x G and the Gram of the other factor, as in accelerated
   * HALS (Gillis & Glineur 2012), so they cost O(k^2) a row against O(nnz(row) k) for the first.
   * More progress per iteration, but on the Last.fm benchmark (bench/training.ts) the run ends
   * in a different stationary point, lower for some seeds and higher for others: off by default.
   */
  innerPasses?: { artist: number; user: number };
  /**
   * A row's passes stop after one whose decrease of the objective is at most this fraction of
   * the first pass's decrease (default 0.2); in [0, 1).
   */
  innerStop?: number;
}

export interface NmfResult {
  /** W: rows x k, row-major. */
  artistFactors: Float32Array;
  /** H^T: columns x k, row-major. */
  userFactors: Float32Array;
  components: number;
  iterations: number;
  objective: number;
  converged: boolean;
  seconds: number;
  /** Threads that actually swept (1 when workers could not start). */
  threads: number;
}

/** The penalty weights of the objective. */
export interface NmfPenalties {
  l1Artist: number;
  l2Artist: number;
  l1User: number;
  l2User: number;
}

/**
 * Rows of each side are cut into this many chunks of about equal cost, taken by threads in turn;
 * fixed, so that the factors are the same whatever the thread count.
 */
const CHUNKS = 64;

/**
 * Rows of each side are cut into this many parts when forming the products a = x G, which read
 * the other factor in blocks of PRODUCT_BLOCK_BYTES: few parts, so that each block is reused by
 * many rows while it is in cache. An other factor that fits in one block is read once per part
 * whatever the count, so more parts then only even out the threads' shares (a thread that the
 * machine pauses holds less of the work the other waits for).
 */
const PRODUCT_PARTS = 4;
const PRODUCT_PARTS_ONE_BLOCK = 16;
const PRODUCT_BLOCK_BYTES = 4 * 1024 * 1024;

/**
 * The rows of a Gram are cut into this many parts of about equal size (upper triangle) when the
 * chunks' Grams are summed, taken by threads in turn.
 */
const GRAM_PARTS = 8;

/** NmfOptions.innerStop when not given. */
const DEFAULT_INNER_STOP = 0.2;


/**
 * Factorizes `matrix` (artists x users, non-negative) into W (artists x k) and H^T (users x k).
 * Same matrix and options give byte-identical factors, whatever the thread count.
 * Cost per iteration O(nnz k + (rows + columns) k^2); memory O(nnz + (rows + columns) k).
 * Throws RangeError with a readable message on an empty matrix, NaN or negative values,
 * k < 1 or k > min(rows, columns), or bad options.
 */
export async function factorize(matrix: SparseMatrix, options: NmfOptions): Promise<NmfResult> {
  const started = performance.now();
  validate(matrix, options);
  const k = options.components;
  const { rows, columns } = matrix;
  const threads = chooseThreads(matrix, options.components, options.threads);

  // Both orientations of X, the factors, the Grams, the chunk results and each thread's scratch,
  // in one shared WebAssembly memory.
  const transposed = transposeCsr(matrix);
  const cells = nonzeros(matrix);
  const arena = new SharedArena(
    SharedArena.bytesFor([
      (rows + 1) * 4,
      (columns + 1) * 4,
      ...[cells, cells, cells, cells].map((count) => count * 4),
      rows * k * 4,
      columns * k * 4,
      k * k * 8,
      k * k * 8,
      CHUNKS * k * k * 8,
      CHUNKS * 2 * 8,
      threads * halsScratchLength(k) * 8,
      4,
      Math.max(rows, columns) * k * 8,
      Math.max(rows, columns) * 4,
      4,
      4,
      4 * 4,
    ]),
  );
  const byArtist = csrIn(arena, matrix);
  const byUser = csrIn(arena, transposed);

  const artistFactors = arena.float32(rows * k);
  const userFactors = arena.float32(columns * k);
  initialize(matrix, options, artistFactors, userFactors);

  const artistGram = arena.float64(k * k);
  const userGram = arena.float64(k * k);
  userGram.set(gram(userFactors, columns, k));

  const sides: [SweepSide, SweepSide] = [
    side(byArtist, artistFactors, userFactors, userGram, options.l1Artist, options.l2Artist),
    side(byUser, userFactors, artistFactors, artistGram, options.l1User, options.l2User),
  ];
  const passRatio = options.innerStop ?? DEFAULT_INNER_STOP;
  Object.assign(sides[0], { passes: options.innerPasses?.artist ?? 1, passRatio });
  Object.assign(sides[1], { passes: options.innerPasses?.user ?? 1, passRatio });
  const squaredNorm = sumOfSquares(matrix.values);

  const chunkBounds: [Int32Array, Int32Array] = [
    balancedSplit(byArtist, k, CHUNKS),
    balancedSplit(byUser, k, CHUNKS),
  ];
  const work: ChunkedSweep = {
    k,
    sides,
    chunkBounds,
    chunkGrams: arena.float64(CHUNKS * k * k),
    chunkTotals: arena.float64(CHUNKS * 2),
    counter: arena.int32(1),
    memory: arena.memory,
    scratch: arena.float64(threads * halsScratchLength(k)),
    productBounds: [
      balancedSplit(byArtist, k, productParts(columns, k)),
      balancedSplit(byUser, k, productParts(rows, k)),
    ],
    blockColumns: [blockRows(k), blockRows(k)],
    products: arena.float64(Math.max(rows, columns) * k),
    cursors: arena.int32(Math.max(rows, columns)),
    productCounter: arena.int32(1),
    gramBounds: triangleSplit(k, GRAM_PARTS),
    gramCounter: arena.int32(1),
    finished: arena.int32(4),
  };
  const team = await SweepTeam.start(threads, work);
  try {
    let previous = Infinity;
    let current = Infinity;
    let iteration = 0;
    let converged = false;

    while (iteration < options.maxIterations) {
      iteration++;

      // W given H: then W^T W for the user sweep.
      const artistTotals = await team.sweep(0);

      // H given W: then H H^T for the next artist sweep, and tr(W^T X H^T) for the objective.
      const userTotals = await team.sweep(1);

      current =
        0.5 * (squaredNorm - 2 * userTotals.cross + traceOfProduct(artistGram, userGram, k)) +
        options.l1Artist * artistTotals.sum +
        0.5 * options.l2Artist * trace(artistGram, k) +
        options.l1User * userTotals.sum +
        0.5 * options.l2User * trace(userGram, k);
      const relativeChange =
        previous === Infinity
          ? Infinity
          : Math.abs(previous - current) / Math.max(previous, 1e-300);
      const verdict = options.onIteration?.({
        iteration,
        objective: current,
        relativeChange,
        seconds: (performance.now() - started) / 1000,
      });
      if (relativeChange < options.tolerance) {
        converged = true;
        break;
      }
      if (verdict === false) break;
      previous = current;
    }

    return {
      artistFactors: Float32Array.from(artistFactors),
      userFactors: Float32Array.from(userFactors),
      components: k,
      iterations: iteration,
      objective: current,
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
 * The objective of the file header, computed directly: the residual over the stored cells of X
 * plus ||W H||^2 minus its part on those cells. Independent of the trainer's running formula.
 * O(nnz k + (rows + columns) k^2).
 */
export function objective(
  matrix: SparseMatrix,
  artistFactors: Float32Array,
  userFactors: Float32Array,
  k: number,
  penalties: NmfPenalties,
): number {
  const { rows, columns, rowPointers, columnIndices, values } = matrix;

  // Over stored cells: (x - p)^2 - p^2, where p is the reconstruction.
  let stored = 0;
  for (let r = 0; r < rows; r++) {
    for (let i = rowPointers[r]; i < rowPointers[r + 1]; i++) {
      let p = 0;
      const a = r * k;
      const u = columnIndices[i] * k;
      for (let t = 0; t < k; t++) p += artistFactors[a + t] * userFactors[u + t];
      stored += (values[i] - p) * (values[i] - p) - p * p;
    }
  }

  // ||W H||^2 over all cells = tr((W^T W)(H H^T)).
  const artistGram = gram(artistFactors, rows, k);
  const userGram = gram(userFactors, columns, k);
  const residual = stored + traceOfProduct(artistGram, userGram, k);

  return (
    0.5 * residual +
    penalties.l1Artist * sum(artistFactors) +
    0.5 * penalties.l2Artist * trace(artistGram, k) +
    penalties.l1User * sum(userFactors) +
    0.5 * penalties.l2User * trace(userGram, k)
  );
}

function validate(matrix: SparseMatrix, options: NmfOptions): void {
  const { rows, columns, values } = matrix;
  const k = options.components;
  if (rows < 1 || columns < 1 || nonzeros(matrix) === 0) {
    throw new RangeError(
      `Cannot factorize an empty matrix (${rows} artists x ${columns} users, ` +
        `${rows > 0 && columns > 0 ? nonzeros(matrix) : 0} values)`,
    );
  }
  if (!Number.isInteger(k) || k < 1) {
    throw new RangeError(`components must be a whole number of at least 1, got ${k}`);
  }
  if (k > Math.min(rows, columns)) {
    throw new RangeError(
      `components (${k}) cannot exceed the smaller side of the matrix: ` +
        `${rows} artists x ${columns} users allows at most ${Math.min(rows, columns)}`,
    );
  }
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (!(x >= 0) || x === Infinity) {
      throw new RangeError(
        `The matrix must hold finite non-negative values; found ${x} at stored value ${i}`,
      );
    }
  }
  if (!Number.isInteger(options.maxIterations) || options.maxIterations < 1) {
    throw new RangeError(`maxIterations must be a whole number >= 1, got ${options.maxIterations}`);
  }
  if (!(options.tolerance >= 0)) {
    throw new RangeError(`tolerance must be >= 0, got ${options.tolerance}`);
  }
  for (const name of ['l1Artist', 'l2Artist', 'l1User', 'l2User'] as const) {
    const penalty = options[name];
    if (!(penalty >= 0) || penalty === Infinity) {
      throw new RangeError(`${name} must be a finite number >= 0, got ${penalty}`);
    }
  }
  if (!Number.isInteger(options.seed)) {
    throw new RangeError(`seed must be an integer, got ${options.seed}`);
  }
  if (
    options.threads !== undefined &&
    (!Number.isInteger(options.threads) || options.threads < 1)
  ) {
    throw new RangeError(`threads must be a whole number >= 1, got ${options.threads}`);
  }
  if (options.innerPasses !== undefined) {
    for (const passes of [options.innerPasses.artist, options.innerPasses.user]) {
      if (!Number.isInteger(passes) || passes < 1 || passes > 1000) {
        throw new RangeError(`innerPasses must be whole numbers from 1 to 1000, got ${passes}`);
      }
    }
  }
  if (options.innerStop !== undefined && !(options.innerStop >= 0 && options.innerStop < 1)) {
    throw new RangeError(`innerStop must be >= 0 and < 1, got ${options.innerStop}`);
  }
  const initial = options.initial;
  if (initial) {
    if (initial.artistFactors.length !== rows * k || initial.userFactors.length !== columns * k) {
      throw new RangeError(
        `Warm-start factors do not fit: expected ${rows} x ${k} artist and ${columns} x ${k} ` +
          `user factors, got ${initial.artistFactors.length} and ${initial.userFactors.length} values`,
      );
    }
    for (const factors of [initial.artistFactors, initial.userFactors]) {
      for (let i = 0; i < factors.length; i++) {
        if (!(factors[i] >= 0) || factors[i] === Infinity) {
          throw new RangeError(`Warm-start factors must be finite and non-negative`);
        }
      }
    }
  }
}

/**
 * Seeded start, scaled like scikit-learn's 'random' init: sqrt(mean(X) / k) * U[0, 1), or a copy
 * of the warm-start factors.
 */
function initialize(
  matrix: SparseMatrix,
  options: NmfOptions,
  artistFactors: Float32Array,
  userFactors: Float32Array,
): void {
  if (options.initial) {
    artistFactors.set(options.initial.artistFactors);
    userFactors.set(options.initial.userFactors);
    return;
  }
  const mean = sum(matrix.values) / (matrix.rows * matrix.columns);
  const scale = Math.sqrt(mean / options.components);
  const random = mulberry32(options.seed);
  for (let i = 0; i < artistFactors.length; i++) artistFactors[i] = scale * random();
  for (let i = 0; i < userFactors.length; i++) userFactors[i] = scale * random();
}

function side(
  matrix: SparseMatrix,
  factors: Float32Array,
  other: Float32Array,
  otherGram: Float64Array,
  l1: number,
  l2: number,
): SweepSide {
  const { rowPointers, columnIndices, values } = matrix;
  return { rowPointers, columnIndices, values, factors, other, otherGram, l1, l2 };
}

/**
 * The main thread plus any workers, sharing one `ChunkedSweep`. Each sweep resets the shared
 * counters, wakes the workers with one message and runs `halfIteration` here too; the chunks'
 * totals are then summed here, in chunk order.
 */
class SweepTeam {
  /** This thread's kernel; it sweeps with scratch slot 0, worker i with slot i + 1. */
  private readonly kernel: HalsKernel;

  private constructor(
    private readonly work: ChunkedSweep,
    private readonly workers: Worker[],
  ) {
    this.kernel = new HalsKernel(work.memory);
  }

  /** Threads taking chunks: the workers and this one. */
  get size(): number {
    return this.workers.length + 1;
  }

  /** Starts `threads - 1` workers on `work`; with none if they cannot start. */
  static async start(threads: number, work: ChunkedSweep): Promise<SweepTeam> {
    if (threads > 1) {
      // A worker that cannot start (no tsx loader, say) only costs speed: go on with one thread.
      let team: SweepTeam | null = null;
      try {
        team = new SweepTeam(work, pool.borrow(threads - 1));
        await Promise.all(
          team.workers.map((worker, i) =>
            pool.request(worker, { type: 'setup', ...work, thread: i + 1 }),
          ),
        );
        return team;
      } catch {
        team?.discard();
      }
    }
    return new SweepTeam(work, []);
  }

  /**
   * Sweeps every row of one side and leaves the side's Gram (full, symmetric) where the other
   * side reads it as otherGram.
   */
  async sweep(sideIndex: 0 | 1): Promise<SweepTotals> {
    const { chunkTotals, counter, productCounter, gramCounter, finished } = this.work;

    // Products, coordinate pass and Gram, each step's parts taken by every thread in turn.
    for (const shared of [counter, productCounter, gramCounter]) Atomics.store(shared, 0, 0);
    for (let step = 0; step < finished.length; step++) Atomics.store(finished, step, 0);
    const pending = this.workers.map((worker) =>
      pool.request(worker, { type: 'sweep', side: sideIndex }),
    );
    try {
      halfIteration(this.work, sideIndex, this.kernel, 0);
    } catch (error) {
      // Wake the workers, and let their replies settle before giving up on them.
      reportFailure(finished);
      await Promise.allSettled(pending);
      throw error;
    }
    await Promise.all(pending);

    const chunks = this.work.chunkBounds[sideIndex].length - 1;
    let sum = 0;
    let cross = 0;
    for (let chunk = 0; chunk < chunks; chunk++) {
      sum += chunkTotals[2 * chunk];
      cross += chunkTotals[2 * chunk + 1];
    }
    return { sum, cross };
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
const pool = new WorkerPool<WorkerSetup | WorkerSweep>(
  new URL('./nmfWorker.ts', import.meta.url), WORKER_ROLE, 'NMF worker');

/** Parts to cut a side's products into, when the other factor has `otherRows` rows of k. */
function productParts(otherRows: number, k: number): number {
  return otherRows <= blockRows(k) ? PRODUCT_PARTS_ONE_BLOCK : PRODUCT_PARTS;
}

/** Rows of a float32 factor with k columns that fill PRODUCT_BLOCK_BYTES (at least 1). */
function blockRows(k: number): number {
  return Math.max(1, Math.floor(PRODUCT_BLOCK_BYTES / (k * 4)));
}

function traceOfProduct(a: Float64Array, b: Float64Array, k: number): number {
  // Both symmetric, so tr(A B) is the sum of the elementwise product.
  let total = 0;
  for (let i = 0; i < k * k; i++) total += a[i] * b[i];
  return total;
}

function trace(matrix: Float64Array, k: number): number {
  let total = 0;
  for (let t = 0; t < k; t++) total += matrix[t * k + t];
  return total;
}

function sum(values: Float32Array): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i];
  return total;
}

function sumOfSquares(values: Float32Array): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i] * values[i];
  return total;
}
