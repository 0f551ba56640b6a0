/**
 * Finding artists by what a member types: exact names, prefixes, a later word (`gaga` finds Lady
 * Gaga) and typos (`metalica`, `radiohed`). Everything works on lookup keys (see lookupKey.ts),
 * so case, accents and punctuation never matter.
 *
 * Match classes, best first: exact key, prefix of the key, prefix of a later word of the key,
 * then typos by edit distance 1, 2, 3. Within a class the most-listened artist comes first.
 *
 * Index (ArtistSearchIndex), built once per model and stored in its file:
 * - the rows in key order, so an exact key is a binary search;
 * - buckets by the first one and two characters of every key and of every later word, each
 *   listing its artists most listened first; a prefix query scans its bucket with `startsWith`
 *   and stops as soon as the class is full, so common prefixes cost little and rare ones a scan
 *   of one bucket;
 * - trigram postings over the space-padded keys (trigrams hashed into 2^16 buckets, CSR arrays,
 *   each row kept as its low 16 bits in a segment of 2^16 rows: half the bytes of a stored index);
 *   a typo query counts shared trigrams, keeps the best-sharing few hundred artists and checks
 *   them with Levenshtein distance (fastest-levenshtein) against the key, its prefixes (for
 *   half-typed names) and each later word. Typo search runs only when the other classes fill
 *   fewer than `limit`.
 */
import { distance } from 'fastest-levenshtein';
import { ArtistTable } from './artistTable.ts';
import { lookupKey } from './lookupKey.ts';
import type { ModelArtist } from './types.ts';
import { largestUnsigned, largestUnsigned16, nonDecreasing } from './wasm/kernels.ts';

/** How a result matched the query. */
export type MatchKind = 'exact' | 'prefix' | 'word-prefix' | 'typo';

/** One search result: the artist's row in the model, how it matched, and its edit distance. */
export interface ArtistMatch {
  index: number;
  kind: MatchKind;
  /** 0 except for typos. */
  distance: number;
}

/** Raw queries longer than this are cut before keying: no artist name is that long. */
const MAX_QUERY_CHARACTERS = 300;
/** Keys are searched on their first characters only. */
const MAX_KEY_CHARACTERS = 100;
/** Artists checked with Levenshtein per typo query, best trigram overlap first. */
const TYPO_CANDIDATES = 300;
/** Trigrams are hashed into 2^16 buckets. */
const TRIGRAM_BITS = 16;
const TRIGRAM_BUCKETS = 1 << TRIGRAM_BITS;
/** A later word's start in its key takes the low 7 bits of its entry: keys are cut to 100. */
const WORD_START_BITS = 7;
const WORD_START_MASK = (1 << WORD_START_BITS) - 1;
/** Rows that fit in an entry with a word start beside them, in a positive Int32. */
const MAX_ARTISTS = 2 ** (31 - WORD_START_BITS);
/** Trigram postings hold the low SEGMENT_BITS bits of a row; its segment gives the rest. */
const SEGMENT_BITS = 16;
const SEGMENT_ROWS = 1 << SEGMENT_BITS;

/** Edit distance tolerated for a query key of this many characters. */
function typoBudget(length: number): number {
  if (length < 3) return 0;
  if (length < 6) return 1;
  if (length < 10) return 2;
  return 3;
}

/**
 * The search index of one model as plain typed arrays, so that a model file can store it and a
 * load needs no rebuilding (see modelFile.ts). Rows are model rows; "most listened first" breaks
 * ties by the lower row.
 */
