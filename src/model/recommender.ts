/**
 * The serving side of the model: the bot's only door to it. Answers "who is like X" from the
 * similarity embedding, "what should I hear" by folding a taste profile in against the artist
 * factors (blended with the taste's neighbours in the embedding), and "which artist did you
 * mean" through the artist search index.
 *
 * Costs at n artists and k components: similarArtists O(n k), recommend O(entries k + sweeps k^2
 * + n k), autocomplete and resolve O(log n + matches) (typos: a few hundred edit distances).
 * Top-k selection uses a bounded min-heap, O(n log count), never a full sort.
 */
import { ArtistSearch } from './artistSearch.ts';
import { artistTableOf } from './artistTable.ts';
import type { ArtistTable } from './artistTable.ts';
import { foldIn } from './foldIn.ts';
import { lookupKey } from './lookupKey.ts';
import { readModel } from './modelFile.ts';
import { BM25_B, BM25_K1 } from './weighting.ts';
import { rowDots, rowDotsSingle } from './wasm/kernels.ts';
import type { ModelArtist, ModelData, ModelMeta, NeighbourLists, Weighting } from './types.ts';

/** One answer to "who is similar to X". */
export interface SimilarArtist {
  artist: ModelArtist;
  /** Cosine between the two artists' similarity embeddings, clamped to [0, 1]. */
  similarity: number;
  /** similarity x n / (n + 3), n = the candidate's listeners: what the list is ranked by. */
  score: number;
}

/** One personal pick. */
export interface Recommendation {
  artist: ModelArtist;
  /**
   * What the list is ranked by: the blend of the fold-in prediction W u and the summed cosines to
   * the taste artists, each scaled to at most 1 (see `recommend`), so at most 1.
   */
  score: number;
  /** The taste artist that contributes most (see `recommend`). */
  because: ModelArtist;
}

/** The outcome of looking a typed name up: the artist, or up to 5 "did you mean" suggestions. */
export type Resolution =
  { artist: ModelArtist } | { artist: undefined; suggestions: ModelArtist[] };

/**
 * Share of the neighbour score in a recommendation's score (the rest is the fold-in score).
 * Chosen on the held-out evaluation, seed 1 (Recall@10 / nDCG@10 with BM25 B = 0.3): fold-in
 * alone 0.184 / 0.223, 0.25 0.187 / 0.226, 0.5 0.183 / 0.222, neighbours alone 0.090 / 0.108.
 */
export const NEIGHBOUR_BLEND = 0.25;
/**
 * The same share for models trained with the implicit solver (src/model/implicitNmf.ts), whose
 * fold-in scores are predicted preferences. Default settings (k = 192), seeds 1 and 2: fold-in
 * alone 0.203 / 0.244 and 0.201 / 0.243, 0.4 0.205 / 0.247 and 0.201 / 0.244, 0.5 0.206 / 0.247
 * and 0.201 / 0.243. At k = 128: alone 0.202 / 0.243 and 0.199 / 0.241, 0.3 0.203 / 0.245 and
 * 0.200 / 0.242, 0.4 0.204 / 0.245 and 0.201 / 0.243, 0.5 0.204 / 0.245 and 0.200 / 0.242,
 * 0.6 0.203 / 0.244 and 0.200 / 0.242.
 */
export const IMPLICIT_NEIGHBOUR_BLEND = 0.4;
/**
 * Lists of this many neighbours are cached (and precomputed by `neighbourLists`) per artist;
 * longer requests are ranked afresh. `/similar` shows at most 25.
 */
export const CACHED_NEIGHBOURS = 25;
/** Artists whose neighbour lists are kept (about 2 KB each). */
const NEIGHBOUR_CACHE_SIZE = 4096;
/** Listener count at which the similarity shrink n / (n + SHRINK) reaches one half. */
const SIMILARITY_SHRINK = 3;
/** Most autocomplete choices Discord shows. */
const MAX_AUTOCOMPLETE = 25;
const MAX_SUGGESTIONS = 5;
/** Longer names cannot be an artist; they are cut before keying so lookups stay cheap. */
const MAX_NAME_CHARACTERS = 1000;

