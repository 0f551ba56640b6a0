/**
 * Top-N ranking metrics with binary relevance: Recall@N (hits / min(N, relevant)), nDCG@N and
 * catalogue coverage. A recommended list is an array of artist rows, best first.
 */

/** Hits in the first `n` of `recommended` divided by min(n, relevant count); 0 if none relevant. */
export function recallAtN(
  recommended: ArrayLike<number>,
  relevant: ArrayLike<number>,
  n: number,
): number {
  if (relevant.length === 0) return 0;
  const wanted = new Set(Array.from(relevant));
  let hits = 0;
  const length = Math.min(n, recommended.length);
  for (let rank = 0; rank < length; rank++) if (wanted.has(recommended[rank])) hits++;
  return hits / Math.min(n, wanted.size);
}

/**
 * Normalised discounted cumulative gain at `n`: sum over hits of 1 / log2(rank + 1) (rank from 1),
 * divided by the same sum for an ideal list holding min(n, relevant) hits first.
 */
export function ndcgAtN(
  recommended: ArrayLike<number>,
  relevant: ArrayLike<number>,
  n: number,
): number {
  if (relevant.length === 0) return 0;
  const wanted = new Set(Array.from(relevant));
  let gain = 0;
  const length = Math.min(n, recommended.length);
  for (let rank = 0; rank < length; rank++) {
    if (wanted.has(recommended[rank])) gain += 1 / Math.log2(rank + 2);
  }
  let ideal = 0;
  for (let rank = 0; rank < Math.min(n, wanted.size); rank++) ideal += 1 / Math.log2(rank + 2);
  return gain / ideal;
}

/** Distinct items across all lists divided by `catalogueSize`. */
export function catalogueCoverage(lists: ArrayLike<number>[], catalogueSize: number): number {
  const seen = new Set<number>();
  for (const list of lists) for (let i = 0; i < list.length; i++) seen.add(list[i]);
  return catalogueSize === 0 ? 0 : seen.size / catalogueSize;
}

/**
 * The `n` highest-scoring indices of `scores`, best first, skipping `exclude` and non-finite
 * scores; ties go to the lower index. O(length * log n).
 */
export function topN(
  scores: ArrayLike<number>,
  n: number,
  exclude?: ArrayLike<number>,
): Int32Array {
  const skip = new Set<number>(exclude === undefined ? [] : Array.from(exclude));
  // A small sorted buffer (ascending by quality from the end) is enough for n = 10.
  const best: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    const score = scores[i];
    if (!Number.isFinite(score) || skip.has(i)) continue;
    if (best.length === n && score <= scores[best[n - 1]]) continue;
    let position = best.length;
    while (position > 0 && scores[best[position - 1]] < score) position--;
    best.splice(position, 0, i);
    if (best.length > n) best.pop();
  }
  return Int32Array.from(best);
}
