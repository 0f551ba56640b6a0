/**
 * What both trainers (src/model/nmf.ts, src/model/implicitNmf.ts) need to run on several
 * threads: how many to use, how to cut rows and Gram triangles into parts of equal cost, copies
 * into the shared arena, and a pool of worker threads kept between factorizations.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SparseMatrix } from './sparse.ts';
import { nonzeros } from './sparse.ts';
import type { SharedArena } from './wasm/kernels.ts';

/** Below this many multiply-adds per iteration a second thread costs more than it saves. */
const THREADED_WORK = 4_000_000;

/**
 * Threads for a factorization of `matrix` at k = `components`: `threads` when given (at most
 * one per row or column), else min(2, available cores), or 1 when the matrix is too small to
 * repay a thread. O(1).
 */
export function chooseThreads(
  matrix: SparseMatrix,
  components: number,
  threads: number | undefined,
): number {
  if (threads !== undefined) return Math.min(threads, matrix.rows, matrix.columns);
  const k = components;
  const work = nonzeros(matrix) * k + (matrix.rows + matrix.columns) * k * k;
  if (work < THREADED_WORK) return 1;
  return Math.max(1, Math.min(2, availableParallelism()));
}

/**
 * Splits rows into at most `chunks` contiguous chunks of about equal estimated cost (entries k +
 * k^2 per row). Returns the chunk boundaries, first 0 and last `rows`. O(rows).
 */
export function balancedSplit(matrix: SparseMatrix, k: number, chunks: number): Int32Array {
  const parts = Math.max(1, Math.min(chunks, matrix.rows));
  const bounds = new Int32Array(parts + 1);
  bounds[parts] = matrix.rows;
  const cost = (row: number) => matrix.rowPointers[row] * k + row * k * k;
  const total = cost(matrix.rows);
  let row = 0;
  for (let part = 1; part < parts; part++) {
    const target = (total * part) / parts;
    while (row < matrix.rows && cost(row) < target) row++;
    bounds[part] = row;
  }
  return bounds;
}

/**
 * Splits the rows of a k x k upper triangle (row t holds k - t entries) into at most `parts`
 * contiguous ranges of about equal size. Returns the boundaries, first 0 and last k. O(k).
 */
export function triangleSplit(k: number, parts: number): Int32Array {
  const count = Math.max(1, Math.min(parts, k));
  const bounds = new Int32Array(count + 1);
  bounds[count] = k;
  const before = (row: number) => row * k - (row * (row - 1)) / 2;
  let row = 0;
  for (let part = 1; part < count; part++) {
    const target = (before(k) * part) / count;
    while (row < k && before(row) < target) row++;
    bounds[part] = row;
  }
  return bounds;
}

/** A copy of a CSR matrix in the arena. O(nnz). */
export function csrIn(arena: SharedArena, matrix: SparseMatrix): SparseMatrix {
  return {
    rows: matrix.rows,
    columns: matrix.columns,
    rowPointers: arena.copy(matrix.rowPointers),
    columnIndices: arena.copy(matrix.columnIndices),
    values: arena.copy(matrix.values),
  };
}

/** The most entries any row of `matrix` holds. O(rows). */
export function maxRowLength(matrix: SparseMatrix): number {
  let longest = 0;
  for (let r = 0; r < matrix.rows; r++) {
    longest = Math.max(longest, matrix.rowPointers[r + 1] - matrix.rowPointers[r]);
  }
  return longest;
}

/**
 * Worker threads running one worker file, kept between factorizations (starting one under tsx
 * takes about 0.3 s) and unref'd while idle so they never keep the process alive. Each worker
 * file starts its work when it finds `role` in its workerData; `Message` is what it is sent.
 */
export class WorkerPool<Message> {
  readonly #idle: Worker[] = [];

  /** `label` names the workers in errors ("NMF worker failed: ..."). */
  constructor(
    private readonly file: URL,
    private readonly role: string,
    private readonly label: string,
  ) {}

  /** `count` workers, idle ones first, started as needed; they keep the process alive. */
  borrow(count: number): Worker[] {
    const borrowed = this.#idle.splice(0, count);
    while (borrowed.length < count) borrowed.push(this.#start());
    for (const worker of borrowed) worker.ref();
    return borrowed;
  }

  /** Takes workers back, idle and unref'd. */
  giveBack(workers: Worker[]): void {
    for (const worker of workers) {
      worker.unref();
      this.#idle.push(worker);
    }
  }

  /**
   * Posts one message and resolves with the worker's reply; rejects when it answers `failed`,
   * errs or exits first.
   */
  request(worker: Worker, message: Message): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const settle = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const onMessage = (reply: { type: string; message?: string }) => {
        settle();
        if (reply.type === 'failed') reject(new Error(`${this.label} failed: ${reply.message}`));
        else resolve(reply);
      };
      const onError = (error: Error) => {
        settle();
        reject(error);
      };
      const onExit = (code: number) => {
        settle();
        reject(new Error(`${this.label} exited with code ${code}`));
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage(message);
    });
  }

  /**
   * A worker running the file. Workers do not inherit tsx's loader hooks, so the worker
   * registers tsx itself before importing the TypeScript file. A worker that errs or exits
   * leaves the idle list.
   */
  #start(): Worker {
    const loader = import.meta.resolve('tsx/esm/api');
    const bootstrap =
      `import { register } from ${JSON.stringify(loader)}; register(); ` +
      `await import(${JSON.stringify(this.file.href)});`;
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), {
      workerData: { role: this.role },
    });
    const forget = () => {
      const index = this.#idle.indexOf(worker);
      if (index >= 0) this.#idle.splice(index, 1);
    };
    worker.on('error', forget);
    worker.on('exit', forget);
    return worker;
  }
}
