/**
 * The WebAssembly kernels (hand-written SIMD, see the `.wat` files beside this one), loaded
 * synchronously at import and exposed as typed functions: the serving scans `rowDots` and
 * `rowDotsSingle` (scan.wat), the checks a model file's index passes on loading
 * (`largestUnsigned`, `largestUnsigned16`, `nonDecreasing`: bounds.wat, over the block the file
 * was read into), and the trainer's HALS pass `HalsKernel` (hals.wat) over a `SharedArena`.
 *
 * A kernel reads and writes only its own WebAssembly memory, so the arrays it scans live there:
 * `residentMatrices` copies row-major float32 matrices once into a fresh block of memory (a bump
 * allocator hands out 16-byte aligned slices, plus scratch room for one query vector and one
 * output per row), and `rowDots` then scans them in place: no copy per call beyond the query
 * vector in and the scores out. Each block belongs to the arrays placed in it and is freed with
 * them by the garbage collector, so swapping in a new model needs no bookkeeping.
 *
 * A matrix that is not resident (a ModelData built in code) is copied in on its first scan and
 * the copy kept for its lifetime (WeakMap): the model arrays are read-only by contract, and a
 * change made after that first scan would not be seen.
 */
import { readFileSync } from 'node:fs';

const PAGE_BYTES = 65536;
const ALIGNMENT = 16;

const scanModule = new WebAssembly.Module(readFileSync(new URL('./scan.wasm', import.meta.url)));
const boundsModule = new WebAssembly.Module(
  readFileSync(new URL('./bounds.wasm', import.meta.url)),
);

/** rowDots and rowDotsSingle of scan.wat: (matrix, rows, columns, vector, out) byte offsets. */
type RowDotsExport = (
  matrix: number,
  rows: number,
  columns: number,
  vector: number,
  out: number,
) => void;

/** The checks of bounds.wat: byte offset of the values, their count (and stride) -> int32. */
interface BoundsExports {
  largestUnsigned(values: number, count: number, stride: number): number;
  largestUnsigned16(values: number, count: number): number;
  nonDecreasing(values: number, count: number): number;
}

/** One block of WebAssembly memory holding matrices of `rows` x `columns`, and the scan kernel. */
class ScanBlock {
  readonly memory: WebAssembly.Memory;
  /** Scratch for a query vector (float64, and float32) and the scores (float64, one per row). */
  readonly vector: Float64Array;
  readonly vectorSingle: Float32Array;
  readonly out: Float64Array;
  readonly rowDots: RowDotsExport;
  readonly rowDotsSingle: RowDotsExport;
  private next = 0;
  /** bounds.wat over this block, instantiated on first use. */
  private boundsInstance: BoundsExports | undefined;

  /** `roomBytes` free bytes at offset 0 of the block (see residentRoom); empty by default. */
  readonly room: Uint8Array;

  constructor(
    readonly rows: number,
    readonly columns: number,
    matrices: number,
    roomBytes = 0,
  ) {
    const bytes =
      roundUp(roomBytes) +
      matrices * roundUp(rows * columns * 4) +
      roundUp(columns * 8) +
      roundUp(columns * 4) +
      roundUp(rows * 8);
    const pages = Math.max(1, Math.ceil(bytes / PAGE_BYTES));
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const instance = new WebAssembly.Instance(scanModule, { env: { memory: this.memory } });
    this.rowDots = instance.exports.rowDots as RowDotsExport;
    this.rowDotsSingle = instance.exports.rowDotsSingle as RowDotsExport;
    this.room = new Uint8Array(this.memory.buffer, this.allocate(roomBytes), roomBytes);
    this.vector = this.float64(columns);
    this.vectorSingle = this.float32(columns);
    this.out = this.float64(rows);
  }

  /** The checks of bounds.wat over this block. */
  get bounds(): BoundsExports {
    if (this.boundsInstance === undefined) {
      const instance = new WebAssembly.Instance(boundsModule, { env: { memory: this.memory } });
      this.boundsInstance = instance.exports as unknown as BoundsExports;
    }
    return this.boundsInstance;
  }

  /** A zeroed slice of the block; throws when the block is full (a sizing bug). */
  float32(length: number): Float32Array {
    return new Float32Array(this.memory.buffer, this.allocate(length * 4), length);
  }

  private float64(length: number): Float64Array {
    return new Float64Array(this.memory.buffer, this.allocate(length * 8), length);
  }