/** Serves one trained model. Immutable after construction: swap in a new instance to update. */
export class Recommender {
  /** The model served. Treat as read-only. */
  readonly data: ModelData;
  /** The artists served: columns, and records made when shown (see artistTable.ts). */
  private readonly artists: ArtistTable;
  private readonly search: ArtistSearch;
  /** Id index, built on the first artistById call (`#id` references, the CLI's batch modes). */
  private rowOfId: Map<number, number> | undefined;
  /** Rows of artists whose key is empty (names of punctuation only, such as `!!!`), by name. */
  private readonly rowOfBareName = new Map<string, number>();
  /** n / (n + 3) per artist. */
  private readonly shrink: Float32Array;
  /** One score per artist, reused by every query (JavaScript runs one query at a time). */
  private readonly scratch: Float64Array;
  /** Row -> its CACHED_NEIGHBOURS best neighbours, least recently used first. */
  private readonly neighbourCache = new Map<number, SimilarArtist[]>();
  /** Neighbour scores of `recommend`, reused likewise. */
  private readonly neighbourScratch: Float64Array;
  /** Mean listeners over the artists, for the bm25 taste weighting. */
  private readonly meanListeners: number;
  /** Row -> its slot in `data.neighbourLists`, -1 for none; undefined without stored lists. */
  private readonly storedSlot: Int32Array | undefined;

  /**
   * Serves `data`, with the search index stored in its file, or builds that index when it came
   * without one (see buildArtistSearchIndex: about half a second at 160k artists). O(n) with a
   * stored index, making no artist record for a model read from a version 4 file.
   */
  constructor(data: ModelData) {
    this.data = data;
    this.artists = artistTableOf(data);
    const n = this.artists.size;
    this.search = new ArtistSearch(this.artists, data.searchIndex);
    this.shrink = new Float32Array(n);
    this.scratch = new Float64Array(n);
    this.neighbourScratch = new Float64Array(n);
    // One pass over the columns (run once per load, so kept to locals and typed arrays).
    const { listeners: counts, keyStarts } = this.artists;
    const shrink = this.shrink;
    let listeners = 0;
    for (let row = 0; row < n; row++) {
      const count = counts[row];
      shrink[row] = count / (count + SIMILARITY_SHRINK);
      listeners += count;
      if (keyStarts[row + 1] === keyStarts[row]) {
        this.rowOfBareName.set(bareName(this.artists.artist(row).name), row);
      }
    }
    this.meanListeners = n > 0 ? listeners / n : 0;
    this.storedSlot = slotsOf(data.neighbourLists, n);
  }

  /** Reads a model file (throws ModelFileError) and builds the indexes. */
  static load(path: string): Recommender {
    return new Recommender(readModel(path));
  }

  /** The model header: parameters, data summary, creation time. */
  get meta(): ModelMeta {
    return this.data.meta;
  }

  /** Number of artists the model knows. */
  get artistCount(): number {
    return this.artists.size;
  }

  /** The artist with exactly this lookup key, or undefined. O(1). */
  artistByKey(key: string): ModelArtist | undefined {
    const row = this.search.rowOfKey(key);
    return row === undefined ? undefined : this.artists.artist(row);
  }

  /**
   * The artist with this data-source id (`ModelArtist.id`), or undefined. O(1), after a first
   * call that indexes the ids in O(n).
   */
  artistById(id: number): ModelArtist | undefined {
    if (this.rowOfId === undefined) {
      this.rowOfId = new Map();
      for (let row = 0; row < this.artists.size; row++) {
        const artistId = this.artists.ids[row];
        if (!this.rowOfId.has(artistId)) this.rowOfId.set(artistId, row);
      }
    }
    const row = this.rowOfId.get(id);
    return row === undefined ? undefined : this.artists.artist(row);
  }