export interface ArtistSearchIndex {
  /** Rows, most listened first. */
  byPopularity: Int32Array;
  /** Rows in lookup-key order (UTF-16 code units, as `<` compares), most listened first within a key. */
  byKey: Int32Array;
  /** The 1- and 2-character prefix buckets, sorted; both CSR arrays below are indexed by them. */
  bucketNames: string[];
  /** Rows whose key starts with bucket b: keyBucketRows[keyBucketStarts[b] .. [b + 1]). */
  keyBucketStarts: Int32Array;
  keyBucketRows: Int32Array;
  /**
   * Later words starting with bucket b, as (row, word start) pairs packed one a value,
   * row x 128 + start: wordBucketPairs[wordBucketStarts[b] .. [b + 1]).
   */
  wordBucketStarts: Int32Array;
  wordBucketPairs: Int32Array;
  /**
   * Hashed trigram postings in segments of 2^16 rows: segment s of hash h holds the rows
   * s x 2^16 + trigramRows[i], i in trigramStarts[g] .. [g + 1), g = s x 2^16 + h, increasing;
   * there are trigramSegments(rows) segments. Two bytes a posting where a row takes four, and
   * the last segment, the only one that can name a row past the end, is one run of postings.
   */
  trigramStarts: Int32Array;
  trigramRows: Uint16Array;
}

/** Segments of 2^16 rows that trigram postings over `artistCount` rows take: at least one. */
export function trigramSegments(artistCount: number): number {
  return Math.max(1, Math.ceil(artistCount / SEGMENT_ROWS));
}

/** An index over the artists of one model for exact, prefix and typo-tolerant lookups. */
export class ArtistSearch {
  private readonly artists: ArtistTable;
  private readonly index: ArtistSearchIndex;
  /** Position of each artist in byPopularity: lower is more listened. */
  private readonly popularityRank: Int32Array;
  /** Bucket name -> its number in the index's CSR arrays. */
  private readonly bucketNumber = new Map<string, number>();
  /** Scratch counters for typo queries, all zero between queries. */
  private readonly sharedTrigrams: Uint16Array;
  /** trigramSegments of the artists. */
  private readonly segments: number;

  /**
   * Serves `artists` (records, or a model's artist table) from `index`, building the index when
   * none is given (see buildArtistSearchIndex for that cost). With an index: O(artists + buckets),
   * and no artist record is made.
   */
  constructor(artists: readonly ModelArtist[] | ArtistTable, index?: ArtistSearchIndex) {
    this.artists = artists instanceof ArtistTable ? artists : ArtistTable.fromRecords(artists);
    this.index = index ?? buildArtistSearchIndex(this.artists.records());
    const n = this.artists.size;
    const { byPopularity, bucketNames } = this.index;
    const rank = new Int32Array(n);
    for (let position = 0; position < n; position++) rank[byPopularity[position]] = position;
    this.popularityRank = rank;
    for (let number = 0; number < bucketNames.length; number++) {
      this.bucketNumber.set(bucketNames[number], number);
    }
    this.sharedTrigrams = new Uint16Array(n);
    this.segments = trigramSegments(n);
  }

  /** The index served, for storing it with the model. */
  get searchIndex(): ArtistSearchIndex {
    return this.index;
  }

  /** Number of artists indexed. */
  get size(): number {
    return this.artists.size;
  }