  private allocate(bytes: number): number {
    const offset = this.next;
    if (offset + bytes > this.memory.buffer.byteLength) {
      throw new RangeError(`WebAssembly block full: ${bytes} more bytes at ${offset}`);
    }
    this.next = offset + roundUp(bytes);
    return offset;
  }
}

/** Block of each resident matrix's memory, by its buffer. */
const blockOfBuffer = new WeakMap<ArrayBufferLike, ScanBlock>();
/** Resident copies of matrices that were first scanned outside WebAssembly memory. */
const residentCopyOf = new WeakMap<Float32Array, Float32Array>();

/**
 * Copies row-major float32 matrices of the same width into one new block of WebAssembly memory
 * and returns the copies, in order, ready for `rowDots`. The longest matrix sets the row count
 * of the scratch. Cost: one copy of each, O(total length).
 */
export function residentMatrices(columns: number, ...matrices: Float32Array[]): Float32Array[] {
  const width = Math.max(1, Math.floor(columns));
  const rows = Math.max(0, ...matrices.map((matrix) => Math.ceil(matrix.length / width)));
  const block = new ScanBlock(rows, width, matrices.length);
  blockOfBuffer.set(block.memory.buffer, block);
  return matrices.map((matrix) => {
    const copy = block.float32(matrix.length);
    copy.set(matrix);
    return copy;
  });
}

/**
 * A new block of WebAssembly memory with `bytes` zeroed bytes of room at its offset 0, for a
 * decoder to read a model file into and expand matrices in: a Float32Array over the room (at a
 * multiple of 4, 16 is fastest) holding a row-major matrix of `columns` columns and at most
 * `rows` rows then scans in place with `rowDots`, like a matrix of `residentMatrices`. The
 * block is freed with the last view on it. Cost: the allocation, O(bytes).
 */
export function residentRoom(bytes: number, rows: number, columns: number): Uint8Array {
  const block = new ScanBlock(Math.max(0, rows), Math.max(1, Math.floor(columns)), 0, bytes);
  blockOfBuffer.set(block.memory.buffer, block);
  return block.room;
}

/** True when `matrix` lives in WebAssembly memory placed by `residentMatrices` or `residentRoom`. */
export function isResident(matrix: Float32Array): boolean {
  return blockOfBuffer.has(matrix.buffer);
}

/**
 * out[i] = matrix row i . vector, for i < out.length, of a row-major float32 matrix with
 * vector.length columns; products and sums in float64 (WebAssembly SIMD, src/model/wasm/scan.wat),
 * equal to a float64 loop up to summation order. A matrix not made by `residentMatrices` is copied
 * in once on its first call (see above). Cost O(out.length x vector.length): about 0.7 ms at
 * 17,632 x 128.
 */
export function rowDots(matrix: Float32Array, vector: ArrayLike<number>, out: Float64Array): void {
  const scan = prepareScan(matrix, vector.length, out);
  if (scan === undefined) return;
  scan.block.vector.set(vector);
  scan.block.rowDots(
    scan.matrixOffset,
    out.length,
    vector.length,
    scan.block.vector.byteOffset,
    scan.block.out.byteOffset,
  );
  out.set(scan.block.out.subarray(0, out.length));
}

/**
 * As `rowDots`, but in float32 arithmetic: relative error about 1e-7, for rankings whose shown
 * values are computed separately. A vector that is itself resident in the matrix's block (a row
 * of it, say) is read in place. Cost: about 0.4 ms at 17,632 x 128.
 */
export function rowDotsSingle(
  matrix: Float32Array,
  vector: Float32Array | ArrayLike<number>,
  out: Float64Array,
): void {
  const scan = prepareScan(matrix, vector.length, out);
  if (scan === undefined) return;
  const { block } = scan;
  let vectorOffset = block.vectorSingle.byteOffset;
  if (vector instanceof Float32Array && vector.buffer === block.memory.buffer) {
    vectorOffset = vector.byteOffset;
  } else {
    block.vectorSingle.set(vector);
  }
  block.rowDotsSingle(
    scan.matrixOffset,
    out.length,
    vector.length,
    vectorOffset,
    block.out.byteOffset,
  );
  out.set(block.out.subarray(0, out.length));
}

/**
 * The block a scan of out.length x columns of `matrix` runs in, and the matrix's offset there
 * (copying a non-resident matrix in on its first scan); undefined when nothing is left to do
 * (no rows, or no columns: out is zeroed). Throws RangeError on shapes that do not fit.
 */
