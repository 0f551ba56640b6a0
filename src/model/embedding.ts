/**
 * The artist embedding used for similarity: rows whose cosine equals the cosine between the
 * artists' reconstructed rows of W H, i.e. between their predicted audiences.
 *
 * With H H^T = Q S Q^T (eigendecomposition of the k x k Gram matrix), z_i = w_i Q S^(1/2) gives
 * z_i . z_j = w_i H H^T w_j^T = (w_i H) . (w_j H), at O(artists k^2) instead of O(artists users k).
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

/**
 * Unit-length rows z_i = w_i Q S^(1/2) / |.|, artists x k row-major. Rows that come out with zero
 * norm (an artist with no weight, or only on components no user carries) stay zero.
 * Inputs: W (artists x k) and H^T (users x k), both row-major. O((artists + users) k^2 + k^3).
 */
export function similarityEmbedding(
  artistFactors: Float32Array,
  userFactors: Float32Array,
  artists: number,
  users: number,
  k: number,
): Float32Array {
  if (artistFactors.length !== artists * k || userFactors.length !== users * k) {
    throw new RangeError(
      `similarityEmbedding: expected ${artists} x ${k} and ${users} x ${k} factors, got ` +
        `${artistFactors.length} and ${userFactors.length} values`,
    );
  }

  // H H^T = Q S Q^T; projection P = Q S^(1/2), with rounding-level negative eigenvalues as 0.
  const userGram = gram(userFactors, users, k);
  const rows: number[][] = [];
  for (let t = 0; t < k; t++) rows.push(Array.from(userGram.subarray(t * k, (t + 1) * k)));
  const decomposition = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true });
  const eigenvalues = decomposition.realEigenvalues;
  const eigenvectors = decomposition.eigenvectorMatrix;
  const projection = new Float64Array(k * k);
  for (let t = 0; t < k; t++) {
    for (let s = 0; s < k; s++) {
      projection[t * k + s] = eigenvectors.get(t, s) * Math.sqrt(Math.max(0, eigenvalues[s]));
    }
  }

  // z_i = w_i P, then scaled to unit length.
  const embedding = new Float32Array(artists * k);
  const row = new Float64Array(k);
  for (let i = 0; i < artists; i++) {
    row.fill(0);
    const base = i * k;
    for (let t = 0; t < k; t++) {
      const w = artistFactors[base + t];
      if (w === 0) continue;
      const projectionBase = t * k;
      for (let s = 0; s < k; s++) row[s] += w * projection[projectionBase + s];
    }
    let norm = 0;
    for (let s = 0; s < k; s++) norm += row[s] * row[s];
    norm = Math.sqrt(norm);
    if (norm === 0 || !Number.isFinite(norm)) continue;
    for (let s = 0; s < k; s++) embedding[base + s] = row[s] / norm;
  }
  return embedding;
}

/** F^T F for row-major factors F (rows x k): k x k, Float64, symmetric. O(rows k^2). */
export function gram(factors: Float32Array, rows: number, k: number): Float64Array {
  const result = new Float64Array(k * k);
  for (let r = 0; r < rows; r++) {
    const base = r * k;
    for (let t = 0; t < k; t++) {
      const f = factors[base + t];
      if (f === 0) continue;
      const resultBase = t * k;
      for (let s = t; s < k; s++) result[resultBase + s] += f * factors[base + s];
    }
  }
  for (let t = 0; t < k; t++) {
    for (let s = t + 1; s < k; s++) result[s * k + t] = result[t * k + s];
  }
  return result;
}

/** Mirrors the upper triangle of a k x k matrix into its lower triangle, in place. */
export function symmetrize(matrix: Float64Array, k: number): void {
  for (let t = 0; t < k; t++) {
    for (let s = t + 1; s < k; s++) matrix[s * k + t] = matrix[t * k + s];
  }
}
