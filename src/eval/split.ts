/**
 * The hold-out split of the evaluation protocol: for every user with at least `minArtists`
 * artists, a random `fraction` of their artists (at least one) is hidden from training and must
 * be found again by the recommender. Users with fewer artists keep everything in training and are
 * not evaluated.
 */
import type { SparseMatrix } from '../model/sparse.ts';
import { buildCsr, transposeCsr } from '../model/sparse.ts';
import { seededRandom, shuffleInPlace } from '../model/random.ts';

export interface HoldoutOptions {
  /** Share of each evaluated user's artists to hide; 0.2 in the protocol. */
  fraction: number;
  /** Users with fewer artists are not evaluated; 5 in the protocol. */
  minArtists: number;
  seed: number;
}

export const PROTOCOL_HOLDOUT: Omit<HoldoutOptions, 'seed'> = { fraction: 0.2, minArtists: 5 };

/** A split of an artists x users count matrix. */
export interface HoldoutSplit {
  /** Same shape as the input, held-out cells removed. */
  train: SparseMatrix;
  /** Evaluated users (column indices), ascending. */
  users: Int32Array;
  /** For users[i], the held-out artist rows, ascending. */
  heldOut: Int32Array[];
  /** For users[i], the artist rows left in training, ascending. */
  trainArtists: Int32Array[];
}

/** How many of `artistCount` artists a user hides: round(fraction * n), at least one. */
export function heldOutCount(artistCount: number, fraction: number): number {
  return Math.max(1, Math.round(fraction * artistCount));
}

/**
 * Splits `counts` (artists x users) by user. The same seed gives the same split.
 * O(nnz) time and memory.
 */
export function holdoutSplit(counts: SparseMatrix, options: HoldoutOptions): HoldoutSplit {
  const { fraction, minArtists, seed } = options;
  if (!(fraction > 0 && fraction < 1)) {
    throw new RangeError(`holdoutSplit: fraction must be between 0 and 1, got ${fraction}`);
  }
  if (!Number.isInteger(minArtists) || minArtists < 2) {
    throw new RangeError(`holdoutSplit: minArtists must be an integer >= 2, got ${minArtists}`);
  }

  const byUser = transposeCsr(counts);
  const random = seededRandom(seed);
  const rowIndices: number[] = [];
  const columnIndices: number[] = [];
  const values: number[] = [];
  const users: number[] = [];
  const heldOut: Int32Array[] = [];
  const trainArtists: Int32Array[] = [];

  for (let user = 0; user < byUser.rows; user++) {
    const start = byUser.rowPointers[user];
    const end = byUser.rowPointers[user + 1];
    const artistCount = end - start;
    const hidden = new Set<number>();

    // Shuffle the positions of this user's entries; the first `heldOutCount` are hidden.
    if (artistCount >= minArtists) {
      const order = new Int32Array(artistCount);
      for (let i = 0; i < artistCount; i++) order[i] = i;
      shuffleInPlace(order, random);
      const hide = heldOutCount(artistCount, fraction);
      for (let i = 0; i < hide; i++) hidden.add(order[i]);
    }

    const kept: number[] = [];
    const hiddenArtists: number[] = [];
    for (let i = 0; i < artistCount; i++) {
      const artist = byUser.columnIndices[start + i];
      if (hidden.has(i)) {
        hiddenArtists.push(artist);
        continue;
      }
      kept.push(artist);
      rowIndices.push(artist);
      columnIndices.push(user);
      values.push(byUser.values[start + i]);
    }
    if (hiddenArtists.length > 0) {
      users.push(user);
      heldOut.push(Int32Array.from(hiddenArtists));
      trainArtists.push(Int32Array.from(kept));
    }
  }

  const train = buildCsr(counts.rows, counts.columns, rowIndices, columnIndices, values);
  return { train, users: Int32Array.from(users), heldOut, trainArtists };
}