function prepareScan(
  matrix: Float32Array,
  columns: number,
  out: Float64Array,
): { block: ScanBlock; matrixOffset: number } | undefined {
  const rows = out.length;
  if (matrix.length < rows * columns) {
    throw new RangeError(`row scan: ${matrix.length} values cannot hold ${rows} x ${columns}`);
  }
  if (rows === 0) return undefined;
  if (columns === 0) {
    out.fill(0);
    return undefined;
  }

  let resident = matrix;
  let block = blockOfBuffer.get(matrix.buffer);
  if (block === undefined) {
    let copy = residentCopyOf.get(matrix);
    if (copy === undefined) {
      copy = residentMatrices(columns, matrix)[0];
      residentCopyOf.set(matrix, copy);
    }
    resident = copy;
    block = blockOfBuffer.get(copy.buffer)!;
  }
  if (block.columns !== columns || block.rows < rows) {
    throw new RangeError(
      `row scan: block of ${block.rows} x ${block.columns}, asked ${rows} x ${columns}`,
    );
  }
  return { block, matrixOffset: resident.byteOffset };
}

function roundUp(bytes: number): number {
  return Math.ceil(bytes / ALIGNMENT) * ALIGNMENT;
}

const halsModule = new WebAssembly.Module(readFileSync(new URL('./hals.wasm', import.meta.url)));

/**
 * A block of SHARED WebAssembly memory that the NMF trainer allocates everything a sweep touches
 * from (both orientations of X, both factors, the Grams, the per-chunk results, per-thread
 * scratch), with a bump allocator. The Memory object goes to worker threads by postMessage, the
 * typed arrays with it: every thread then reads and writes the one copy.
 */
export class SharedArena {
  readonly memory: WebAssembly.Memory;
  /** Offset 0 is never handed out, so that a kernel can take 0 to mean "no array". */
  private next = ALIGNMENT;

  /** A block of at least `bytes` bytes (whole 64 KiB pages), zeroed. */
  constructor(bytes: number) {
    const pages = Math.max(1, Math.ceil(bytes / PAGE_BYTES));
    if (pages > 65536) throw new RangeError(`${bytes} bytes exceed WebAssembly's 4 GiB memory`);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  }

  /** Bytes `arrays` arrays of these byte lengths take here, alignment included. */
  static bytesFor(byteLengths: readonly number[]): number {
    return byteLengths.reduce((total, length) => total + roundUp(length), ALIGNMENT);
  }

  int32(length: number): Int32Array {
    return new Int32Array(this.memory.buffer, this.allocate(length * 4), length);
  }

  float32(length: number): Float32Array {
    return new Float32Array(this.memory.buffer, this.allocate(length * 4), length);
  }

  float64(length: number): Float64Array {
    return new Float64Array(this.memory.buffer, this.allocate(length * 8), length);
  }

  /** A copy of `source` in the block. */
  copy<T extends Int32Array | Float32Array>(source: T): T {
    const target = (source instanceof Int32Array
      ? this.int32(source.length)
      : this.float32(source.length)) as T;
    target.set(source);
    return target;
  }

  private allocate(bytes: number): number {
    const offset = this.next;
    if (offset + bytes > this.memory.buffer.byteLength) {
      throw new RangeError(`shared WebAssembly block full: ${bytes} more bytes at ${offset}`);
    }
    this.next = offset + roundUp(bytes);
    return offset;
  }
}

/** Float64 slots of one thread's HALS scratch (5 k float64 and k int32, rounded up). */
export function halsScratchLength(k: number): number {
  return 5 * k + Math.ceil(k / 2) + 2;
}

/** The arrays of one side of a HALS pass, all views of the same shared arena. */
export interface HalsSide {
  rowPointers: Int32Array;
  columnIndices: Int32Array;
  values: Float32Array;
  factors: Float32Array;
  other: Float32Array;
  otherGram: Float64Array;
  l1: number;
  l2: number;
  /** Coordinate passes per row at most (default 1); see SweepSide in src/model/nmfWorker.ts. */
  passes?: number;
  /** A row stops after a pass that gains at most this fraction of its first (default 0). */
  passRatio?: number;
}

type SweepRowsExport = (
  rowPointers: number,
  columnIndices: number,
  values: number,
  factors: number,
  other: number,
  otherGram: number,
  k: number,
  start: number,
  end: number,
  l1: number,
  l2: number,
  partialGram: number,
  scratch: number,
  totals: number,
  products: number,
  passes: number,
  ratio: number,
) => void;

