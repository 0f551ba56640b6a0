/**
 * The parallel steps of the implicit trainer (src/model/implicitNmf.ts) and the worker thread
 * that runs them on a share of the work. The update rule and objective are stated at the top of
 * implicitNmf.ts; this file only says how the work is cut so that no number depends on the cut.
 *
 * - Row updates: within a half-step every row of the factor being updated is solved on its own,
 *   given the other factor and its Gram matrix, so rows are cut into chunks that threads take in
 *   turn from a shared counter: any split gives the same bytes.
 * - Gram matrices F^T F: each entry (t, s) is a sum over the rows of F in row order. Threads split
 *   the upper triangle by its rows t (never F by its rows), so every entry is summed by one thread
 *   in the same order as `gram` of src/model/embedding.ts, and comes out with the same bits.
 * - The objective's played cells: each prediction w_a . h_u is one thread's dot product, stored
 *   per cell; the main thread sums them in cell order.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { ImplicitKernel, implicitScratchLength } from './wasm/kernels.ts';

/** One half-step as the threads see it: update `factors` with `other` fixed. */
export interface ImplicitSide {
  /** CSR rows of X (side 0, artists) or X^T (side 1, users). */
  rowPointers: Int32Array;
  columnIndices: Int32Array;
  values: Float32Array;
  /** Updated in place: rows x k, row-major. */
  factors: Float32Array;
  /** Fixed: columns x k, row-major. */
  other: Float32Array;
  /** other^T other, k x k, full and exactly symmetric. */
  otherGram: Float64Array;
  /** Receives factors^T factors (upper triangle) in the Gram step of this side. */
  gram: Float64Array;
  l2: number;
}

/** Everything the main thread and the workers share; every array is a view of `memory`. */
export interface ImplicitWork {
  k: number;
  alpha: number;
  sweeps: number;
  /** The longest row of either side: the row solver's scratch size. */
  maxEntries: number;
  /** 0: artists (W given H), 1: users (H given W). */
  sides: [ImplicitSide, ImplicitSide];
  /** Chunk c of side s's rows covers rows rowBounds[s][c] .. rowBounds[s][c + 1]. */
  rowBounds: [Int32Array, Int32Array];
  /** Part p of a Gram covers its rows gramBounds[p] .. gramBounds[p + 1] (upper triangle). */
  gramBounds: Int32Array;
  /** One per stored cell of side 0: w_a . h_u, for the objective. */
  predictions: Float64Array;
  /** [next chunk or part to take]. */
  counter: Int32Array;
  /** threads x implicitScratchLength(k, maxEntries): each thread's kernel scratch. */
  scratch: Float64Array;
  /** The shared WebAssembly memory every array above (the bounds aside) is a view of. */
  memory: WebAssembly.Memory;
}

/** A step the threads share: row updates or the Gram of one side, or the cell predictions. */
export type ImplicitTask = 'rows' | 'gram' | 'predictions';

/** One thread's share of the steps: its own kernel instance and scratch slot. */
export class ImplicitThread {
  private readonly kernel: ImplicitKernel;
  private readonly scratch: Float64Array;

  constructor(
    private readonly work: ImplicitWork,
    thread: number,
  ) {
    this.kernel = new ImplicitKernel(work.memory);
    const length = implicitScratchLength(work.k, work.maxEntries);
    this.scratch = work.scratch.subarray(thread * length, (thread + 1) * length);
  }

  /**
   * Takes chunks or parts of `task` on side `sideIndex` from the shared counter until none are
   * left. The caller resets the counter before any thread starts.
   */
  run(task: ImplicitTask, sideIndex: 0 | 1): void {
    const { k, counter } = this.work;
    const side = this.work.sides[sideIndex];
    const bounds = task === 'gram' ? this.work.gramBounds : this.work.rowBounds[sideIndex];
    const parts = bounds.length - 1;
    for (let part = Atomics.add(counter, 0, 1); part < parts; part = Atomics.add(counter, 0, 1)) {
      const start = bounds[part];
      const end = bounds[part + 1];
      if (task === 'rows') {
        this.kernel.solveRows(side, k, start, end, this.work.alpha, this.work.sweeps,
          this.scratch, this.work.maxEntries);
      } else if (task === 'gram') {
        this.kernel.gramRows(side.factors, side.factors.length / k, k, start, end, side.gram);
      } else {
        cellPredictions(side, k, start, end, this.work.predictions);
      }
    }
  }
}

/**
 * Rows [from, to) of the upper triangle of F^T F for row-major F (rows x k) into `out` (k x k):
 * the same operations, in the same order, as `gram` of src/model/embedding.ts on those entries.
 * The plain-JS reference of the kernel's `gramRows` (the trainer runs the kernel).
 * O(rows x entries of the part).
 */
export function gramRows(
  factors: Float32Array,
  rows: number,
  k: number,
  from: number,
  to: number,
  out: Float64Array,
): void {
  out.fill(0, from * k, to * k);
  for (let r = 0; r < rows; r++) {
    const base = r * k;
    for (let t = from; t < to; t++) {
      const f = factors[base + t];
      if (f === 0) continue;
      const outBase = t * k;
      for (let s = t; s < k; s++) out[outBase + s] += f * factors[base + s];
    }
  }
}

/**
 * predictions[i] = w_a . h_u for the stored cells i of rows [from, to) of side 0 (artists), each
 * summed over t in order in float64. O(cells k).
 */
export function cellPredictions(
  side: Pick<ImplicitSide, 'rowPointers' | 'columnIndices' | 'factors' | 'other'>,
  k: number,
  from: number,
  to: number,
  predictions: Float64Array,
): void {
  const { rowPointers, columnIndices, factors, other } = side;
  for (let row = from; row < to; row++) {
    const base = row * k;
    for (let i = rowPointers[row]; i < rowPointers[row + 1]; i++) {
      const otherBase = columnIndices[i] * k;
      let prediction = 0;
      for (let t = 0; t < k; t++) prediction += factors[base + t] * other[otherBase + t];
      predictions[i] = prediction;
    }
  }
}

/** Sent once per factorization. */
export interface ImplicitSetup extends ImplicitWork {
  type: 'setup';
  /** This worker's scratch slot (the main thread has 0). */
  thread: number;
}

/** Sent once per shared step. */
export interface ImplicitStep {
  type: ImplicitTask;
  side: 0 | 1;
}

/** Marks the workerData of an implicit-trainer worker, so importing this file does nothing. */
export const IMPLICIT_WORKER_ROLE = 'implicit-nmf-worker';

function runWorker(): void {
  const port = parentPort!;
  let thread: ImplicitThread | null = null;

  port.on('message', (message: ImplicitSetup | ImplicitStep) => {
    try {
      if (message.type === 'setup') thread = new ImplicitThread(message, message.thread);
      else thread!.run(message.type, message.side);
      port.postMessage({ type: 'done' });
    } catch (error) {
      port.postMessage({ type: 'failed', message: String(error) });
    }
  });
}

if (!isMainThread && workerData?.role === IMPLICIT_WORKER_ROLE) runWorker();
