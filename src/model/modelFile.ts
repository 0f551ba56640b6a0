/**
 * The trained-model file (`*.nmf`): one binary file that loads in milliseconds.
 *
 * Layout of version 4 (all integers and floats little-endian; every section starts at a multiple
 * of 16, padding is zero bytes):
 *
 * | bytes | content |
 * | --- | --- |
 * | 8 | magic `NMFMUSIC` |
 * | 4 | u32 format version (`MODEL_FORMAT_VERSION`) |
 * | 4 | u32 header length H |
 * | H | JSON header, padded with spaces: `{ meta, components, artists, artistFactorEncoding, |
 * | | neighbourWidth, sections: [{ name, offset, byteLength }] }`; the encoding is `dense` |
 * | | or `sparse`, `neighbourWidth` the length of each stored `/similar` list (0: none) |
 * | ... | `artistIds` Float64 x artists |
 * | ... | `listeners` Uint32 x artists |
 * | ... | `artistKeyStarts` Uint32 x (artists + 1): the key of artist i is code units |
 * | | [start i, start i + 1) of `artistKeys`, every key in artist order as UTF-16LE |
 * | ... | `artistTextStarts` Uint32 x (3 artists + 1): field f (name, url, tags joined by |
 * | | `\u001f`) of artist i is bytes [start 3i + f, start 3i + f + 1) of `artistText`, UTF-8 |
 * | ... | W (artists x components) when `dense`: `artistFactors` Float32, row-major |
 * | ... | W when `sparse`: `artistFactorCounts` Uint16 x artists (stored entries per row), |
 * | | `artistFactorColumns` (Uint8 when components <= 256, else Uint16) and |
 * | | `artistFactorValues` Float32, one per stored entry, rows in order, columns increasing |
 * | ... | `artistGram` Float64 x components x components |
 * | ... | `similarityEmbedding` Float32 x artists x components |
 * | ... | the artist search index (ArtistSearchIndex, src/model/artistSearch.ts): |
 * | | `searchByPopularity`, `searchByKey` Int32 x artists; `searchBucketNames` UTF-8, names |
 * | | each followed by `\0`; `searchKeyBucketStarts`, `searchKeyBucketRows`, |
 * | | `searchWordBucketStarts`, `searchWordBucketPairs` (row x 128 + word start), |
 * | | `searchTrigramStarts` Int32, |
 * | | `searchTrigramRows` Uint16 (the low 16 bits of each row, in segments of 2^16 rows) |
 * | ... | `neighbourArtists` Int32 x lists (artist rows), `neighbourRows` Int32 x lists x |
 * | | `neighbourWidth`: each list's neighbour rows best first, -1 after the last (NeighbourLists) |
 * | 4 | u32 CRC-32 of every byte before it |
 *
 * Sparse W stores every entry whose float32 bits are not all zero (so -0 and any NaN survive);
 * the writer picks it when it takes at most half the bytes of dense W (SPARSE_SHARE). A
 * non-negative factorization leaves most of W at exactly 0 (84% of the shipped model's): sparse
 * W there takes a fifth of the bytes and makes the file 4.3 MB smaller.
 *
 * The embedding Z is stored, not derived on load from W and the k x k transform that made it
 * (src/model/embedding.ts): deriving it costs O(stored entries of W x k), measured at about
 * 210 ms for 160,000 x 32 and 100 ms for the shipped 6,958 x 192, twice the whole load budget,
 * where reading and checking its stored bytes costs about 10 ms; and the factors a v2 file holds
 * do not give the transform back.
 *
 * Loading reads the file in 256 KiB pieces straight into a block of WebAssembly memory
 * (residentRoom, src/model/wasm/kernels.ts), checksumming each piece while it is in cache; W and
 * Z are then scanned where they lie (sparse W is expanded into the same block), and every other
 * array is a typed view on that block, so nothing is parsed one value at a time and no matrix is
 * copied. A `null` url is stored as an empty string and read back as `null`; the separators `\0`
 * and `\u001f` inside names, keys, urls or tags are replaced by U+FFFD on writing, since no real
 * artist name contains them.
 *
 * The artists are columns with start offsets so that a load makes no object per artist (see
 * src/model/artistTable.ts): the keys are searched where they lie, as UTF-16 code units (which
 * compare as JavaScript compares strings), and an artist's name, url and tags are decoded from
 * `artistText` when it is first shown. Checking the starts costs O(artists); splitting 640,000
 * fields into strings, as version 3 did on every load, took about 60 ms of a 160,000-artist load
 * with its garbage collection.
 *
 * Earlier versions, still read, none with neighbour lists (every `/similar` is then ranked when
 * asked), their artists made as records on loading: version 1 had no
 * search index (it is built on loading, half a second at 160,000 artists); version 2 added it.
 * Both align sections to 8 bytes, store W dense, have no `artistFactorEncoding`, and hold all
 * text in one `strings` section of UTF-8: per artist `name \0 key \0 url \0 tags joined by
 * \u001f \0`. Version 3 had the layout above but for the artists' text: `stringEncodings` Uint8
 * x artists (bit f set when field f of name, key, url, tags is stored in `utf8Strings`, bit 4 + f
 * when it is empty and stored nowhere, else it is in `latin1Strings`), then `latin1Strings`
 * (Latin-1) and `utf8Strings` (UTF-8), the non-empty fields in artist order, then field order,
 * each followed by `\0`. Versions 2 and 3 store the trigram postings as Int32 rows grouped by hash
 * alone (`searchTrigramStarts` of 2^16 + 1) and each later-word pair as two Int32 values; both are
 * put in the current layout on loading.
 */