type SumChunkGramsExport = (
  chunkGrams: number,
  chunks: number,
  k: number,
  out: number,
  startRow: number,
  endRow: number,
) => void;

type RowProductsExport = (
  rowPointers: number,
  columnIndices: number,
  values: number,
  other: number,
  k: number,
  start: number,
  end: number,
  blockColumns: number,
  columns: number,
  products: number,
  cursors: number,
) => void;

/**
 * The HALS pass of src/model/wasm/hals.wat, instantiated on a shared arena's memory (one
 * instance per thread; instances on the same memory see each other's writes).
 */
export class HalsKernel {
  private readonly sweepRowsExport: SweepRowsExport;
  private readonly rowProductsExport: RowProductsExport;
  private readonly sumChunkGramsExport: SumChunkGramsExport;
  private readonly bytes: number;

  constructor(memory: WebAssembly.Memory) {
    const instance = new WebAssembly.Instance(halsModule, { env: { memory } });
    this.sweepRowsExport = instance.exports.sweepRows as SweepRowsExport;
    this.rowProductsExport = instance.exports.rowProducts as RowProductsExport;
    this.sumChunkGramsExport = instance.exports.sumChunkGrams as SumChunkGramsExport;
    this.bytes = memory.buffer.byteLength;
  }

  /**
   * a = x G for rows [start, end) of side's X into `products` (row r at r k, float64), reading
   * G (side.other, `columns` rows) in blocks of `blockColumns` rows so that each block is
   * reused from cache by all these rows; `cursors` (one int32 per row) is scratch. Each row's a
   * has the same bits as `sweepRows` computing it itself. Cost O(nnz(rows) k + blocks x rows).
   */
  rowProducts(
    side: HalsSide,
    k: number,
    start: number,
    end: number,
    blockColumns: number,
    columns: number,
    products: Float64Array,
    cursors: Int32Array,
  ): void {
    this.checkArena([side.rowPointers, side.columnIndices, side.values, side.other, products,
      cursors]);
    if (!(0 <= start && start <= end && end * k <= products.length && end <= cursors.length)) {
      throw new RangeError(`HalsKernel.rowProducts: rows ${start}..${end} out of range`);
    }
    if (!(blockColumns >= 1) || columns * k > side.other.length) {
      throw new RangeError('HalsKernel.rowProducts: bad block size or column count');
    }
    this.rowProductsExport(
      side.rowPointers.byteOffset,
      side.columnIndices.byteOffset,
      side.values.byteOffset,
      side.other.byteOffset,
      k,
      start,
      end,
      Math.floor(blockColumns),
      columns,
      products.byteOffset,
      cursors.byteOffset,
    );
  }

  /**
   * Rows [startRow, endRow) of the sum of the first `chunks` k x k matrices of `chunkGrams`
   * (upper triangles, as sweepRows writes them), into `out` with each entry mirrored below the
   * diagonal. Entries are summed in chunk order from 0, so any split of the rows gives the bits
   * of one scalar loop. Cost O(chunks (endRow - startRow) k).
   */
  sumChunkGrams(
    chunkGrams: Float64Array,
    chunks: number,
    k: number,
    out: Float64Array,
    startRow: number,
    endRow: number,
  ): void {
    this.checkArena([chunkGrams, out]);
    if (chunkGrams.length < chunks * k * k || out.length < k * k) {
      throw new RangeError('HalsKernel.sumChunkGrams: chunk Grams or output too short');
    }
    if (!(0 <= startRow && startRow <= endRow && endRow <= k)) {
      throw new RangeError(`HalsKernel.sumChunkGrams: rows ${startRow}..${endRow} out of range`);
    }
    this.sumChunkGramsExport(chunkGrams.byteOffset, chunks, k, out.byteOffset, startRow, endRow);
  }

  private checkArena(arrays: ArrayBufferView[]): void {
    for (const array of arrays) {
      if (array.buffer.byteLength !== this.bytes) {
        throw new RangeError('HalsKernel: an array lies outside the shared arena');
      }
    }
  }

