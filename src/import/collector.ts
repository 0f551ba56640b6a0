/**
 * Pools the rows of a name-based file (Spotify playlists, triples) into one weight per
 * (listener, artist), with artists merged by lookupKey and shown under their most frequent
 * spelling (the first seen on a tie).
 */
import { lookupKey } from '../model/lookupKey.ts';
import type { ImportedArtist, ImportedInteraction } from '../storage/importWriter.ts';

export class InteractionCollector {
  /** Each spelling seen, with its key and how many rows used it. */
  private readonly spellings = new Map<string, { key: string; rows: number }>();
  private readonly weights = new Map<string, Map<string, number>>();

  /** Adds `weight` to (userId, artist). The name must not be a placeholder. O(1) for a known
   *  spelling, O(name length) for a new one. */
  add(userId: string, artistName: string, weight: number): void {
    let spelling = this.spellings.get(artistName);
    if (spelling === undefined) {
      spelling = { key: lookupKey(artistName), rows: 0 };
      this.spellings.set(artistName, spelling);
    }
    spelling.rows++;

    let artists = this.weights.get(userId);
    if (artists === undefined) this.weights.set(userId, (artists = new Map()));
    artists.set(spelling.key, (artists.get(spelling.key) ?? 0) + weight);
  }

  /** Artists with their chosen spelling, in first-seen order of their keys. */
  artists(): ImportedArtist[] {
    const best = new Map<string, { name: string; rows: number }>();
    for (const [name, { key, rows }] of this.spellings) {
      const current = best.get(key);
      if (current === undefined || rows > current.rows) best.set(key, { name, rows });
    }
    return [...best].map(([key, { name }]) => ({ key, name }));
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
