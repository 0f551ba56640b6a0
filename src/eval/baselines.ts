/**
 * Reference recommenders for the evaluation, each scoring every artist for a user from the train
 * split alone:
 * - popularity: number of train listeners, the same list for everyone;
 * - item-kNN: cosine between artist rows of the log1p artist x user matrix, score = sum of the
 *   similarities to the user's train artists;
 * - factor cosine: sum of cosines between L2-normalised artist factor rows (used to replicate the
 *   original pipeline, which ranked this way).
 */
import type { SparseMatrix } from '../model/sparse.ts';
import { rowCounts } from '../model/sparse.ts';
import { topN } from './metrics.ts';

/**
 * Ranks up to n artist rows for the user in column `user` of the train matrix, best first, never
 * one of their `trainArtists` (the artist rows of that column, ascending).
 */
export type RankArtists = (trainArtists: Int32Array, n: number, user: number) => Int32Array;

/** Popularity: artists with most train listeners first. O(artists) to fit, O(artists) a user. */
export function popularityRanker(train: SparseMatrix): RankArtists {
  const listeners = rowCounts(train);
  return (trainArtists, n) => topN(listeners, n, trainArtists);
}

/**
 * Item-kNN with cosine similarity on log1p counts. Instead of forming the artists x artists
 * similarity matrix, a user's scores are Xn (Xn^T 1_T): one pass over the nonzeros, O(nnz) a user.
 */
export function itemKnnRanker(train: SparseMatrix): RankArtists {
  const normalised = normaliseRows(train, Math.log1p);
  const { rows, columns, rowPointers, columnIndices, values } = normalised;
  const profile = new Float64Array(columns);
  const scores = new Float64Array(rows);

  return (trainArtists, n) => {
    profile.fill(0);
    for (const artist of trainArtists) {
      for (let i = rowPointers[artist]; i < rowPointers[artist + 1]; i++) {
        profile[columnIndices[i]] += values[i];
      }
    }
    for (let artist = 0; artist < rows; artist++) {
      let score = 0;
      for (let i = rowPointers[artist]; i < rowPointers[artist + 1]; i++) {
        score += values[i] * profile[columnIndices[i]];
      }
      scores[artist] = score;
    }
    return topN(scores, n, trainArtists);
  };
}

/**
 * Sum of cosines between dense artist factor rows (artists x k, row-major). `rowOfArtist[a]` is
 * the factor row of artist row a, or -1 for an artist the factors do not cover (never ranked).
 * Equal scores go to the artist with the larger `tieBreak` value (then the lower row); without
 * `tieBreak`, to the lower row. O(artists * k) a user.
 */
export function factorCosineRanker(
  factors: Float32Array,
  components: number,
  rowOfArtist: Int32Array,
  tieBreak?: ArrayLike<number>,
): RankArtists {
  const factorRows = factors.length / components;
  const unit = new Float64Array(factors.length);
  for (let row = 0; row < factorRows; row++) {
    let norm = 0;
    for (let c = 0; c < components; c++) norm += factors[row * components + c] ** 2;
    norm = Math.sqrt(norm);
    // A zero row has no direction: it stays zero and scores 0 against everything.
    if (norm === 0) continue;
    for (let c = 0; c < components; c++) {
      unit[row * components + c] = factors[row * components + c] / norm;
    }
  }
  const profile = new Float64Array(components);
  const scores = new Float64Array(rowOfArtist.length);

  // Artists in tie-break order: topN prefers the lower index among equal scores.
  const order = Int32Array.from(rowOfArtist.keys());
  if (tieBreak) order.sort((a, b) => tieBreak[b] - tieBreak[a] || a - b);
  const position = new Int32Array(order.length);
  order.forEach((artist, index) => (position[artist] = index));
  const ordered = new Float64Array(order.length);

  return (trainArtists, n) => {
    profile.fill(0);
    for (const artist of trainArtists) {
      const row = rowOfArtist[artist];
      if (row < 0) continue;
      for (let c = 0; c < components; c++) profile[c] += unit[row * components + c];
    }
    for (let artist = 0; artist < rowOfArtist.length; artist++) {
      const row = rowOfArtist[artist];
      if (row < 0) {
        scores[artist] = Number.NEGATIVE_INFINITY;
        continue;
      }
      let score = 0;
      for (let c = 0; c < components; c++) score += unit[row * components + c] * profile[c];
      scores[artist] = score;
    }
    for (let index = 0; index < order.length; index++) ordered[index] = scores[order[index]];
    const excluded = Array.from(trainArtists, (artist) => position[artist]);
    return Int32Array.from(topN(ordered, n, excluded), (index) => order[index]);
  };
}

/** Applies `transform` to every stored value, then scales each row to unit length. O(nnz). */
export function normaliseRows(matrix: SparseMatrix, transform: (value: number) => number) {
  const values = new Float32Array(matrix.values.length);
  for (let row = 0; row < matrix.rows; row++) {
    const start = matrix.rowPointers[row];
    const end = matrix.rowPointers[row + 1];
    let norm = 0;
    for (let i = start; i < end; i++) {
      values[i] = transform(matrix.values[i]);
      norm += values[i] * values[i];
    }
    norm = Math.sqrt(norm);
    if (norm > 0) for (let i = start; i < end; i++) values[i] /= norm;
  }
  return { ...matrix, values };
}