  /** The row whose lookup key is exactly `key` (the most listened of equals), or undefined. O(log n). */
  rowOfKey(key: string): number | undefined {
    const { byKey } = this.index;
    let low = 0;
    let high = byKey.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.artists.compareKey(byKey[middle], key) < 0) low = middle + 1;
      else high = middle;
    }
    const row = byKey[low];
    return row !== undefined && this.artists.compareKey(row, key) === 0 ? row : undefined;
  }

  /** The `limit` most listened artists' rows, most listened first. O(limit). */
  mostListened(limit: number): number[] {
    return Array.from(this.index.byPopularity.subarray(0, Math.max(0, limit)));
  }

  /**
   * Up to `limit` artists matching `query` (any string: it is keyed with lookupKey first), best
   * match class first, most listened first within a class. An empty key gives []. Typo search
   * runs only if `typos` (default true) and the other classes found fewer than `limit`.
   * Cost: O(bucket size) at worst for prefixes (much less when the bucket is full of matches),
   * plus O(trigram postings + 300 x distance) when typos are searched.
   */
  search(query: string, limit: number, options: { typos?: boolean } = {}): ArtistMatch[] {
    const key = lookupKey(query.slice(0, MAX_QUERY_CHARACTERS)).slice(0, MAX_KEY_CHARACTERS);
    if (key.length === 0 || limit <= 0) return [];

    // Exact, prefix and later-word classes: scan the bucket of the query's first characters in
    // popularity order, stopping once the class has filled the room left.
    const results: ArtistMatch[] = [];
    const seen = new Set<number>();
    const exactRow = this.rowOfKey(key);
    if (exactRow !== undefined) {
      results.push({ index: exactRow, kind: 'exact', distance: 0 });
      seen.add(exactRow);
    }
    const bucket = this.bucketNumber.get(key.slice(0, 2));
    const { keyBucketStarts, keyBucketRows, wordBucketStarts, wordBucketPairs } = this.index;
    if (bucket !== undefined) {
      const end = keyBucketStarts[bucket + 1];
      for (let i = keyBucketStarts[bucket]; i < end && results.length < limit; i++) {
        const row = keyBucketRows[i];
        if (row !== exactRow && this.artists.keyHasPrefix(row, key)) {
          results.push({ index: row, kind: 'prefix', distance: 0 });
          seen.add(row);
        }
      }
    }
    if (bucket !== undefined) {
      const end = wordBucketStarts[bucket + 1];
      for (let i = wordBucketStarts[bucket]; i < end && results.length < limit; i++) {
        const row = wordBucketPairs[i] >>> WORD_START_BITS;
        const start = wordBucketPairs[i] & WORD_START_MASK;
        if (!seen.has(row) && this.artists.keyHasPrefix(row, key, start)) {
          results.push({ index: row, kind: 'word-prefix', distance: 0 });
          seen.add(row);
        }
      }
    }
    if (results.length >= limit || options.typos === false) return results;

    // Typos, by increasing edit distance.
    const budget = typoBudget(key.length);
    if (budget === 0) return results;
    const byDistance: number[][] = Array.from({ length: budget + 1 }, () => []);
    for (const row of this.typoCandidates(key)) {
      if (seen.has(row)) continue;
      const found = this.typoDistance(key, this.artists.key(row), budget);
      if (found <= budget) byDistance[Math.max(1, found)].push(row);
    }
    for (let d = 1; d <= budget; d++)
      this.takeMostListened(byDistance[d], 'typo', d, limit, results);
    return results;
  }

  /** Appends the most listened of `rows` to `results` until it holds `limit` matches. */
  private takeMostListened(
    rows: number[],
    kind: MatchKind,
    editDistance: number,
    limit: number,
    results: ArtistMatch[],
  ): void {
    const room = limit - results.length;
    if (room <= 0 || rows.length === 0) return;
    const ranks = Int32Array.from(rows, (row) => this.popularityRank[row]).sort();
    const take = Math.min(room, ranks.length);
    for (let i = 0; i < take; i++) {
      results.push({ index: this.index.byPopularity[ranks[i]], kind, distance: editDistance });
    }
  }

  /** Rows sharing the most trigrams with `key` (ties: most listened), at most TYPO_CANDIDATES. */
  private typoCandidates(key: string): number[] {
    const counts = this.sharedTrigrams;
    const touched: number[] = [];
    const grams = new Int32Array(MAX_KEY_CHARACTERS + 2);
    const gramCount = trigramHashes(key, grams);
    const { trigramStarts, trigramRows } = this.index;
    for (let g = 0; g < gramCount; g++) {
      for (let segment = 0; segment < this.segments; segment++) {
        const base = segment * SEGMENT_ROWS;
        const group = segment * TRIGRAM_BUCKETS + grams[g];
        const end = trigramStarts[group + 1];
        for (let i = trigramStarts[group]; i < end; i++) {
          const row = base + trigramRows[i];
          if (counts[row] === 0) touched.push(row);
          if (counts[row] < 65535) counts[row]++;
        }
      }
    }

    // Bucket by shared count, best first, then most listened within a bucket.
    let best = 0;
    for (const row of touched) best = Math.max(best, counts[row]);
    const buckets: number[][] = Array.from({ length: best + 1 }, () => []);
    for (const row of touched) {
      buckets[counts[row]].push(row);
      counts[row] = 0;
    }
    const candidates: number[] = [];
    for (let shared = best; shared >= 1 && candidates.length < TYPO_CANDIDATES; shared--) {
      const bucket = buckets[shared];
      if (bucket.length > TYPO_CANDIDATES - candidates.length) {
        bucket.sort((a, b) => this.popularityRank[a] - this.popularityRank[b]);
      }
      for (const row of bucket) {
        if (candidates.length === TYPO_CANDIDATES) break;
        candidates.push(row);
      }
    }
    return candidates;
  }

  /**
   * Smallest edit distance between `query` and the candidate key or a prefix of it at least as
   * long as the query (for half-typed names), and the same for each later word. Gives
   * budget + 1 when no comparison is within budget.
   */
  private typoDistance(query: string, candidateKey: string, budget: number): number {
    const key = candidateKey.slice(0, MAX_KEY_CHARACTERS);
    let smallest = budget + 1;
    for (let start = 0; start < key.length; start++) {
      if (start !== 0 && key[start - 1] !== ' ') continue;
      const suffix = start === 0 ? key : key.slice(start);
      if (Math.abs(suffix.length - query.length) <= budget) {
        smallest = Math.min(smallest, distance(query, suffix));
      }
      // Prefix edit distance for a half-typed name: prefixes at least as long as the query and
      // at most `budget` longer (shorter ones would let "gaga" match "aga..." by a deletion).
      const longest = Math.min(suffix.length - 1, query.length + budget);
      for (let length = query.length; length <= longest; length++) {
        smallest = Math.min(smallest, distance(query, suffix.slice(0, length)));
      }
      if (smallest === 1) break;
    }
    return smallest;
  }
}

