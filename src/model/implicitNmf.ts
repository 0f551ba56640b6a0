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
 * bytes.
 */
import type { SparseMatrix } from './sparse.ts';
import { transposeCsr } from './sparse.ts';
import { gram } from './embedding.ts';
import { seededRandom } from './random.ts';
import type { NmfProgress } from './nmf.ts';

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
}

const DEFAULT_SWEEPS = 3;

/**
 * Factorizes `matrix` (artists x users, non-negative weights) under the objective above.
 * Cost per iteration O(sweeps (nnz k + (rows + columns) k^2)); memory O(nnz + (rows + columns) k).
 * Throws RangeError on an empty matrix, negative or non-finite values, or bad options.
 */
export function factorizeImplicit(
  matrix: SparseMatrix,
  options: ImplicitNmfOptions,
): ImplicitNmfResult {
  const started = performance.now();
  validate(matrix, options);
  const k = options.components;
  const sweeps = options.sweeps ?? DEFAULT_SWEEPS;
  const { rows, columns } = matrix;
  const byUser = transposeCsr(matrix);

  // Small uniform start, scaled so that a prediction w . h starts near 1/4 of the preference.
  const random = seededRandom(options.seed);
  const scale = Math.sqrt(0.25 / k) * 2;
  const artistFactors = new Float32Array(rows * k);
  const userFactors = new Float32Array(columns * k);
  for (let i = 0; i < artistFactors.length; i++) artistFactors[i] = scale * random();
  for (let i = 0; i < userFactors.length; i++) userFactors[i] = scale * random();

  const solver = new RowSolver(k, Math.max(maxRowLength(matrix), maxRowLength(byUser)));
  let artistGram = gram(artistFactors, rows, k);
  let previous = Number.POSITIVE_INFINITY;
  let value = Number.POSITIVE_INFINITY;
  let iteration = 0;
  let converged = false;
  while (iteration < options.maxIterations) {
    iteration++;

    // Users with W fixed, then artists with H fixed; each Gram matrix is formed once and
    // serves both the next half-step and the objective.
    const { alpha, l2Artist, l2User } = options;
    solver.updateRows(byUser, userFactors, artistFactors, artistGram, alpha, l2User, sweeps);
    const userGram = gram(userFactors, columns, k);
    solver.updateRows(matrix, artistFactors, userFactors, userGram, alpha, l2Artist, sweeps);
    artistGram = gram(artistFactors, rows, k);

    value = implicitObjective(matrix, artistFactors, userFactors, k, options, {
      artistGram,
      userGram,
    });
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
    artistFactors,
    userFactors,
    components: k,
    iterations: iteration,
    objective: value,
    converged,
    seconds: (performance.now() - started) / 1000,
  };
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
  let value = 0;
  for (let i = 0; i < k * k; i++) value += artistGram[i] * userGram[i];

  // Played cells: c (1 - e)^2 in place of the e^2 counted above.
  const { rowPointers, columnIndices, values } = matrix;
  for (let artist = 0; artist < matrix.rows; artist++) {
    const base = artist * k;
    for (let i = rowPointers[artist]; i < rowPointers[artist + 1]; i++) {
      const other = columnIndices[i] * k;
      let prediction = 0;
      for (let t = 0; t < k; t++) prediction += artistFactors[base + t] * userFactors[other + t];
      const confidence = 1 + penalties.alpha * values[i];
      value += confidence * (1 - prediction) ** 2 - prediction * prediction;
    }
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
 * Scratch buffers are sized once; O(sweeps (entries k + k^2)) a row.
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
   * Updates every row r of `factors` (rows of `matrix` x k) with `other` (columns of `matrix`
   * x k) fixed; `otherGram` = other^T other. O(sweeps (nnz k + rows k^2)).
   */
  updateRows(
    matrix: SparseMatrix,
    factors: Float32Array,
    other: Float32Array,
    otherGram: Float64Array,
    alpha: number,
    l2: number,
    sweeps: number,
  ): void {
    const k = this.k;
    const { rowPointers, columnIndices, values } = matrix;
    for (let r = 0; r < matrix.rows; r++) {
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

function maxRowLength(matrix: SparseMatrix): number {
  let longest = 0;
  for (let r = 0; r < matrix.rows; r++) {
    longest = Math.max(longest, matrix.rowPointers[r + 1] - matrix.rowPointers[r]);
  }
  return longest;
}

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
