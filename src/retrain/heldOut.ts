/**
 * The held-out sample the parent uses to compare a new model with the served one: for a few
 * listeners with several artists, one artist is hidden and the rest form the profile. Which
 * model ranks the hidden artist in its top N more often is a cheap check that a retrain did not
 * break recommendations. It is a regression guard, not an evaluation: the hidden cells were in
 * the training data of the new model.
 * TODO: leave the sampled cells out of the worker's training matrix, so the check is fair to the
 * served model too; matters if a refusal is ever wrongly avoided because of it.
 */
import type { ListeningData } from '../model/types.ts';
import { transposeCsr } from '../model/sparse.ts';
import type { HeldOutCase } from './protocol.ts';
import { seededRandom, shuffleInPlace } from '../model/random.ts';

/** Members come first in the sample: their profiles are what `/recommend` serves. */
const MEMBER_PREFIX = 'discord:';
/** At most this many artists stay in a profile (the most-played ones), to keep fold-in cheap. */
const MAX_PROFILE = 30;
/** Users need this many artists: one hidden, at least two left. */
const MIN_ARTISTS = 3;

/**
 * Draws up to `count` held-out cases from `data`, members first, then other listeners, each
 * group in a seeded random order. O(nnz) for the transpose plus O(count x artists per user).
 */
export function drawHeldOutCases(data: ListeningData, count: number, seed: number): HeldOutCase[] {
  const byUser = transposeCsr(data.counts);
  const random = seededRandom(seed);

  // Eligible users, members first, each group shuffled.
  const members: number[] = [];
  const listeners: number[] = [];
  for (let user = 0; user < byUser.rows; user++) {
    if (byUser.rowPointers[user + 1] - byUser.rowPointers[user] < MIN_ARTISTS) continue;
    (data.users[user]?.startsWith(MEMBER_PREFIX) ? members : listeners).push(user);
  }
  shuffleInPlace(members, random);
  shuffleInPlace(listeners, random);
  const chosen = [...members, ...listeners].slice(0, Math.max(0, count));

  // One hidden artist per user; the rest, most-played first, form the profile.
  const cases: HeldOutCase[] = [];
  for (const user of chosen) {
    const start = byUser.rowPointers[user];
    const end = byUser.rowPointers[user + 1];
    const entries: { artist: number; count: number }[] = [];
    for (let position = start; position < end; position++) {
      entries.push({ artist: byUser.columnIndices[position], count: byUser.values[position] });
    }
    const hidden = entries.splice(Math.floor(random() * entries.length), 1)[0];
    entries.sort((a, b) => b.count - a.count);
    cases.push({
      profile: entries.slice(0, MAX_PROFILE).map((entry) => ({
        artistKey: data.artists[entry.artist].key, weight: entry.count,
      })),
      hidden: data.artists[hidden.artist].key,
    });
  }
  return cases;
}