/**
 * Builds the search index of `artists` (see ArtistSearchIndex). O(n log n + total key length)
 * time and O(total key length) memory: about 50 ms at 17k artists and half a second at 160k, which
 * is why model files store it.
 */
export function buildArtistSearchIndex(artists: readonly ModelArtist[]): ArtistSearchIndex {
  const n = artists.length;
  if (n > MAX_ARTISTS) throw new RangeError(`cannot index ${n} artists, at most ${MAX_ARTISTS}`);

  // Popularity order, and key order with the most listened first among equal keys.
  const byPopularity = popularityOrder(artists);
  const rank = new Int32Array(n);
  for (let position = 0; position < n; position++) rank[byPopularity[position]] = position;
  const byKey = Int32Array.from(byPopularity).sort((a, b) => {
    const left = artists[a].key;
    const right = artists[b].key;
    return left < right ? -1 : left > right ? 1 : rank[a] - rank[b];
  });

  // Prefix buckets, filled in popularity order so that each is already sorted.
  const keyBuckets = new Map<string, number[]>();
  const wordBuckets = new Map<string, number[]>();
  const add = (buckets: Map<string, number[]>, bucket: string, value: number) => {
    let list = buckets.get(bucket);
    if (list === undefined) buckets.set(bucket, (list = []));
    list.push(value);
  };
  for (const row of byPopularity) {
    const key = artists[row].key;
    if (key.length === 0) continue;
    add(keyBuckets, key[0], row);
    if (key.length > 1) add(keyBuckets, key.slice(0, 2), row);
    const end = Math.min(key.length, MAX_KEY_CHARACTERS);
    for (let start = 1; start < end; start++) {
      if (key[start - 1] !== ' ' || key[start] === ' ') continue;
      const pair = (row << WORD_START_BITS) | start;
      add(wordBuckets, key[start], pair);
      if (start + 1 < key.length) add(wordBuckets, key.slice(start, start + 2), pair);
    }
  }
  const bucketNames = [...new Set([...keyBuckets.keys(), ...wordBuckets.keys()])].sort();
  const keyCsr = packBuckets(bucketNames, keyBuckets);
  const wordCsr = packBuckets(bucketNames, wordBuckets);

  const trigrams = trigramPostings(artists);
  const segmented = segmentPostings(trigrams.starts, trigrams.rows, n);
  return {
    byPopularity,
    byKey,
    bucketNames,
    keyBucketStarts: keyCsr.starts,
    keyBucketRows: keyCsr.values,
    wordBucketStarts: wordCsr.starts,
    wordBucketPairs: wordCsr.values,
    trigramStarts: segmented.starts,
    trigramRows: segmented.rows,
  };
}

