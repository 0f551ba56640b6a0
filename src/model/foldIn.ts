/**
 * Fold-in: the factor vector of a listener who was not in the training data, found against the
 * fixed artist factors W without retraining.
 *
 * Objective, for the user's taste vector x (weights at a few artist rows, zero elsewhere):
 *
 *   min_u  0.5 ||x - W u||^2 + l1 sum(u) + 0.5 l2 ||u||^2   subject to u >= 0
 *
 * Expanded, 0.5 u^T (G + l2 I) u - (W^T x - l1)^T u + const with G = W^T W, the Gram matrix stored
 * in the model, and W^T x summed over the taste entries only. So one solve costs
 * O(entries x k) to form W^T x plus O(k^2) per sweep, never O(artists x k).
 *
 * Update rule: cyclic coordinate descent on the non-negative quadratic (as in scikit-learn's
 * `_update_coordinate_descent` for NMF, Cichocki & Phan 2009). With gradient g = (G + l2 I) u - b,
 * each coordinate moves to its exact minimiser given the others,
 *
 *   u_j <- max(0, u_j - (g_j + l1) / (G_jj + l2)),
 *
 * and g is updated in O(k). Sweeps stop when the largest change in a sweep is below
 * `tolerance` x the largest coordinate (or below `tolerance` when u is all zero).
 *
 * Models trained with the implicit solver (`parameters.solver === 'implicit'`,
 * src/model/implicitNmf.ts) are folded in under the objective they were trained with, the
 * user's row of it with W fixed: preference 1 on the taste artists and 0 on every other,
 * confidence 1 + alpha x on the taste artists (alpha = `parameters.confidence`),
 *
 *   min_u  0.5 sum_a c_a (p_a - w_a . u)^2 + 0.5 l2 ||u||^2   subject to u >= 0,
 *
 * solved by the same coordinate descent (the training row solver, with G = W^T W from the model).
 * The cost is the same O(entries x k + sweeps x (entries + k) x k); l1 must be 0 there.
 */
import { artistCount } from './artistTable.ts';
import { RowSolver } from './implicitNmf.ts';
import type { ModelData } from './types.ts';

/** One taste entry: an artist row of the model and its weight (already weighted as in training). */
export interface FoldInEntry {
  index: number;
  weight: number;
}

/** Penalties and stopping rule; penalties default to `model.meta.foldIn`. */
export interface FoldInOptions {
  l1?: number;
  l2?: number;
  maxSweeps?: number;
  tolerance?: number;
}

const DEFAULT_MAX_SWEEPS = 500;
const DEFAULT_TOLERANCE = 1e-5;

/**
 * Solves the objective above for one user. `entries` may repeat an artist (weights add up);
 * entries with an index outside the model or a non-finite weight throw a RangeError. Returns u
 * (length `model.components`, all >= 0); no entries, or only zero weights, give the zero vector.
 * Cost O(entries x k + sweeps x k^2).
 */
export function foldIn(
  model: ModelData,
  entries: readonly FoldInEntry[],
  options: FoldInOptions = {},
): Float64Array {
  const k = model.components;
  const n = artistCount(model);
  const W = model.artistFactors;
  const G = model.artistGram;
  const l1 = options.l1 ?? model.meta.foldIn?.l1 ?? 0;
  const l2 = options.l2 ?? model.meta.foldIn?.l2 ?? 0;
  const maxSweeps = options.maxSweeps ?? DEFAULT_MAX_SWEEPS;
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  const u = new Float64Array(k);
  if (model.meta.parameters?.solver === 'implicit') {
    return foldInImplicit(model, entries, l2, maxSweeps, tolerance);
  }

  // Right-hand side b = W^T x - l1, over the taste entries only.
  const b = new Float64Array(k);
  let anyWeight = false;
  for (const { index, weight } of entries) {
    if (!Number.isInteger(index) || index < 0 || index >= n) {
      throw new RangeError(`foldIn: artist index ${index} is outside 0..${n - 1}`);
    }
    if (!Number.isFinite(weight)) throw new RangeError(`foldIn: weight ${weight} is not finite`);
    if (weight === 0) continue;
    anyWeight = true;
    const row = index * k;
    for (let c = 0; c < k; c++) b[c] += weight * W[row + c];
  }
  if (!anyWeight) return u;
  for (let c = 0; c < k; c++) b[c] -= l1;

  // Starting from u = 0 the gradient of the smooth part is -b (l1 already folded into b).
  const gradient = new Float64Array(k);
  for (let c = 0; c < k; c++) gradient[c] = -b[c];

  // Cyclic coordinate descent.
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let largestChange = 0;
    let largestValue = 0;
    for (let j = 0; j < k; j++) {
      const curvature = G[j * k + j] + l2;
      const current = u[j];
      const next = curvature > 0 ? Math.max(0, current - gradient[j] / curvature) : 0;
      const change = next - current;
      if (change !== 0) {
        u[j] = next;
        const column = j * k;
        for (let c = 0; c < k; c++) gradient[c] += change * G[column + c];
        gradient[j] += change * l2;
      }
      largestChange = Math.max(largestChange, Math.abs(change));
      largestValue = Math.max(largestValue, next);
    }
    if (largestChange <= tolerance * Math.max(largestValue, 1e-12)) break;
  }
  return u;
}

