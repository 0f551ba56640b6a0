/**
 * A small seeded pseudo-random generator (mulberry32) so that splits and shuffles are the same
 * for the same seed on every machine. Not for anything security-related.
 */

/** Returns a function giving uniform floats in [0, 1), fully determined by `seed`. O(1) a call. */
export function seededRandom(seed: number): () => number {
  return mulberry32(Math.trunc(seed) ^ 0x9e3779b9);
}

/**
 * mulberry32 itself, its state started at `state` as given (seededRandom mixes the seed first):
 * for sequences that were fixed before seededRandom existed (the Frobenius trainer's start, test
 * fixtures). O(1) a call.
 */
export function mulberry32(state: number): () => number {
  let current = state >>> 0;
  return () => {
    current = (current + 0x6d2b79f5) >>> 0;
    let mixed = current;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/** Shuffles `items` in place (Fisher-Yates) with `random`. O(length). */
export function shuffleInPlace<T extends { length: number; [index: number]: number }>(
  items: T,
  random: () => number,
): T {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = items[i];
    items[i] = items[j];
    items[j] = swap;
  }
  return items;
}