/**
 * The search index as model files of versions 2 and 3 store it: trigram postings as Int32 rows
 * grouped by hash alone (`trigramStarts` of 2^16 + 1 entries), and each later-word pair as two
 * values (row, start), `wordBucketStarts` counting values.
 */
export type StoredSearchIndexVersion3 = Omit<ArtistSearchIndex, 'trigramRows'> & {
  trigramRows: Int32Array;
};

/**
 * A version 2 or 3 index (see StoredSearchIndexVersion3) in the layout of ArtistSearchIndex, or
 * why its trigram postings or word pairs cannot serve `artistCount` rows. The rest of the index
 * is taken as it is: check the result with artistSearchIndexProblem. O(postings + pairs).
 */
export function upgradeStoredIndex(
  stored: StoredSearchIndexVersion3,
  artistCount: number,
): ArtistSearchIndex | string {
  const { trigramStarts, trigramRows, wordBucketStarts, wordBucketPairs } = stored;
  if (trigramStarts.length !== TRIGRAM_BUCKETS + 1) {
    return `trigramStarts has ${trigramStarts.length} entries, expected ${TRIGRAM_BUCKETS + 1}`;
  }
  if (!coversInOrder(trigramStarts, trigramRows.length, 1)) {
    return `trigrams do not cover their ${trigramRows.length} entries in order`;
  }
  if (!inRange(trigramRows, 1, artistCount)) return 'trigrams name a row out of range';
  if (!coversInOrder(wordBucketStarts, wordBucketPairs.length, 2)) {
    return `word buckets do not cover their ${wordBucketPairs.length} entries in order`;
  }
  if (!inRange(wordBucketPairs, 2, Math.min(artistCount, MAX_ARTISTS))) {
    return 'word buckets name a row out of range';
  }
  if (!inRange(wordBucketPairs.subarray(1), 2, WORD_START_MASK + 1)) {
    return `word buckets name a word start past ${WORD_START_MASK}`;
  }

  const segmented = segmentPostings(trigramStarts, trigramRows, artistCount);
  const pairs = new Int32Array(wordBucketPairs.length / 2);
  for (let i = 0; i < pairs.length; i++) {
    pairs[i] = (wordBucketPairs[2 * i] << WORD_START_BITS) | wordBucketPairs[2 * i + 1];
  }
  return {
    ...stored,
    wordBucketStarts: wordBucketStarts.map((start) => start / 2),
    wordBucketPairs: pairs,
    trigramStarts: segmented.starts,
    trigramRows: segmented.rows,
  };
}

/** Whether CSR `starts` begin at 0, end at `total` and hold whole `stride`-sized groups. */
function coversInOrder(starts: Int32Array, total: number, stride: 1 | 2): boolean {
  const inOrder = stride === 1 ? nonDecreasing(starts) : ascending(starts, stride);
  return starts[0] === 0 && starts[starts.length - 1] === total && inOrder;
}

/**
 * Postings grouped by hash (`hashStarts` over TRIGRAM_BUCKETS, rows in [0, n)) regrouped by
 * segment then hash with a counting sort that keeps their order, each row cut to its low 16 bits.
 * O(postings + 2^16 x segments).
 */
function segmentPostings(
  hashStarts: Int32Array,
  rows: Int32Array,
  n: number,
): { starts: Int32Array; rows: Uint16Array } {
  const segments = trigramSegments(n);
  if (segments === 1) return { starts: hashStarts.slice(), rows: Uint16Array.from(rows) };
  const starts = new Int32Array(TRIGRAM_BUCKETS * segments + 1);
  const groupOf = (row: number, hash: number) => (row >>> SEGMENT_BITS) * TRIGRAM_BUCKETS + hash;
  for (let hash = 0; hash < TRIGRAM_BUCKETS; hash++) {
    for (let i = hashStarts[hash]; i < hashStarts[hash + 1]; i++) {
      starts[groupOf(rows[i], hash) + 1]++;
    }
  }
  for (let group = 1; group < starts.length; group++) starts[group] += starts[group - 1];
  const next = starts.slice(0, -1);
  const low = new Uint16Array(rows.length);
  for (let hash = 0; hash < TRIGRAM_BUCKETS; hash++) {
    for (let i = hashStarts[hash]; i < hashStarts[hash + 1]; i++) {
      low[next[groupOf(rows[i], hash)]++] = rows[i] & (SEGMENT_ROWS - 1);
    }
  }
  return { starts, rows: low };
}