import {
  closeSync,
  fstatSync,
  fsyncSync,
  openSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { endianness } from 'node:os';
import * as zlib from 'node:zlib';
import {
  artistSearchIndexProblem,
  buildArtistSearchIndex,
  upgradeStoredIndex,
} from './artistSearch.ts';
import { ArtistTable, modelWithArtistTable } from './artistTable.ts';
import type { ArtistSearchIndex } from './artistSearch.ts';
import type { ModelArtist, ModelData, ModelMeta, NeighbourLists } from './types.ts';
import { nonDecreasing, residentRoom } from './wasm/kernels.ts';

/** Version of the layout above, the one written. */
export const MODEL_FORMAT_VERSION = 4;
/** Versions read; any other is refused. */
const READABLE_VERSIONS = [1, 2, 3, 4];

/** A model file that cannot be read or written; the message names the file and the problem. */
export class ModelFileError extends Error {
  override name = 'ModelFileError';
}

const MAGIC = Buffer.from('NMFMUSIC', 'ascii');
const PREAMBLE_BYTES = MAGIC.length + 8;
const CHECKSUM_BYTES = 4;
/** Bytes read (and checksummed) at a time: small enough to stay in cache between the two. */
const READ_CHUNK_BYTES = 1 << 18;
const FIELD_SEPARATOR = '\u0000';
const TAG_SEPARATOR = '\u001f';
const SEPARATORS = /[\u0000\u001f]/g;
/** The tags of every artist without any: one shared frozen array, not one per artist. */
const NO_TAGS: string[] = Object.freeze([]) as unknown as string[];
/**
 * W is stored sparse when that takes at most this share of its dense bytes: expanding it on load
 * costs more than reading the bytes it saves until then (measured at 160,000 x 32 with 60%
 * zeros: sparse 52% of the bytes, load about 20 ms slower than dense).
 */
const SPARSE_SHARE = 0.5;
/** Sparse W keeps its per-row counts in Uint16: wider rows are always stored dense. */
const MAX_SPARSE_COMPONENTS = 65_535;
/** Artist sections of every version, followed by the artists' text in the version's sections. */
const ARTIST_SECTIONS = ['artistIds', 'listeners'] as const;
/** The text of versions 1 and 2, and of version 3. */
const JOINED_STRING_SECTIONS = ['strings'] as const;
const STRING_SECTIONS = ['stringEncodings', 'latin1Strings', 'utf8Strings'] as const;
/** Version 4 on: the artists' keys and text as columns with start offsets. */
const TABLE_SECTIONS = [
  'artistKeyStarts',
  'artistKeys',
  'artistTextStarts',
  'artistText',
] as const;
/** Text fields of an artist in `artistText`: name, url, tags. */
const TEXT_FIELDS = 3;
/** Bit 4 + f of an artist's string encoding (version 3): its field f is empty. */
const EMPTY_FIELD = 1 << 4;
const DENSE_FACTOR_SECTIONS = ['artistFactors'] as const;
const SPARSE_FACTOR_SECTIONS = [
  'artistFactorCounts',
  'artistFactorColumns',
  'artistFactorValues',
] as const;
const EMBEDDING_SECTIONS = ['artistGram', 'similarityEmbedding'] as const;
const SEARCH_SECTIONS = [
  'searchByPopularity',
  'searchByKey',
  'searchBucketNames',
  'searchKeyBucketStarts',
  'searchKeyBucketRows',
  'searchWordBucketStarts',
  'searchWordBucketPairs',
  'searchTrigramStarts',
  'searchTrigramRows',
] as const;
const NEIGHBOUR_SECTIONS = ['neighbourArtists', 'neighbourRows'] as const;

type SectionName =
  | (typeof ARTIST_SECTIONS)[number]
  | (typeof JOINED_STRING_SECTIONS)[number]
  | (typeof STRING_SECTIONS)[number]
  | (typeof TABLE_SECTIONS)[number]
  | (typeof DENSE_FACTOR_SECTIONS)[number]
  | (typeof SPARSE_FACTOR_SECTIONS)[number]
  | (typeof EMBEDDING_SECTIONS)[number]
  | (typeof SEARCH_SECTIONS)[number]
  | (typeof NEIGHBOUR_SECTIONS)[number];

/** How W is stored (version 3 on; earlier files are dense). */
type FactorEncoding = 'dense' | 'sparse';

interface Section {
  name: SectionName;
  offset: number;
  byteLength: number;
}

interface Header {
  meta: ModelMeta;
  components: number;
  artists: number;
  artistFactorEncoding?: FactorEncoding;
  /** Neighbours per stored `/similar` list (version 4 on; 0 when the file stores none). */
  neighbourWidth?: number;
  sections: Section[];
}

/** A checked header and section table: where everything is, before any body byte is trusted. */
interface Layout {
  version: number;
  header: Header;
  sections: Map<SectionName, Section>;
  encoding: FactorEncoding;
  /** Bytes per sparse column index: 1 or 2. */
  columnBytes: number;
  /** Offset of the checksum: the end of the last section, padding included. */
  bodyEnd: number;
}

/** The sections of a file of this version and W encoding, in file order. */
function sectionNamesOf(version: number, encoding: FactorEncoding): readonly SectionName[] {
  const textSections =
    version >= 4 ? TABLE_SECTIONS : version === 3 ? STRING_SECTIONS : JOINED_STRING_SECTIONS;
  return [
    ...ARTIST_SECTIONS,
    ...textSections,
    ...(encoding === 'sparse' ? SPARSE_FACTOR_SECTIONS : DENSE_FACTOR_SECTIONS),
    ...EMBEDDING_SECTIONS,
    ...(version >= 2 ? SEARCH_SECTIONS : []),
    ...(version >= 4 ? NEIGHBOUR_SECTIONS : []),
  ];
}

/**
 * Serialises a model into the layout above, W dense or sparse, whichever is smaller. Validates
 * the array sizes first (throws ModelFileError). O(file size).
 */
export function encodeModel(model: ModelData): Buffer {
  requireLittleEndian();
  checkShapes(model, 'model to encode');
  const n = model.artists.length;
  const k = model.components;

  // Per-artist columns: keys as UTF-16 code units, the other text as UTF-8, each field encoded
  // on its own (a lone surrogate at the end of one must not pair with the next).
  const artistIds = new Float64Array(n);
  const listeners = new Uint32Array(n);
  const keyStarts = new Uint32Array(n + 1);
  const textStarts = new Uint32Array(TEXT_FIELDS * n + 1);
  const keys: string[] = new Array(n);
  const fields: string[] = new Array(TEXT_FIELDS * n);
  let textBytes = 0;
  for (let i = 0; i < n; i++) {
    const artist = model.artists[i];
    artistIds[i] = artist.id;
    listeners[i] = artist.listeners;
    keys[i] = clean(artist.key);
    keyStarts[i + 1] = keyStarts[i] + keys[i].length;
    fields[TEXT_FIELDS * i] = clean(artist.name);
    fields[TEXT_FIELDS * i + 1] = clean(artist.url ?? '');
    fields[TEXT_FIELDS * i + 2] = artist.tags.map(clean).join(TAG_SEPARATOR);
  }
  for (const [f, field] of fields.entries()) {
    textBytes += Buffer.byteLength(field, 'utf8');
    textStarts[f + 1] = textBytes;
  }
  const artistText = Buffer.alloc(textBytes);
  for (const [f, field] of fields.entries()) artistText.write(field, textStarts[f], 'utf8');

  // The search index over the keys as they will be read back.
  const keysChange = model.artists.some((artist) => clean(artist.key) !== artist.key);
  const index =
    model.searchIndex ??
    buildArtistSearchIndex(
      keysChange ? model.artists.map((a) => ({ ...a, key: clean(a.key) })) : model.artists,
    );
  const indexProblem = artistSearchIndexProblem(index, n);
  if (indexProblem !== undefined) {
    throw new ModelFileError(`model to encode: search index: ${indexProblem}`);
  }

  const lists = model.neighbourLists;
  const listsProblem = lists === undefined ? undefined : neighbourListsProblem(lists, n);
  if (listsProblem !== undefined) {
    throw new ModelFileError(`model to encode: neighbour lists: ${listsProblem}`);
  }

  const sparse = sparseRows(model.artistFactors, n, k);
  const encoding: FactorEncoding = sparse === undefined ? 'dense' : 'sparse';
  const payloads: Partial<Record<SectionName, Uint8Array>> = {
    artistIds: bytesOf(artistIds),
    listeners: bytesOf(listeners),
    artistKeyStarts: bytesOf(keyStarts),
    artistKeys: Buffer.from(keys.join(''), 'utf16le'),
    artistTextStarts: bytesOf(textStarts),
    artistText,
    ...(sparse === undefined
      ? { artistFactors: bytesOf(model.artistFactors) }
      : {
          artistFactorCounts: bytesOf(sparse.counts),
          artistFactorColumns: bytesOf(sparse.columns),
          artistFactorValues: bytesOf(sparse.values),
        }),
    artistGram: bytesOf(model.artistGram),
    similarityEmbedding: bytesOf(model.similarityEmbedding),
    searchByPopularity: bytesOf(index.byPopularity),
    searchByKey: bytesOf(index.byKey),
    searchBucketNames: Buffer.from(
      index.bucketNames.map((name) => clean(name) + FIELD_SEPARATOR).join(''),
      'utf8',
    ),
    searchKeyBucketStarts: bytesOf(index.keyBucketStarts),
    searchKeyBucketRows: bytesOf(index.keyBucketRows),
    searchWordBucketStarts: bytesOf(index.wordBucketStarts),
    searchWordBucketPairs: bytesOf(index.wordBucketPairs),
    searchTrigramStarts: bytesOf(index.trigramStarts),
    searchTrigramRows: bytesOf(index.trigramRows),
    neighbourArtists: bytesOf(lists?.artists ?? new Int32Array(0)),
    neighbourRows: bytesOf(lists?.neighbours ?? new Int32Array(0)),
  };

  // The header holds the section offsets, which depend on the header's own length: lay the
  // sections out with a header padded to a fixed width that is certainly large enough.
  const names = sectionNamesOf(MODEL_FORMAT_VERSION, encoding);
  const meta: ModelMeta = { ...model.meta, formatVersion: MODEL_FORMAT_VERSION };
  const draft = JSON.stringify({ meta, components: k, artists: n, sections: [] });
  const headerCapacity = align16(Buffer.byteLength(draft, 'utf8') + 128 * (names.length + 1));
  let offset = PREAMBLE_BYTES + headerCapacity;
  const sections: Section[] = [];
  for (const name of names) {
    sections.push({ name, offset, byteLength: payloads[name]!.byteLength });
    offset = align16(offset + payloads[name]!.byteLength);
  }
  const header: Header = {
    meta,
    components: k,
    artists: n,
    artistFactorEncoding: encoding,
    neighbourWidth: lists?.width ?? 0,
    sections,
  };
  const headerJson = Buffer.from(JSON.stringify(header), 'utf8');
  if (headerJson.length > headerCapacity) {
    throw new ModelFileError('model to encode: header grew past its reserved size');
  }
  const headerBytes = Buffer.alloc(headerCapacity, ' ');
  headerJson.copy(headerBytes);

  // Preamble, header, sections, checksum.
  const buffer = Buffer.alloc(offset + CHECKSUM_BYTES);
  MAGIC.copy(buffer, 0);
  buffer.writeUInt32LE(MODEL_FORMAT_VERSION, MAGIC.length);
  buffer.writeUInt32LE(headerCapacity, MAGIC.length + 4);
  headerBytes.copy(buffer, PREAMBLE_BYTES);
  for (const section of sections) buffer.set(payloads[section.name]!, section.offset);
  buffer.writeUInt32LE(crc32(buffer.subarray(0, offset)), offset);
  return buffer;
}

/**
 * W as per-row counts, column indexes and values of its entries whose bits are not zero, when
 * that takes at most SPARSE_SHARE of W dense; else undefined. O(artists x components).
 */
function sparseRows(
  factors: Float32Array,
  n: number,
  k: number,
): { counts: Uint16Array; columns: Uint8Array | Uint16Array; values: Float32Array } | undefined {
  if (k > MAX_SPARSE_COMPONENTS) return undefined;
  const bits = new Uint32Array(factors.buffer, factors.byteOffset, factors.length);
  let stored = 0;
  for (let i = 0; i < bits.length; i++) if (bits[i] !== 0) stored++;
  const columnBytes = k <= 256 ? 1 : 2;
  const sparseBytes = align16(2 * n) + align16(columnBytes * stored) + align16(4 * stored);
  if (sparseBytes > SPARSE_SHARE * align16(4 * n * k)) return undefined;

  const counts = new Uint16Array(n);
  const columns = columnBytes === 1 ? new Uint8Array(stored) : new Uint16Array(stored);
  const values = new Float32Array(stored);
  const valueBits = new Uint32Array(values.buffer);
  let next = 0;
  for (let row = 0; row < n; row++) {
    const base = row * k;
    const start = next;
    for (let column = 0; column < k; column++) {
      const value = bits[base + column];
      if (value === 0) continue;
      columns[next] = column;
      valueBits[next] = value;
      next++;
    }
    counts[row] = next - start;
  }
  return { counts, columns, values };
}

/**
 * Parses and validates a model file's bytes. `name` is used in error messages. Refuses a wrong
 * magic, another format version, truncation, a checksum mismatch and inconsistent sizes with a
 * ModelFileError. Copies the bytes once into WebAssembly memory (readModel reads a file there
 * directly). O(file size) for the copy and checksum plus O(artists) to check the artist
 * columns; from version 4 on no artist record is made until asked for (see artistTable.ts).
 */
export function decodeModel(buffer: Buffer, name = 'model'): ModelData {
  requireLittleEndian();
  const fail = failureFor(name);
  const layout = parseLayout(buffer, buffer.length, fail);
  const room = roomFor(layout, buffer.length);
  room.set(buffer);
  return decodeBody(layout, room, crc32(room.subarray(0, layout.bodyEnd)), fail);
}

/**
 * Reads and validates a model file (see decodeModel): the header first, then the whole file in
 * READ_CHUNK_BYTES pieces straight into WebAssembly memory, each piece checksummed as it
 * arrives. Synchronous: meant for start-up and for swapping in a retrained model. Throws
 * ModelFileError, also for a missing or unreadable file. O(file size): about 55 ms of CPU for
 * the 62 MB of a 160,000 x 32 model, nearly all of it the copy out of the page cache into fresh
 * pages and the CRC-32.
 */
export function readModel(path: string): ModelData {
  requireLittleEndian();
  const fail = failureFor(path);
  let descriptor: number | undefined;
  try {
    descriptor = openSync(path, 'r');
    const fileLength = fstatSync(descriptor).size;

    // Preamble and header, to learn how large a block the model needs.
    const preamble = readAt(descriptor, Buffer.alloc(Math.min(fileLength, PREAMBLE_BYTES)), 0);
    const headerLength =
      preamble.length === PREAMBLE_BYTES ? preamble.readUInt32LE(MAGIC.length + 4) : 0;
    const head =
      PREAMBLE_BYTES + headerLength + CHECKSUM_BYTES <= fileLength
        ? readAt(descriptor, Buffer.alloc(PREAMBLE_BYTES + headerLength), 0)
        : preamble;
    const layout = parseLayout(head, fileLength, fail);

    // The file into the block, checksummed piece by piece while each piece is in cache.
    const room = roomFor(layout, fileLength);
    let checksum = 0;
    for (let offset = 0; offset < fileLength; offset += READ_CHUNK_BYTES) {
      const piece = readAt(
        descriptor,
        room.subarray(offset, Math.min(fileLength, offset + READ_CHUNK_BYTES)),
        offset,
      );
      if (offset < layout.bodyEnd) {
        checksum = crc32(piece.subarray(0, layout.bodyEnd - offset), checksum);
      }
    }
    return decodeBody(layout, room, checksum, fail);
  } catch (error) {
    if (error instanceof ModelFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? error})`;
    throw new ModelFileError(`${path}: ${problem}`);
  } finally {
    if (descriptor !== undefined) closeSync(descriptor);
  }
}

/** Fills `into` from the file at `position`; a file that ends early is an EIO error. */
function readAt<T extends Uint8Array>(descriptor: number, into: T, position: number): T {
  let filled = 0;
  while (filled < into.length) {
    const bytes = readSync(descriptor, into, filled, into.length - filled, position + filled);
    if (bytes === 0) throw Object.assign(new Error('file shrank while reading'), { code: 'EIO' });
    filled += bytes;
  }
  return into;
}

function failureFor(name: string): (problem: string) => never {
  return (problem) => {
    throw new ModelFileError(`${name}: ${problem}`);
  };
}

/**
 * Checks the preamble, header and section table. `head` holds at least the file's first
 * PREAMBLE_BYTES + header length bytes whenever the file is long enough for them; `fileLength`
 * is the whole file's. Nothing of the body is read.
 */
function parseLayout(head: Buffer, fileLength: number, fail: (problem: string) => never): Layout {
  // Preamble.
  if (fileLength < PREAMBLE_BYTES + CHECKSUM_BYTES) {
    fail(`is ${fileLength} bytes, too short to be a model file`);
  }
  if (!head.subarray(0, MAGIC.length).equals(MAGIC)) {
    fail('is not a model file (wrong magic bytes; expected "NMFMUSIC")');
  }
  const version = head.readUInt32LE(MAGIC.length);
  if (!READABLE_VERSIONS.includes(version)) {
    fail(
      `has format version ${version}; this program reads versions ` +
        `${READABLE_VERSIONS.slice(0, -1).join(', ')} and ${READABLE_VERSIONS.at(-1)}`,
    );
  }
  const headerLength = head.readUInt32LE(MAGIC.length + 4);
  if (PREAMBLE_BYTES + headerLength + CHECKSUM_BYTES > fileLength) {
    fail(`is truncated (header of ${headerLength} bytes does not fit in ${fileLength})`);
  }

  // Header.
  const header = parseHeader(
    head.toString('utf8', PREAMBLE_BYTES, PREAMBLE_BYTES + headerLength),
    version,
    fail,
  );
  const { components: k, artists: n } = header;
  const encoding = header.artistFactorEncoding ?? 'dense';
  const columnBytes = k <= 256 ? 1 : 2;

  // Section table: every section present, in order, aligned, sized as the counts say.
  const expected: Partial<Record<SectionName, number>> = {
    artistIds: n * 8,
    listeners: n * 4,
    stringEncodings: n,
    artistKeyStarts: (n + 1) * 4,
    artistTextStarts: (TEXT_FIELDS * n + 1) * 4,
    artistFactors: n * k * 4,
    artistFactorCounts: n * 2,
    artistGram: k * k * 8,
    similarityEmbedding: n * k * 4,
    searchByPopularity: n * 4,
    searchByKey: n * 4,
  };
  const alignment = version >= 3 ? 16 : 8;
  const byName = new Map(header.sections.map((s) => [s.name, s]));
  let bodyEnd = PREAMBLE_BYTES + headerLength;
  for (const sectionName of sectionNamesOf(version, encoding)) {
    const section = byName.get(sectionName) ?? fail(`has no "${sectionName}" section`);
    const size = expected[sectionName];
    if (size !== undefined && section.byteLength !== size) {
      fail(`section "${sectionName}" is ${section.byteLength} bytes, expected ${size}`);
    }
    const valueBytes =
      sectionName === 'searchTrigramRows' && version >= 4
        ? 2
        : (sectionName.startsWith('search') && sectionName !== 'searchBucketNames') ||
            sectionName.startsWith('neighbour')
          ? 4
          : 1;
    if (section.byteLength % valueBytes !== 0) {
      const values = valueBytes === 4 ? 'Int32' : 'Uint16';
      fail(`section "${sectionName}" is ${section.byteLength} bytes, not whole ${values} values`);
    }
    if (sectionName === 'artistKeys' && section.byteLength % 2 !== 0) {
      fail(`section "artistKeys" is ${section.byteLength} bytes, not whole UTF-16 code units`);
    }
    if (section.offset % alignment !== 0 || section.offset < bodyEnd) {
      fail(`section "${sectionName}" has a bad offset ${section.offset}`);
    }
    bodyEnd = alignUp(section.offset + section.byteLength, alignment);
  }
  if (encoding === 'sparse') {
    const columns = byName.get('artistFactorColumns')!.byteLength;
    const values = byName.get('artistFactorValues')!.byteLength;
    if (columns % columnBytes !== 0 || values % 4 !== 0 || columns / columnBytes !== values / 4) {
      fail(
        `sparse artist factors hold ${columns} bytes of columns and ${values} bytes of values, ` +
          `expected ${columnBytes} and 4 bytes per entry`,
      );
    }
    if (values / 4 > n * k) fail(`sparse artist factors hold more than ${n} x ${k} entries`);
  }
  if (version >= 4) {
    const width = header.neighbourWidth;
    const listed = byName.get('neighbourArtists')!.byteLength / 4;
    const rows = byName.get('neighbourRows')!.byteLength / 4;
    if (typeof width !== 'number' || !Number.isInteger(width) || width < 0 ||
      rows !== listed * width) {
      fail(`neighbour lists hold ${rows} rows for ${listed} artists, widths ${width}`);
    }
  }
  if (bodyEnd + CHECKSUM_BYTES > fileLength) {
    fail(`is truncated (${fileLength} bytes, the header describes ${bodyEnd + 4})`);
  }
  if (bodyEnd + CHECKSUM_BYTES < fileLength) {
    fail(`has ${fileLength - bodyEnd - CHECKSUM_BYTES} unexpected bytes after its data`);
  }
  return { version, header, sections: byName, encoding, columnBytes, bodyEnd };
}

/**
 * A new WebAssembly block for a file of this layout: the file's bytes at offset 0, then room for
 * W dense when the file stores it sparse.
 */
function roomFor(layout: Layout, fileLength: number): Uint8Array {
  const { artists: n, components: k } = layout.header;
  const expanded = layout.encoding === 'sparse' ? n * k * 4 : 0;
  return residentRoom(align16(fileLength) + expanded, n, k);
}

/**
 * The model in `room` (the file at offset 0, see roomFor), after comparing `checksum`, the CRC-32
 * of its body, with the stored one. O(artists + stored entries of W).
 */
function decodeBody(
  layout: Layout,
  room: Uint8Array,
  checksum: number,
  fail: (problem: string) => never,
): ModelData {
  const { header, sections, bodyEnd } = layout;
  const { components: k, artists: n } = header;
  const bytes = Buffer.from(room.buffer, room.byteOffset, room.byteLength);

  // Checksum before trusting any byte of the body.
  if (bytes.readUInt32LE(bodyEnd) !== checksum) fail('is corrupt (checksum mismatch)');

  // Sections are aligned in the file and the file at offset 0 of the room: views, no copies.
  type Typed<T> = new (buffer: ArrayBuffer, byteOffset: number, length: number) => T;
  const view = <T>(sectionName: SectionName, Type: Typed<T> & { BYTES_PER_ELEMENT: number }) => {
    const { offset, byteLength } = sections.get(sectionName)!;
    const buffer = room.buffer as ArrayBuffer;
    return new Type(buffer, room.byteOffset + offset, byteLength / Type.BYTES_PER_ELEMENT);
  };
  const slice = (sectionName: SectionName) => {
    const { offset, byteLength } = sections.get(sectionName)!;
    return bytes.subarray(offset, offset + byteLength);
  };
  const text = (sectionName: SectionName, encoding: BufferEncoding = 'utf8') =>
    slice(sectionName).toString(encoding);

  // Artists: a table over the columns from version 4 on; before, records made here.
  let table: ArtistTable | undefined;
  let artists: ModelArtist[] | undefined;
  if (layout.version >= 4) {
    table = readArtistTable(
      view('artistIds', Float64Array),
      view('listeners', Uint32Array),
      view('artistKeyStarts', Uint32Array),
      view('artistKeys', Uint16Array),
      view('artistTextStarts', Uint32Array),
      slice('artistText'),
      fail,
    );
  } else if (layout.version === 3) {
    artists = readArtists(
      view('artistIds', Float64Array),
      view('listeners', Uint32Array),
      view('stringEncodings', Uint8Array),
      text('latin1Strings', 'latin1').split(FIELD_SEPARATOR),
      text('utf8Strings').split(FIELD_SEPARATOR),
      fail,
    );
  } else {
    artists = readArtists(
      view('artistIds', Float64Array),
      view('listeners', Uint32Array),
      new Uint8Array(n),
      text('strings').split(FIELD_SEPARATOR),
      [''],
      fail,
    );
  }

  // The search index (version 2 on), checked like everything else before it is served.
  let searchIndex: ArtistSearchIndex | undefined;
  if (layout.version >= 2) {
    const rows = (sectionName: SectionName) => view(sectionName, Int32Array);
    const bucketNames = text('searchBucketNames').split(FIELD_SEPARATOR);
    if (bucketNames.pop() !== '') fail('search index bucket names are not terminated');
    const stored = {
      byPopularity: rows('searchByPopularity'),
      byKey: rows('searchByKey'),
      bucketNames,
      keyBucketStarts: rows('searchKeyBucketStarts'),
      keyBucketRows: rows('searchKeyBucketRows'),
      wordBucketStarts: rows('searchWordBucketStarts'),
      wordBucketPairs: rows('searchWordBucketPairs'),
      trigramStarts: rows('searchTrigramStarts'),
    };

    // Versions 2 and 3 store trigram postings and word pairs in an earlier layout.
    const index =
      layout.version >= 4
        ? { ...stored, trigramRows: view('searchTrigramRows', Uint16Array) }
        : upgradeStoredIndex({ ...stored, trigramRows: rows('searchTrigramRows') }, n);
    if (typeof index === 'string') fail(`has a damaged search index (${index})`);
    const problem = artistSearchIndexProblem(index, n);
    if (problem !== undefined) fail(`has a damaged search index (${problem})`);
    searchIndex = index;
  }

  // Stored `/similar` lists (version 4 on), checked like the index.
  let neighbourLists: NeighbourLists | undefined;
  if (layout.version >= 4 && (header.neighbourWidth ?? 0) > 0) {
    neighbourLists = {
      width: header.neighbourWidth!,
      artists: view('neighbourArtists', Int32Array),
      neighbours: view('neighbourRows', Int32Array),
    };
    const problem = neighbourListsProblem(neighbourLists, n);
    if (problem !== undefined) fail(`has damaged neighbour lists (${problem})`);
  }

  // W where the scan kernel reads it: in place, or expanded after the file.
  let artistFactors: Float32Array;
  if (layout.encoding === 'dense') {
    artistFactors = view('artistFactors', Float32Array);
  } else {
    const expandedAt = room.byteOffset + align16(bodyEnd + CHECKSUM_BYTES);
    artistFactors = new Float32Array(room.buffer, expandedAt, n * k);
    const problem = expandRows(
      view('artistFactorCounts', Uint16Array),
      layout.columnBytes === 1
        ? view('artistFactorColumns', Uint8Array)
        : view('artistFactorColumns', Uint16Array),
      view('artistFactorValues', Uint32Array),
      k,
      new Uint32Array(artistFactors.buffer, artistFactors.byteOffset, artistFactors.length),
    );
    if (problem !== undefined) fail(`has damaged sparse artist factors (${problem})`);
  }

  const fields = {
    meta: header.meta,
    components: k,
    artistFactors,
    artistGram: view('artistGram', Float64Array),
    similarityEmbedding: view('similarityEmbedding', Float32Array),
    searchIndex,
    ...(neighbourLists === undefined ? {} : { neighbourLists }),
  };
  return table === undefined ? { ...fields, artists: artists! } : modelWithArtistTable(fields, table);
}

/**
 * The artist table over version 4 columns (see the layout above), after checking that both
 * start columns begin at 0, never decrease and end at their text's length. A record is decoded
 * from `text` when first asked for. O(artists).
 */
function readArtistTable(
  ids: Float64Array,
  listeners: Uint32Array,
  keyStarts: Uint32Array,
  keyUnits: Uint16Array,
  textStarts: Uint32Array,
  text: Buffer,
  fail: (problem: string) => never,
): ArtistTable {
  if (!coversInOrder(keyStarts, keyUnits.length)) {
    fail(`artist key starts do not cover the ${keyUnits.length} code units of the keys in order`);
  }
  if (!coversInOrder(textStarts, text.length)) {
    fail(`artist text starts do not cover the ${text.length} bytes of the text in order`);
  }
  const keys = Buffer.from(keyUnits.buffer, keyUnits.byteOffset, keyUnits.byteLength);
  const describe = (row: number): ModelArtist => {
    const at = TEXT_FIELDS * row;
    const urlStart = textStarts[at + 1];
    const tagStart = textStarts[at + 2];
    const end = textStarts[at + 3];
    return {
      id: ids[row],
      name: text.toString('utf8', textStarts[at], urlStart),
      key: keys.toString('utf16le', 2 * keyStarts[row], 2 * keyStarts[row + 1]),
      listeners: listeners[row],
      tags: tagStart === end ? NO_TAGS : text.toString('utf8', tagStart, end).split(TAG_SEPARATOR),
      url: urlStart === tagStart ? null : text.toString('utf8', urlStart, tagStart),
    };
  };
  return new ArtistTable(ids, listeners, keyUnits, keyStarts, describe);
}

/** Whether `starts` begins at 0, never decreases and ends at `total`. O(starts). */
function coversInOrder(starts: Uint32Array, total: number): boolean {
  return starts[0] === 0 && starts[starts.length - 1] === total && nonDecreasing(starts);
}

/**
 * The artist records from their columns: field f (name, key, url, tags) of artist i is empty
 * when bit 4 + f of `encodings[i]` is set, else the next unused one of `utf8` when bit f is set,
 * else of `latin1`; both lists end with an empty string. O(artists).
 */
function readArtists(
  ids: Float64Array,
  listeners: Uint32Array,
  encodings: Uint8Array,
  latin1: string[],
  utf8: string[],
  fail: (problem: string) => never,
): ModelArtist[] {
  const n = ids.length;
  let narrow = 0;
  let wide = 0;
  const next = (encoding: number, field: number): string => {
    if ((encoding >> field) & EMPTY_FIELD) return '';
    return (encoding >> field) & 1 ? utf8[wide++] : latin1[narrow++];
  };
  const artists: ModelArtist[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const encoding = encodings[i];
    const name = next(encoding, 0);
    const key = next(encoding, 1);
    const url = next(encoding, 2);
    const tags = next(encoding, 3);
    if (tags === undefined) break;
    artists[i] = {
      id: ids[i],
      name,
      key,
      listeners: listeners[i],
      tags: tags.length === 0 ? NO_TAGS : tags.split(TAG_SEPARATOR),
      url: url.length === 0 ? null : url,
    };
  }
  const fields = latin1.length + utf8.length - 2;
  if (narrow !== latin1.length - 1 || wide !== utf8.length - 1 || latin1.at(-1) !== '' ||
    utf8.at(-1) !== '') {
    fail(`artist records hold ${fields} fields, expected ${4 * n}`);
  }
  return artists;
}

/**
 * What is wrong with neighbour lists for `n` artists, or undefined: each listed artist a distinct
 * row, each list rows other than its own, distinct, then only -1 padding. O(entries).
 */
export function neighbourListsProblem(lists: NeighbourLists, n: number): string | undefined {
  const { width, artists, neighbours } = lists;
  if (!Number.isInteger(width) || width < 1) return `width ${width}`;
  if (neighbours.length !== artists.length * width) {
    return `${neighbours.length} neighbours for ${artists.length} lists of ${width}`;
  }
  const seen = new Int32Array(n).fill(-1);
  for (let slot = 0; slot < artists.length; slot++) {
    const artist = artists[slot];
    if (!(artist >= 0 && artist < n)) return `list ${slot} is for row ${artist}, not below ${n}`;
    if (seen[artist] === -2) return `row ${artist} has two lists`;
    seen[artist] = -2;
  }
  const mark = new Int32Array(n).fill(-1);
  for (let slot = 0; slot < artists.length; slot++) {
    let padded = false;
    for (let i = slot * width; i < (slot + 1) * width; i++) {
      const row = neighbours[i];
      if (row === -1) {
        padded = true;
        continue;
      }
      if (padded || !(row >= 0 && row < n) || row === artists[slot] || mark[row] === slot) {
        return `list ${slot} has neighbour ${row} out of place`;
      }
      mark[row] = slot;
    }
  }
  return undefined;
}

/**
 * Writes the stored entries of sparse W into `into` (zeroed, rows x k), as bits so that every
 * value comes back exactly; a problem when counts, columns and values disagree. O(entries).
 */
function expandRows(
  counts: Uint16Array,
  columns: Uint8Array | Uint16Array,
  valueBits: Uint32Array,
  k: number,
  into: Uint32Array,
): string | undefined {
  let next = 0;
  for (let row = 0; row < counts.length; row++) {
    const end = next + counts[row];
    if (end > valueBits.length) return `row ${row} runs past the ${valueBits.length} entries`;
    const base = row * k;
    let previous = -1;
    for (; next < end; next++) {
      const column = columns[next];
      if (column <= previous || column >= k) {
        return `row ${row} has column ${column} out of order or past ${k}`;
      }
      previous = column;
      into[base + column] = valueBits[next];
    }
  }
  if (next !== valueBits.length) return `${valueBits.length - next} entries belong to no row`;
  return undefined;
}

/**
 * Writes a model atomically: into a temporary file in the same directory, fsync, then rename
 * over `path`. A crash at any point leaves either the old file or the new one at `path`, never a
 * half-written one. O(file size).
 */
export async function writeModel(path: string, model: ModelData): Promise<void> {
  const bytes = encodeModel(model);
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  let descriptor: number | undefined;
  try {
    descriptor = openSync(temporary, 'wx');
    let written = 0;
    while (written < bytes.length) {
      written += writeSync(descriptor, bytes, written, bytes.length - written);
    }
    fsyncSync(descriptor);
    closeSync(descriptor);
    descriptor = undefined;
    renameSync(temporary, path);
  } catch (error) {
    if (descriptor !== undefined) closeSync(descriptor);
    try {
      unlinkSync(temporary);
    } catch {
      // Nothing to clean up.
    }
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ModelFileError(`${path}: cannot write the model (${reason})`);
  }

  // Make the rename itself durable where the platform allows syncing a directory.
  try {
    const directory = openSync(dirname(path), 'r');
    try {
      fsyncSync(directory);
    } finally {
      closeSync(directory);
    }
  } catch {
    // Some platforms cannot fsync a directory; the data itself is already on disk.
  }
}

/** Throws ModelFileError unless the arrays agree with the artist and component counts. */
function checkShapes(model: ModelData, name: string): void {
  const n = model.artists.length;
  const k = model.components;
  const problems: string[] = [];
  if (!Number.isInteger(k) || k < 1) problems.push(`components is ${k}`);
  if (model.artistFactors.length !== n * k) {
    problems.push(`artistFactors has ${model.artistFactors.length} values, expected ${n * k}`);
  }
  if (model.artistGram.length !== k * k) {
    problems.push(`artistGram has ${model.artistGram.length} values, expected ${k * k}`);
  }
  if (model.similarityEmbedding.length !== n * k) {
    problems.push(
      `similarityEmbedding has ${model.similarityEmbedding.length} values, expected ${n * k}`,
    );
  }
  if (problems.length > 0) throw new ModelFileError(`${name}: ${problems.join('; ')}`);
}

function parseHeader(text: string, version: number, fail: (problem: string) => never): Header {
  let header: Header;
  try {
    header = JSON.parse(text) as Header;
  } catch {
    return fail('has an unreadable header (not JSON)');
  }
  const isCount = (value: unknown): value is number =>
    typeof value === 'number' && Number.isInteger(value) && value >= 0;
  if (typeof header !== 'object' || header === null) fail('has an empty header');
  if (!isCount(header.components) || header.components < 1) {
    fail(`header has a bad component count ${header.components}`);
  }
  if (!isCount(header.artists)) fail(`header has a bad artist count ${header.artists}`);
  if (typeof header.meta !== 'object' || header.meta === null) fail('header has no meta');
  for (const field of ['parameters', 'data', 'foldIn'] as const) {
    if (typeof header.meta[field] !== 'object' || header.meta[field] === null) {
      fail(`header meta has no "${field}"`);
    }
  }
  const { l1, l2 } = header.meta.foldIn;
  if (!(Number.isFinite(l1) && l1 >= 0 && Number.isFinite(l2) && l2 >= 0)) {
    fail(`header has bad fold-in penalties ${JSON.stringify(header.meta.foldIn)}`);
  }
  if (version >= 3) {
    const encoding = header.artistFactorEncoding;
    if (encoding !== 'dense' && encoding !== 'sparse') {
      fail(`header has an unknown artist factor encoding ${JSON.stringify(encoding)}`);
    }
  } else if (header.artistFactorEncoding !== undefined) {
    fail(`header of a version ${version} file names an artist factor encoding`);
  }
  if (!Array.isArray(header.sections)) fail('header has no section table');
  for (const section of header.sections) {
    if (!isCount(section?.offset) || !isCount(section?.byteLength)) {
      fail(`header has a bad section entry ${JSON.stringify(section)}`);
    }
  }
  if (
    header.meta.parameters?.components !== undefined &&
    header.meta.parameters.components !== header.components
  ) {
    fail(
      `header says ${header.components} components but its parameters say ` +
        `${header.meta.parameters.components}`,
    );
  }
  return header;
}

function bytesOf(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

function clean(text: string): string {
  return text.replace(SEPARATORS, '\ufffd');
}

function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

function align16(value: number): number {
  return alignUp(value, 16);
}

function requireLittleEndian(): void {
  if (endianness() !== 'LE') {
    throw new ModelFileError('model files are little-endian; this machine is big-endian');
  }
}

// node:zlib has crc32 from Node 20.15; older versions use the table-driven version below.
// Both continue from `previous`, the CRC-32 of the bytes before `data` (0 for none).
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, previous?: number) => number }).crc32;
let crcTable: Uint32Array | undefined;

function crc32(data: Uint8Array, previous = 0): number {
  if (nativeCrc32 !== undefined) return nativeCrc32(data, previous) >>> 0;
  if (crcTable === undefined) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let bit = 0; bit < 8; bit++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