  /**
   * Updates rows [start, end) of side.factors by up to side.passes coordinate-descent passes
   * per row (stopping as side.passRatio says), bit-identical to `sweepRows` of
   * src/model/nmfWorker.ts; writes the upper triangle of these rows' Gram into `partialGram`
   * (k x k) and [sum of entries, sum of <f_new, x G>] into `totals`. `scratch` holds
   * halsScratchLength(k) values and is this thread's own. With `products` (filled by
   * rowProducts for these rows) each row's a = x G is read from there instead of computed. Every
   * array must be a view of the arena this kernel was made on (checked by size only: workers see
   * other buffer objects). Cost O(nnz(rows) k + passes rows k^2) at worst.
   */
  sweepRows(
    side: HalsSide,
    k: number,
    start: number,
    end: number,
    partialGram: Float64Array,
    scratch: Float64Array,
    totals: Float64Array,
    products?: Float64Array,
  ): void {
    this.checkArena([side.rowPointers, side.columnIndices, side.values, side.factors, side.other,
      side.otherGram, partialGram, scratch, totals, ...(products ? [products] : [])]);
    if (products !== undefined && products.length < end * k) {
      throw new RangeError('HalsKernel.sweepRows: products too short');
    }
    if (scratch.length < halsScratchLength(k) || partialGram.length < k * k || totals.length < 2) {
      throw new RangeError('HalsKernel.sweepRows: scratch, Gram or totals too short');
    }
    if (!(0 <= start && start <= end && end * k <= side.factors.length)) {
      throw new RangeError(`HalsKernel.sweepRows: rows ${start}..${end} out of range`);
    }
    const passes = side.passes ?? 1;
    if (!Number.isInteger(passes) || passes < 1 || passes > 1000) {
      throw new RangeError('HalsKernel.sweepRows: passes must be a whole number 1..1000');
    }
    this.sweepRowsExport(
      side.rowPointers.byteOffset,
      side.columnIndices.byteOffset,
      side.values.byteOffset,
      side.factors.byteOffset,
      side.other.byteOffset,
      side.otherGram.byteOffset,
      k,
      start,
      end,
      side.l1,
      side.l2,
      partialGram.byteOffset,
      scratch.byteOffset,
      totals.byteOffset,
      products === undefined ? 0 : products.byteOffset,
      passes,
      side.passRatio ?? 0,
    );
  }
}

const implicitModule = new WebAssembly.Module(
  readFileSync(new URL('./implicit.wasm', import.meta.url)),
);

/** Float64 slots of one thread's scratch for `ImplicitKernel.solveRows`. */
export function implicitScratchLength(k: number, maxEntries: number): number {
  const entries = Math.max(1, maxEntries);
  return k * entries + 4 * entries + 3 * k;
}

/** The arrays of one half-step of the implicit trainer, all views of the same shared arena. */
export interface ImplicitKernelSide {
  rowPointers: Int32Array;
  columnIndices: Int32Array;
  values: Float32Array;
  factors: Float32Array;
  other: Float32Array;
  otherGram: Float64Array;
  l2: number;
}

type SolveRowsExport = (
  rowPointers: number,
  columnIndices: number,
  values: number,
  factors: number,
  other: number,
  otherGram: number,
  k: number,
  start: number,
  end: number,
  alpha: number,
  l2: number,
  sweeps: number,
  scratch: number,
  maxEntries: number,
) => void;

type GramRowsExport = (
  factors: number,
  rows: number,
  k: number,
  from: number,
  to: number,
  out: number,
) => void;

/**
 * The implicit trainer's kernels of src/model/wasm/implicit.wat, instantiated on a shared
 * arena's memory (one instance per thread): row updates bit-identical to `RowSolver.updateRows`
 * of src/model/implicitNmf.ts, and Gram rows bit-identical to `gramRows` of implicitWorker.ts.
 */
export class ImplicitKernel {
  private readonly solveRowsExport: SolveRowsExport;
  private readonly gramRowsExport: GramRowsExport;
  private readonly bytes: number;

  constructor(memory: WebAssembly.Memory) {
    const instance = new WebAssembly.Instance(implicitModule, { env: { memory } });
    this.solveRowsExport = instance.exports.solveRows as SolveRowsExport;
    this.gramRowsExport = instance.exports.gramRows as GramRowsExport;
    this.bytes = memory.buffer.byteLength;
  }

