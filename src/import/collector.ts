/**
 * Pools the rows of a name-based file (Spotify playlists, triples) into one weight per
 * (listener, artist), with artists merged by lookupKey and shown under their most frequent
 * spelling (the first seen on a tie).
 */
import { lookupKey } from '../model/lookupKey.ts';
import type { ImportedArtist, ImportedInteraction } from '../storage/importWriter.ts';

export class InteractionCollector {
  private readonly spellings = new Map<string, Map<string, number>>();
  private readonly weights = new Map<string, Map<string, number>>();

  /** Adds `weight` to (userId, artist). The name must not be a placeholder. O(name length). */
  add(userId: string, artistName: string, weight: number): void {
    const key = lookupKey(artistName);
    let names = this.spellings.get(key);
    if (names === undefined) this.spellings.set(key, (names = new Map()));
    names.set(artistName, (names.get(artistName) ?? 0) + 1);

    let artists = this.weights.get(userId);
    if (artists === undefined) this.weights.set(userId, (artists = new Map()));
    artists.set(key, (artists.get(key) ?? 0) + weight);
  }

  /** Artists with their chosen spelling, in first-seen order. */
  artists(): ImportedArtist[] {
    return [...this.spellings].map(([key, names]) => {
      let best = '';
      let bestCount = 0;
      for (const [name, count] of names) {
        if (count > bestCount) [best, bestCount] = [name, count];
      }
      return { key, name: best };
    });
  }

  /** One interaction per (listener, artist), listeners in first-seen order. */
  interactions(): ImportedInteraction[] {
    const result: ImportedInteraction[] = [];
    for (const [userId, artists] of this.weights) {
      for (const [artistKey, weight] of artists) result.push({ userId, artistKey, weight });
    }
    return result;
  }
}