  /**
   * Exact lookupKey match, else up to 5 "did you mean" suggestions (prefixes, later words, then
   * typos; most listened first within each). Never throws, whatever the string.
   */
  resolve(name: string): Resolution {
    const text = String(name ?? '').slice(0, MAX_NAME_CHARACTERS);
    const key = lookupKey(text);
    const row = key.length > 0 ? this.search.rowOfKey(key) : this.rowOfBareName.get(bareName(text));
    if (row !== undefined) return { artist: this.artists.artist(row) };
    const suggestions = this.search
      .search(text, MAX_SUGGESTIONS)
      .map((match) => this.artists.artist(match.index));
    return { artist: undefined, suggestions };
  }

  /**
   * Autocomplete choices for a partly typed name: exact, prefix and later-word matches, then
   * typo-tolerant ones, most listened first within each class; at most `limit` (capped at 25).
   * An empty query (or one of punctuation only) gives the most listened artists.
   */
  autocomplete(query: string, limit = MAX_AUTOCOMPLETE): ModelArtist[] {
    const size = Math.max(0, Math.min(MAX_AUTOCOMPLETE, Math.floor(limit) || 0));
    const text = String(query ?? '').slice(0, MAX_NAME_CHARACTERS);
    const rows =
      lookupKey(text).length === 0
        ? this.search.mostListened(size)
        : this.search.search(text, size).map((match) => match.index);
    return rows.map((row) => this.artists.artist(row));
  }

  /**
   * The `count` artists most similar to `artist`, by cosine in the similarity embedding times
   * the listener shrink n / (n + 3), so that an artist two people played cannot top the list on
   * one coincidence. Excludes the artist itself and artists with no similarity at all. An artist
   * this model does not know (matched by key) gives []. O(n k + n log count), O(count) when the
   * artist's list is cached.
   */
  similarArtists(artist: ModelArtist, count: number): SimilarArtist[] {
    const row = this.rowOf(artist);
    const wanted = Math.floor(count);
    if (row === undefined || !(wanted > 0)) return [];
    if (wanted > CACHED_NEIGHBOURS) return this.rankNeighbours(row, wanted);

    // Members ask about the same popular artists again and again: keep their lists (exact, the
    // model never changes) in a small least-recently-used cache.
    let neighbours = this.neighbourCache.get(row);
    if (neighbours === undefined) {
      neighbours = this.storedNeighbours(row) ?? this.rankNeighbours(row, CACHED_NEIGHBOURS);
      if (this.neighbourCache.size >= NEIGHBOUR_CACHE_SIZE) {
        this.neighbourCache.delete(this.neighbourCache.keys().next().value as number);
      }
    } else {
      this.neighbourCache.delete(row);
    }
    this.neighbourCache.set(row, neighbours);
    return neighbours.slice(0, wanted);
  }

  /**
   * The `CACHED_NEIGHBOURS` lists of the `maxArtists` most listened artists (ties: lower row
   * first), exactly as `similarArtists` ranks them, for the trainer to store in the model file so
   * that serving them costs O(count). O(maxArtists (n k + n log 25)): about 2 s for the shipped
   * 6,958 x 256 model.
   */
  neighbourLists(maxArtists: number): NeighbourLists {
    const n = this.artists.size;
    const listeners = this.artists.listeners;
    const rows = Array.from({ length: n }, (_, row) => row);
    rows.sort((a, b) => listeners[b] - listeners[a] || a - b);
    const artists = Int32Array.from(rows.slice(0, Math.max(0, Math.min(n, maxArtists))));
    const width = CACHED_NEIGHBOURS;
    const neighbours = new Int32Array(artists.length * width).fill(-1);
    for (let slot = 0; slot < artists.length; slot++) {
      neighbours.set(this.rankedRows(artists[slot], width), slot * width);
    }
    return { width, artists, neighbours };
  }