  /**
   * Updates rows [start, end) of side.factors, each by `sweeps` coordinate sweeps (fewer once a
   * sweep moves nothing), given side.other and its Gram side.otherGram, which must be exactly
   * symmetric (as `gram` of src/model/embedding.ts makes it). `scratch` holds
   * implicitScratchLength(k, maxEntries) values, maxEntries at least the longest row; it is this
   * thread's own. Cost O(sweeps (nnz(rows) k + rows k^2)) at worst.
   */
  solveRows(
    side: ImplicitKernelSide,
    k: number,
    start: number,
    end: number,
    alpha: number,
    sweeps: number,
    scratch: Float64Array,
    maxEntries: number,
  ): void {
    this.checkArena([side.rowPointers, side.columnIndices, side.values, side.factors, side.other,
      side.otherGram, scratch]);
    if (!(0 <= start && start <= end && end * k <= side.factors.length)) {
      throw new RangeError(`ImplicitKernel.solveRows: rows ${start}..${end} out of range`);
    }
    if (side.otherGram.length < k * k || scratch.length < implicitScratchLength(k, maxEntries)) {
      throw new RangeError('ImplicitKernel.solveRows: Gram or scratch too short');
    }
    for (let r = start; r < end; r++) {
      if (side.rowPointers[r + 1] - side.rowPointers[r] > maxEntries) {
        throw new RangeError(`ImplicitKernel.solveRows: row ${r} is longer than maxEntries`);
      }
    }
    this.solveRowsExport(
      side.rowPointers.byteOffset,
      side.columnIndices.byteOffset,
      side.values.byteOffset,
      side.factors.byteOffset,
      side.other.byteOffset,
      side.otherGram.byteOffset,
      k,
      start,
      end,
      alpha,
      side.l2,
      sweeps,
      scratch.byteOffset,
      Math.max(1, maxEntries),
    );
  }

  /**
   * Rows [from, to) of the upper triangle of F^T F for F = `factors` (rows x k) into `out`
   * (k x k, those rows zeroed first). Cost O(rows x entries of those rows).
   */
  gramRows(
    factors: Float32Array,
    rows: number,
    k: number,
    from: number,
    to: number,
    out: Float64Array,
  ): void {
    this.checkArena([factors, out]);
    if (!(0 <= from && from <= to && to <= k && rows * k <= factors.length && out.length >= k * k)) {
      throw new RangeError('ImplicitKernel.gramRows: shapes out of range');
    }
    this.gramRowsExport(factors.byteOffset, rows, k, from, to, out.byteOffset);
  }

  private checkArena(arrays: ArrayBufferView[]): void {
    for (const array of arrays) {
      if (array.buffer.byteLength !== this.bytes) {
        throw new RangeError('ImplicitKernel: an array lies outside the shared arena');
      }
    }
  }
}

/**
 * The largest of `values` read as unsigned 32-bit integers (a negative value reads as 2^31 or
 * more), taking every value or, with `stride` 2, every other one from the first; 0 for none.
 * In WebAssembly SIMD (bounds.wat) when `values` lies in a block of `residentRoom` (a model file
 * read into memory): about 0.3 ms for the 3 million values of a 160,000-artist search index, where
 * the plain loop used for other arrays, run once per load, takes over 4 ms. O(values.length).
 */
export function largestUnsigned(values: Int32Array, stride: 1 | 2): number {
  const block = blockOfBuffer.get(values.buffer);
  if (block !== undefined && values.length > 0) {
    return block.bounds.largestUnsigned(values.byteOffset, values.length, stride) >>> 0;
  }
  let largest = 0;
  for (let i = 0; i < values.length; i += stride) {
    const value = values[i] >>> 0;
    if (value > largest) largest = value;
  }
  return largest;
}

/** As `largestUnsigned` for 16-bit values (bounds.wat when `values` is resident). O(length). */
export function largestUnsigned16(values: Uint16Array): number {
  const block = blockOfBuffer.get(values.buffer);
  if (block !== undefined && values.length > 0) {
    return block.bounds.largestUnsigned16(values.byteOffset, values.length);
  }
  let largest = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > largest) largest = values[i];
  return largest;
}

/**
 * Whether no value of `values`, read as unsigned, is smaller than the one before it: CSR starts
 * in order. In WebAssembly SIMD (bounds.wat) when `values` is resident, about 0.2 ms for 640,000
 * values; a plain loop otherwise. O(length).
 */
export function nonDecreasing(values: Uint32Array | Int32Array): boolean {
  const block = blockOfBuffer.get(values.buffer);
  if (block !== undefined && values.length > 0) {
    return block.bounds.nonDecreasing(values.byteOffset, values.length) === 1;
  }
  for (let i = 1; i < values.length; i++) {
    if (values[i] >>> 0 < values[i - 1] >>> 0) return false;
  }
  return true;
}