/**
 * The fold-in objective at u (without the constant 0.5 ||x||^2), for tests and diagnostics:
 * 0.5 u^T G u - (W^T x)^T u + l1 sum(u) + 0.5 l2 ||u||^2. O(entries x k + k^2).
 */
export function foldInObjective(
  model: ModelData,
  entries: readonly FoldInEntry[],
  u: ArrayLike<number>,
  penalties: { l1: number; l2: number },
): number {
  const k = model.components;
  let value = 0;
  for (let a = 0; a < k; a++) {
    let row = 0;
    for (let c = 0; c < k; c++) row += model.artistGram[a * k + c] * u[c];
    value += 0.5 * u[a] * row + penalties.l1 * u[a] + 0.5 * penalties.l2 * u[a] * u[a];
  }
  for (const { index, weight } of entries) {
    for (let c = 0; c < k; c++) value -= weight * model.artistFactors[index * k + c] * u[c];
  }
  return value;
}

/** The implicit-objective fold-in of the file header; same contract as `foldIn`. */
function foldInImplicit(
  model: ModelData,
  entries: readonly FoldInEntry[],
  l2: number,
  maxSweeps: number,
  tolerance: number,
): Float64Array {
  const k = model.components;
  const n = artistCount(model);
  const u = new Float64Array(k);

  // Taste rows with their summed weights: each played artist is one cell of the user's row.
  const weightOfRow = new Map<number, number>();
  for (const { index, weight } of entries) {
    if (!Number.isInteger(index) || index < 0 || index >= n) {
      throw new RangeError(`foldIn: artist index ${index} is outside 0..${n - 1}`);
    }
    if (!Number.isFinite(weight)) throw new RangeError(`foldIn: weight ${weight} is not finite`);
    weightOfRow.set(index, (weightOfRow.get(index) ?? 0) + weight);
  }
  for (const [index, weight] of weightOfRow) if (weight === 0) weightOfRow.delete(index);
  if (weightOfRow.size === 0) return u;
  const rows = Int32Array.from(weightOfRow.keys());
  const weights = Float64Array.from(weightOfRow.values());

  const solver = new RowSolver(k, rows.length);
  const alpha = model.meta.parameters.confidence ?? 0;
  solver.solve(
    model.artistGram,
    l2,
    model.artistFactors,
    rows,
    weights,
    0,
    rows.length,
    alpha,
    maxSweeps,
    u,
    tolerance,
  );
  return u;
}

/**
 * The implicit fold-in objective at u (without its constant), for tests and diagnostics:
 * 0.5 u^T G u + 0.5 sum_taste ((c_a - 1) (w_a . u)^2 - 2 c_a w_a . u) + 0.5 l2 ||u||^2 with
 * c_a = 1 + alpha x_a. O(entries x k + k^2).
 */
export function implicitFoldInObjective(
  model: ModelData,
  entries: readonly FoldInEntry[],
  u: ArrayLike<number>,
  l2: number,
): number {
  const k = model.components;
  const alpha = model.meta.parameters.confidence ?? 0;
  let value = 0;
  for (let a = 0; a < k; a++) {
    let row = 0;
    for (let c = 0; c < k; c++) row += model.artistGram[a * k + c] * u[c];
    value += 0.5 * u[a] * row + 0.5 * l2 * u[a] * u[a];
  }
  for (const { index, weight } of entries) {
    let prediction = 0;
    for (let c = 0; c < k; c++) prediction += model.artistFactors[index * k + c] * u[c];
    const confidence = 1 + alpha * weight;
    value += 0.5 * (confidence - 1) * prediction * prediction - confidence * prediction;
  }
  return value;
}