  /** The stored list of `row` as `rankNeighbours` would give it, or undefined. O(width k). */
  private storedNeighbours(row: number): SimilarArtist[] | undefined {
    const slot = this.storedSlot?.[row] ?? -1;
    const lists = this.data.neighbourLists;
    if (slot < 0 || lists === undefined) return undefined;
    const result: SimilarArtist[] = [];
    for (let i = slot * lists.width; i < (slot + 1) * lists.width; i++) {
      const candidate = lists.neighbours[i];
      if (!(candidate >= 0 && candidate < this.artists.size)) break;
      const similarity = this.cosine(row, candidate);
      result.push({
        artist: this.artists.artist(candidate),
        similarity: Math.min(1, similarity),
        score: similarity * this.shrink[candidate],
      });
    }
    return result;
  }

  private rankNeighbours(row: number, wanted: number): SimilarArtist[] {
    // Ranked in float32; what is shown is recomputed in float64, as stored lists are.
    return this.rankedRows(row, wanted).map((candidate) => {
      const similarity = this.cosine(row, candidate);
      return {
        artist: this.artists.artist(candidate),
        similarity: Math.min(1, similarity),
        score: similarity * this.shrink[candidate],
      };
    });
  }

  /** The rows of the `wanted` best neighbours of `row`, best first. O(n k + n log wanted). */
  private rankedRows(row: number, wanted: number): number[] {
    const k = this.data.components;
    const embedding = this.data.similarityEmbedding;
    const n = this.artists.size;
    const heap = new TopScores(Math.min(wanted, n));

    // Cosine of unit rows is their dot product: one pass over the embedding, in float32.
    const dots = this.scratch;
    rowDotsSingle(embedding, embedding.subarray(row * k, (row + 1) * k), dots);
    dots[row] = 0;
    for (let candidate = 0; candidate < n; candidate++) {
      const score = dots[candidate] * this.shrink[candidate];
      if (dots[candidate] > 0 && score >= heap.floor) heap.offer(score, candidate);
    }

    return heap.drain().map((entry) => entry.row);
  }

  /**
   * Personal picks for a taste profile, ranked by a blend of two scores over the same model:
   *
   * - fold-in: the weights are transformed as training weighted counts (see `tasteWeights`),
   *   folded in against W (src/model/foldIn.ts), and every artist scored by W u;
   * - neighbours: the sum of the candidate's cosines to the taste artists in the similarity
   *   embedding (item-kNN in the model's space), every taste artist counting once.
   *
   * Each is divided by its largest value over all artists (taste included), and the pick's score
   * is (1 - b) x fold-in + b x neighbours, b = `neighbourBlend(meta)`. Taste artists are skipped
   * and the best `count` with a positive score returned.
   *
   * "Because": the taste artist t with the largest w_t x cosine(candidate, t) in the similarity
   * embedding, w_t being the weight as given (not transformed): the favourite that the pick most
   * resembles, with the same notion of "similar" as /similar. Unknown keys and non-positive or
   * non-finite weights are ignored; no usable entry (or a fold-in of zero) gives [].
   * Cost O(entries k + sweeps k^2 + n k + count entries k).
   */
  recommend(
    taste: readonly { artistKey: string; weight: number }[],
    count: number,
  ): Recommendation[] {
    const wanted = Math.floor(count);
    if (!(wanted > 0)) return [];
    const n = this.artists.size;
    const k = this.data.components;

    // Known taste rows, duplicates merged.
    const weightOfRow = new Map<number, number>();
    for (const { artistKey, weight } of taste) {
      const row = this.search.rowOfKey(artistKey);
      if (row === undefined || !Number.isFinite(weight) || weight <= 0) continue;
      weightOfRow.set(row, (weightOfRow.get(row) ?? 0) + weight);
    }
    if (weightOfRow.size === 0) return [];
    const rows = [...weightOfRow.keys()];
    const given = rows.map((row) => weightOfRow.get(row)!);
    const weights = tasteWeights(given, this.data.meta.parameters.weighting, {
      artists: n,
      listeners: rows.map((row) => this.artists.listeners[row]),
      meanListeners: this.meanListeners,
    });

    // Fold in, and score every artist by W u.
    const userFactors = foldIn(
      this.data,
      rows.map((row, i) => ({ index: row, weight: weights[i] })),
    );
    if (userFactors.every((value) => value === 0)) return [];
    const scores = this.scratch;
    rowDots(this.data.artistFactors, userFactors, scores);

    // Neighbour scores: cosines to the taste artists, summed, in one pass over the embedding.
    const embedding = this.data.similarityEmbedding;
    const tasteDirection = new Float64Array(k);
    for (const row of rows) {
      for (let c = 0; c < k; c++) tasteDirection[c] += embedding[row * k + c];
    }
    const neighbours = this.neighbourScratch;
    rowDots(embedding, tasteDirection, neighbours);

    // Blend, each side divided by its largest value.
    const blend = neighbourBlend(this.data.meta);
    const foldInScale = (1 - blend) / positiveMax(scores);
    const neighbourScale = blend / positiveMax(neighbours);
    for (let candidate = 0; candidate < n; candidate++) {
      scores[candidate] =
        foldInScale * Math.max(0, scores[candidate]) +
        neighbourScale * Math.max(0, neighbours[candidate]);
    }
    for (const row of weightOfRow.keys()) scores[row] = 0;
    const heap = new TopScores(Math.min(wanted, n));
    for (let candidate = 0; candidate < n; candidate++) {
      const score = scores[candidate];
      if (score > 0 && score >= heap.floor) heap.offer(score, candidate);
    }

    return heap.drain().map(({ row, score }) => ({
      artist: this.artists.artist(row),
      score,
      because: this.artists.artist(
        this.strongestTasteArtist(
          row,
          rows.map((index, i) => ({ index, weight: given[i] })),
        ),
      ),
    }));
  }