/**
 * Why `index` cannot serve `artistCount` artists (a wrong size or a row out of range), or
 * undefined when it can. Reading a stored index calls this, so a damaged one is refused rather
 * than answering with missing artists. O(index size).
 */
export function artistSearchIndexProblem(
  index: ArtistSearchIndex,
  artistCount: number,
): string | undefined {
  if (artistCount > MAX_ARTISTS) return `${artistCount} artists are more than ${MAX_ARTISTS}`;
  const buckets = index.bucketNames.length;
  const segments = trigramSegments(artistCount);
  const sizes: [string, number, number][] = [
    ['byPopularity', index.byPopularity.length, artistCount],
    ['byKey', index.byKey.length, artistCount],
    ['keyBucketStarts', index.keyBucketStarts.length, buckets + 1],
    ['wordBucketStarts', index.wordBucketStarts.length, buckets + 1],
    ['trigramStarts', index.trigramStarts.length, TRIGRAM_BUCKETS * segments + 1],
  ];
  for (const [name, actual, expected] of sizes) {
    if (actual !== expected) return `${name} has ${actual} entries, expected ${expected}`;
  }
  // Values are rows, or rows x 128 + a word start.
  const csr: [string, Int32Array, Int32Array, number][] = [
    ['key buckets', index.keyBucketStarts, index.keyBucketRows, 1],
    ['word buckets', index.wordBucketStarts, index.wordBucketPairs, WORD_START_MASK + 1],
  ];
  for (const [name, starts, values, rowScale] of csr) {
    if (starts[0] !== 0 || starts[starts.length - 1] !== values.length) {
      return `${name} do not cover their ${values.length} entries`;
    }
    if (!nonDecreasing(starts)) return `${name} have starts out of order`;
    if (!inRange(values, 1, artistCount * rowScale)) return `${name} name a row out of range`;
  }
  if (!inRange(index.byPopularity, 1, artistCount) || !inRange(index.byKey, 1, artistCount)) {
    return 'an artist order names a row out of range';
  }

  // Trigram postings: any 16 bits name a row of a full segment; only the last may be partial.
  const { trigramStarts, trigramRows } = index;
  if (trigramStarts[0] !== 0 || trigramStarts[trigramStarts.length - 1] !== trigramRows.length) {
    return `trigrams do not cover their ${trigramRows.length} entries`;
  }
  if (!nonDecreasing(trigramStarts)) return 'trigrams have starts out of order';
  const lastSegment = trigramRows.subarray(trigramStarts[(segments - 1) * TRIGRAM_BUCKETS]);
  const lastRows = artistCount - (segments - 1) * SEGMENT_ROWS;
  if (lastSegment.length > 0 && largestUnsigned16(lastSegment) >= lastRows) {
    return 'trigrams name a row out of range';
  }
  return undefined;
}

/**
 * Rows sorted by listeners descending, ties by row ascending: one native sort of numbers
 * (listener rank x n + row), no comparator calls. O(n log n).
 */
function popularityOrder(artists: readonly ModelArtist[]): Int32Array {
  const n = artists.length;
  let most = 0;
  for (const artist of artists) most = Math.max(most, artist.listeners);
  const composite = new Float64Array(n);
  for (let row = 0; row < n; row++) composite[row] = (most - artists[row].listeners) * n + row;
  composite.sort();
  return Int32Array.from(composite, (value) => value % n);
}

/** Whether every `stride`-th value, from the first, lies in [0, limit). O(values / stride). */
function inRange(values: Int32Array, stride: 1 | 2, limit: number): boolean {
  return values.length === 0 || largestUnsigned(values, stride) < limit;
}

