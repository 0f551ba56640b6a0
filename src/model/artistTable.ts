/**
 * The artists of a model as columns: ids, listener counts and lookup keys, which serving scans,
 * and the full records (name, tags, url), which it only needs for the few artists it shows.
 *
 * A model file of version 4 stores its artists so (see modelFile.ts), and reading one makes no
 * object per artist: ids, listeners and the keys' UTF-16 code units (`keyUnits`, every key in row
 * order, `keyStarts` marking where each begins) are typed views on the file's bytes, searched in
 * place, and a record is decoded from the file's text the first time `artist(row)` asks for it,
 * then kept. At 160,000 artists that saves about 60 ms of a load, most of it the garbage
 * collector's work on 640,000 short strings. A model built in memory (training, tests) wraps its
 * records with `ArtistTable.fromRecords`, so both kinds serve through the same door.
 *
 * `ModelData.artists` of a model read this way is an accessor that makes every record on its
 * first use (O(artists), what a load cost before): code on the serving path asks
 * `artistTableOf(model)` and `artistCount(model)` instead. That array is frozen, since the
 * columns could not follow a record swapped into it.
 */
import type { ModelArtist, ModelData } from './types.ts';

/** The columns of one model's artists, and its records on demand. */
export class ArtistTable {
  /** Number of artists. */
  readonly size: number;
  /** Records made so far, by row: a map, so that a table of 160,000 costs nothing to start. */
  private readonly made = new Map<number, ModelArtist>();
  /** Every record in row order, frozen: the records given, or all made once asked for. */
  private everyRecord: readonly ModelArtist[] | undefined;

  /** The bytes of keyUnits, to decode a key in one call. */
  private readonly keyBytes: Buffer;

  /**
   * Wraps columns of `ids.length` artists: the key of row i is the code units
   * keyUnits[keyStarts[i] .. keyStarts[i + 1]), and `describe(row)` makes its record (called at
   * most once per row). With `records`, those are the records and describe is not called. O(1);
   * the caller has checked that the columns agree.
   */
  constructor(
    readonly ids: ArrayLike<number>,
    readonly listeners: ArrayLike<number>,
    readonly keyUnits: Uint16Array,
    readonly keyStarts: Uint32Array,
    private readonly describe: (row: number) => ModelArtist,
    records?: readonly ModelArtist[],
  ) {
    this.size = ids.length;
    this.everyRecord = records;
    this.keyBytes = Buffer.from(keyUnits.buffer, keyUnits.byteOffset, keyUnits.byteLength);
  }

  /** A table over records already in memory; `artist(row)` gives `artists[row]` itself. O(n). */
  static fromRecords(artists: readonly ModelArtist[]): ArtistTable {
    const n = artists.length;
    const ids = new Float64Array(n);
    const listeners = new Float64Array(n);
    const keyStarts = new Uint32Array(n + 1);
    for (let row = 0; row < n; row++) {
      const artist = artists[row];
      ids[row] = artist.id;
      listeners[row] = artist.listeners;
      keyStarts[row + 1] = keyStarts[row] + artist.key.length;
    }
    const keyUnits = new Uint16Array(keyStarts[n]);
    for (let row = 0; row < n; row++) {
      const key = artists[row].key;
      for (let i = 0; i < key.length; i++) keyUnits[keyStarts[row] + i] = key.charCodeAt(i);
    }
    const records = Object.freeze([...artists]);
    return new ArtistTable(ids, listeners, keyUnits, keyStarts, (row) => records[row], records);
  }

  /** The lookup key of `row`, decoded from its code units. O(key length). */
  key(row: number): string {
    return this.keyBytes.toString('utf16le', 2 * this.keyStarts[row], 2 * this.keyStarts[row + 1]);
  }

  /**
   * Negative, 0 or positive as the key of `row` sorts before, equals or sorts after `key`, by
   * UTF-16 code units as `<` compares strings; without making the key. O(key length).
   */
  compareKey(row: number, key: string): number {
    const start = this.keyStarts[row];
    const length = this.keyStarts[row + 1] - start;
    const common = Math.min(length, key.length);
    for (let i = 0; i < common; i++) {
      const difference = this.keyUnits[start + i] - key.charCodeAt(i);
      if (difference !== 0) return difference;
    }
    return length - key.length;
  }

  /** Code units in the key of `row`. */
  keyLength(row: number): number {
    return this.keyStarts[row + 1] - this.keyStarts[row];
  }

  /** Whether the key of `row` holds `prefix` at `position`, without making the key. O(prefix). */
  keyHasPrefix(row: number, prefix: string, position = 0): boolean {
    const start = this.keyStarts[row] + position;
    if (start + prefix.length > this.keyStarts[row + 1]) return false;
    for (let i = 0; i < prefix.length; i++) {
      if (this.keyUnits[start + i] !== prefix.charCodeAt(i)) return false;
    }
    return true;
  }

  /** The record of `row`, made on the first call and the same object after. */
  artist(row: number): ModelArtist {
    if (this.everyRecord !== undefined) return this.everyRecord[row];
    let record = this.made.get(row);
    if (record === undefined) {
      record = this.describe(row);
      this.made.set(row, record);
    }
    return record;
  }

  /** Every record in row order, as one frozen array (the same one each call). O(artists) once. */
  records(): ModelArtist[] {
    if (this.everyRecord === undefined) {
      const records: ModelArtist[] = new Array(this.size);
      for (let row = 0; row < this.size; row++) records[row] = this.artist(row);
      this.everyRecord = Object.freeze(records);
      this.made.clear();
    }
    return this.everyRecord as ModelArtist[];
  }
}

/** Tables of the models made by `modelWithArtistTable`, which serve from them. */
const tables = new WeakMap<ModelData, ArtistTable>();

/**
 * A model whose artists are `table`: `artists` is an accessor that makes every record on its
 * first use (see the top of this file), and `artistTableOf` gives the table back. O(1).
 */
export function modelWithArtistTable(
  fields: Omit<ModelData, 'artists'>,
  table: ArtistTable,
): ModelData {
  const model: ModelData = {
    ...fields,
    get artists() {
      return table.records();
    },
  };
  tables.set(model, table);
  return model;
}

/**
 * The artist table of `model`: its own when it was read from a version 4 file (O(1)), else one
 * over `model.artists` (O(artists)). A copy of a model (`{ ...model }`) has no table of its own.
 */
export function artistTableOf(model: ModelData): ArtistTable {
  return tables.get(model) ?? ArtistTable.fromRecords(model.artists);
}

/** Number of artists of `model`, without making any record. O(1). */
export function artistCount(model: ModelData): number {
  return tables.get(model)?.size ?? model.artists.length;
}