  /** The taste row maximising weight x cosine to `candidate`; ties go to the earlier entry. */
  private strongestTasteArtist(candidate: number, entries: { index: number; weight: number }[]) {
    let best = entries[0].index;
    let bestContribution = Number.NEGATIVE_INFINITY;
    for (const { index, weight } of entries) {
      const contribution = weight * this.cosine(candidate, index);
      if (contribution > bestContribution) {
        bestContribution = contribution;
        best = index;
      }
    }
    return best;
  }

  /** Dot product of two rows of the similarity embedding. O(k). */
  private cosine(a: number, b: number): number {
    const k = this.data.components;
    const embedding = this.data.similarityEmbedding;
    let dot = 0;
    for (let c = 0; c < k; c++) dot += embedding[a * k + c] * embedding[b * k + c];
    return dot;
  }

  /** Row of an artist by its key, so artists from a previous model still work after a swap. */
  private rowOf(artist: ModelArtist): number | undefined {
    return this.search.rowOfKey(artist?.key ?? '');
  }
}

/** What `tasteWeights` needs to know about the model and the taste artists. */
export interface TasteContext {
  /** Artists in the model (the rows training weighted). */
  artists: number;
  /** Listeners of each taste artist, parallel to the weights. */
  listeners: readonly number[];
  /** Mean listeners over the model's artists. */
  meanListeners: number;
}

/**
 * A taste profile's weights (positive) put on the scale training used for one user's counts, so
 * that fold-in sees data like the columns W was fitted to (src/model/weighting.ts): raw as is;
 * log1p -> log(1 + w); user-max -> w / max w; bm25 -> w (K1 + 1) / (K1 norm + w) x idf with the
 * user's idf = log(artists) - log(1 + entries) and the artist's length norm
 * 1 - B + B x rowSum / mean rowSum.
 * TODO: the model file does not store each artist's total count (rowSum), so bm25 here uses
 * listeners / mean listeners in its place; storing the row sums would make this exact.
 */
export function tasteWeights(
  weights: readonly number[],
  weighting: Weighting,
  context: TasteContext,
): number[] {
  switch (weighting) {
    case 'log1p':
      return weights.map((w) => Math.log1p(w));
    case 'user-max': {
      const max = Math.max(...weights);
      return weights.map((w) => (max > 0 ? w / max : 0));
    }
    case 'bm25': {
      const idf = Math.max(0, Math.log(context.artists) - Math.log1p(weights.length));
      return weights.map((w, i) => {
        const relative =
          context.meanListeners > 0 ? context.listeners[i] / context.meanListeners : 1;
        const norm = 1 - BM25_B + BM25_B * relative;
        return ((w * (BM25_K1 + 1)) / (BM25_K1 * norm + w)) * idf;
      });
    }
    default:
      return [...weights];
  }
}