/** Whether CSR starts never decrease and every group holds whole `stride`-sized entries. */
function ascending(starts: Int32Array, stride: number): boolean {
  for (let i = 1; i < starts.length; i++) {
    const size = starts[i] - starts[i - 1];
    if (size < 0 || size % stride !== 0) return false;
  }
  return true;
}

/** The bucket lists in `names` order as one CSR pair (a missing bucket is empty). */
function packBuckets(
  names: string[],
  buckets: Map<string, number[]>,
): { starts: Int32Array; values: Int32Array } {
  const starts = new Int32Array(names.length + 1);
  names.forEach((name, b) => (starts[b + 1] = starts[b] + (buckets.get(name)?.length ?? 0)));
  const values = new Int32Array(starts[names.length]);
  names.forEach((name, b) => values.set(buckets.get(name) ?? [], starts[b]));
  return { starts, values };
}

/**
 * Hashed trigram postings as CSR: (hash, row) pairs written in row order, then grouped by hash
 * with a two-pass radix sort on the hash's bytes (256 write streams per pass stay in cache, where
 * one scatter into 2^16 lists would miss it on every write). Rows stay in row order within a hash.
 */
function trigramPostings(artists: readonly ModelArtist[]): { starts: Int32Array; rows: Int32Array } {
  const n = artists.length;
  const starts = new Int32Array(TRIGRAM_BUCKETS + 1);
  const scratch = new Int32Array(MAX_KEY_CHARACTERS + 2);
  let capacity = 0;
  for (let row = 0; row < n; row++) {
    capacity += Math.min(artists[row].key.length, MAX_KEY_CHARACTERS);
  }
  let hashes = new Uint16Array(capacity);
  let owners = new Int32Array(capacity);
  let total = 0;
  for (let row = 0; row < n; row++) {
    const count = trigramHashes(artists[row].key, scratch);
    for (let g = 0; g < count; g++) {
      hashes[total] = scratch[g];
      owners[total++] = row;
      starts[scratch[g] + 1]++;
    }
  }
  hashes = hashes.subarray(0, total);
  owners = owners.subarray(0, total);
  for (let bucket = 0; bucket < TRIGRAM_BUCKETS; bucket++) starts[bucket + 1] += starts[bucket];
  for (const shift of [0, 8]) {
    const offsets = new Int32Array(257);
    for (let i = 0; i < total; i++) offsets[((hashes[i] >> shift) & 255) + 1]++;
    for (let b = 0; b < 256; b++) offsets[b + 1] += offsets[b];
    const nextHashes = new Uint16Array(total);
    const nextOwners = new Int32Array(total);
    for (let i = 0; i < total; i++) {
      const target = offsets[(hashes[i] >> shift) & 255]++;
      nextHashes[target] = hashes[i];
      nextOwners[target] = owners[i];
    }
    hashes = nextHashes;
    owners = nextOwners;
  }
  return { starts, rows: owners.slice() };
}

/**
 * Writes the distinct hashed trigrams of ` key ` (one space of padding each side; the key cut to
 * MAX_KEY_CHARACTERS) into `out` and returns how many there are. Hashes are in
 * [0, TRIGRAM_BUCKETS); two trigrams may share one, which only adds candidates that the edit
 * distance then rejects. O(length^2) for the de-duplication, length <= 100.
 */
function trigramHashes(key: string, out: Int32Array): number {
  const length = Math.min(key.length, MAX_KEY_CHARACTERS);
  let count = 0;
  let first = 32;
  let second = length > 0 ? key.charCodeAt(0) : 32;
  for (let i = 1; i <= length; i++) {
    const third = i < length ? key.charCodeAt(i) : 32;
    const hash =
      (Math.imul(first, 0x9e3779b1) ^
        Math.imul(second, 0x85ebca77) ^
        Math.imul(third, 0xc2b2ae3d)) >>>
      (32 - TRIGRAM_BITS);
    let seen = false;
    for (let j = 0; j < count; j++) {
      if (out[j] === hash) {
        seen = true;
        break;
      }
    }
    if (!seen) out[count++] = hash;
    first = second;
    second = third;
  }
  return count;
}