/** The neighbour share of `recommend` for a model: IMPLICIT_NEIGHBOUR_BLEND or NEIGHBOUR_BLEND. */
export function neighbourBlend(meta: ModelMeta): number {
  return meta.parameters?.solver === 'implicit' ? IMPLICIT_NEIGHBOUR_BLEND : NEIGHBOUR_BLEND;
}

/** The largest value of `values`, or 1 when none is positive (so scaling by it is harmless). */
function positiveMax(values: Float64Array): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
  return max > 0 ? max : 1;
}

function bareName(name: string): string {
  return name.trim().toLowerCase();
}

/**
 * The `capacity` highest (score, row) pairs seen, as a min-heap on score (ties: the larger row is
 * weaker, so results are deterministic). offer is O(log capacity).
 */
/**
 * Row -> slot of its stored list, -1 for none; undefined when there are no lists. Lists that do
 * not fit the model (a row out of range, a list narrower than the cache) are ignored. O(n).
 */
function slotsOf(lists: NeighbourLists | undefined, n: number): Int32Array | undefined {
  if (lists === undefined || lists.width < CACHED_NEIGHBOURS) return undefined;
  const slots = new Int32Array(n).fill(-1);
  for (let slot = 0; slot < lists.artists.length; slot++) {
    const row = lists.artists[slot];
    if (row >= 0 && row < n) slots[row] = slot;
  }
  return slots;
}

class TopScores {
  /** Lowest score kept once full (-Infinity before): a cheap pre-check before `offer`. */
  floor = Number.NEGATIVE_INFINITY;
  private readonly scores: Float64Array;
  private readonly rows: Int32Array;
  private size = 0;

  constructor(private readonly capacity: number) {
    this.scores = new Float64Array(capacity);
    this.rows = new Int32Array(capacity);
  }

  offer(score: number, row: number): void {
    if (this.capacity === 0) return;
    if (this.size < this.capacity) {
      let position = this.size++;
      while (position > 0) {
        const parent = (position - 1) >> 1;
        if (!this.weaker(score, row, this.scores[parent], this.rows[parent])) break;
        this.scores[position] = this.scores[parent];
        this.rows[position] = this.rows[parent];
        position = parent;
      }
      this.scores[position] = score;
      this.rows[position] = row;
      if (this.size === this.capacity) this.floor = this.scores[0];
      return;
    }
    if (!this.weaker(this.scores[0], this.rows[0], score, row)) return;
    this.siftDown(score, row);
    this.floor = this.scores[0];
  }

  /** Everything kept, best first; empties the heap. */
  drain(): { row: number; score: number }[] {
    const result: { row: number; score: number }[] = new Array(this.size);
    while (this.size > 0) {
      result[this.size - 1] = { row: this.rows[0], score: this.scores[0] };
      const last = --this.size;
      if (last > 0) this.siftDown(this.scores[last], this.rows[last]);
    }
    return result;
  }

  /** Replaces the root by (score, row) and restores the heap over the first `size` slots. */
  private siftDown(score: number, row: number): void {
    let position = 0;
    for (;;) {
      let child = 2 * position + 1;
      if (child >= this.size) break;
      if (
        child + 1 < this.size &&
        this.weaker(
          this.scores[child + 1],
          this.rows[child + 1],
          this.scores[child],
          this.rows[child],
        )
      ) {
        child++;
      }
      if (!this.weaker(this.scores[child], this.rows[child], score, row)) break;
      this.scores[position] = this.scores[child];
      this.rows[position] = this.rows[child];
      position = child;
    }
    this.scores[position] = score;
    this.rows[position] = row;
  }

  private weaker(scoreA: number, rowA: number, scoreB: number, rowB: number): boolean {
    return scoreA < scoreB || (scoreA === scoreB && rowA > rowB);
  }
}
