/**
 * The trained-model file (`*.nmf`): one binary file that loads in milliseconds.
 *
 * Layout (all integers and floats little-endian; every section starts at a multiple of 8):
 *
 * | bytes | content |
 * | --- | --- |
 * | 8 | magic `NMFMUSIC` |
 * | 4 | u32 format version (`MODEL_FORMAT_VERSION`) |
 * | 4 | u32 header length H |
 * | H | JSON header: `{ meta, components, artists, sections: [{ name, offset, byteLength }] }` |
 * | ... | `artistIds` Float64 x artists |
 * | ... | `listeners` Uint32 x artists |
 * | ... | `strings` UTF-8: per artist `name \0 key \0 url \0 tags joined by \u001f \0` |
 * | ... | `artistFactors` Float32 x artists x components (row-major) |
 * | ... | `artistGram` Float64 x components x components |
 * | ... | `similarityEmbedding` Float32 x artists x components |
 * | ... | the artist search index (ArtistSearchIndex, src/model/artistSearch.ts), version 2 on: |
 * | | `searchByPopularity`, `searchByKey` Int32 x artists; `searchBucketNames` UTF-8, names |
 * | | each followed by `\0`; `searchKeyBucketStarts`, `searchKeyBucketRows`, |
 * | | `searchWordBucketStarts`, `searchWordBucketPairs`, `searchTrigramStarts`, |
 * | | `searchTrigramRows` Int32 |
 * | 4 | u32 CRC-32 of every byte before it |
 *
 * Reading builds typed-array views straight on the file's bytes (one copy only when the buffer
 * is misaligned), so no float is parsed one by one. A `null` url is stored as an empty string and
 * read back as `null`; the separators `\0` and `\u001f` inside names or tags are replaced by
 * U+FFFD on writing, since no real artist name contains them.
 *
 * Version 2 added the search index, so that a load builds nothing: at 160,000 artists building
 * it took half a second, storing it costs about 4 MB. Version 1 files are still read; their
 * index is built on loading.
 */
import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { endianness } from 'node:os';
import * as zlib from 'node:zlib';
import { artistSearchIndexProblem, buildArtistSearchIndex } from './artistSearch.ts';
import type { ArtistSearchIndex } from './artistSearch.ts';
import type { ModelArtist, ModelData, ModelMeta } from './types.ts';
import { residentMatrices } from './wasm/kernels.ts';

/** Version of the layout above, the one written. */
export const MODEL_FORMAT_VERSION = 2;
/** Versions read; any other is refused. */
const READABLE_VERSIONS = [1, 2];

/** A model file that cannot be read or written; the message names the file and the problem. */
export class ModelFileError extends Error {
  override name = 'ModelFileError';
}

const MAGIC = Buffer.from('NMFMUSIC', 'ascii');
const PREAMBLE_BYTES = MAGIC.length + 8;
const CHECKSUM_BYTES = 4;
const FIELD_SEPARATOR = '\u0000';
const TAG_SEPARATOR = '\u001f';
const SEPARATORS = /[\u0000\u001f]/g;
const VERSION_1_SECTIONS = [
  'artistIds',
  'listeners',
  'strings',
  'artistFactors',
  'artistGram',
  'similarityEmbedding',
] as const;
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
const SECTION_NAMES = [...VERSION_1_SECTIONS, ...SEARCH_SECTIONS] as const;

type SectionName = (typeof SECTION_NAMES)[number];

interface Section {
  name: SectionName;
  offset: number;
  byteLength: number;
}

interface Header {
  meta: ModelMeta;
  components: number;
  artists: number;
  sections: Section[];
}

/**
 * Serialises a model into the layout above. Validates the array sizes first (throws
 * ModelFileError). O(file size).
 */
export function encodeModel(model: ModelData): Buffer {
  requireLittleEndian();
  checkShapes(model, 'model to encode');
  const n = model.artists.length;
  const k = model.components;

  // Per-artist columns.
  const artistIds = new Float64Array(n);
  const listeners = new Uint32Array(n);
  const strings: string[] = [];
  for (let i = 0; i < n; i++) {
    const artist = model.artists[i];
    artistIds[i] = artist.id;
    listeners[i] = artist.listeners;
    strings.push(
      clean(artist.name),
      clean(artist.key),
      clean(artist.url ?? ''),
      artist.tags.map(clean).join(TAG_SEPARATOR),
    );
  }
  strings.push('');
  const stringBytes = Buffer.from(strings.join(FIELD_SEPARATOR), 'utf8');

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

  const payloads: Record<SectionName, Uint8Array> = {
    artistIds: bytesOf(artistIds),
    listeners: bytesOf(listeners),
    strings: stringBytes,
    artistFactors: bytesOf(model.artistFactors),
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
  };

  // The header holds the section offsets, which depend on the header's own length: lay the
  // sections out with a header padded to a fixed width that is certainly large enough.
  const meta: ModelMeta = { ...model.meta, formatVersion: MODEL_FORMAT_VERSION };
  const draft = JSON.stringify({ meta, components: k, artists: n, sections: [] });
  const headerCapacity = align8(Buffer.byteLength(draft, 'utf8') + 128 * SECTION_NAMES.length);
  let offset = align8(PREAMBLE_BYTES + headerCapacity);
  const sections: Section[] = [];
  for (const name of SECTION_NAMES) {
    sections.push({ name, offset, byteLength: payloads[name].byteLength });
    offset = align8(offset + payloads[name].byteLength);
  }
  const header: Header = { meta, components: k, artists: n, sections };
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
  for (const section of sections) buffer.set(payloads[section.name], section.offset);
  buffer.writeUInt32LE(crc32(buffer.subarray(0, offset)), offset);
  return buffer;
}

/**
 * Parses and validates a model file's bytes. `name` is used in error messages. Refuses a wrong
 * magic, another format version, truncation, a checksum mismatch and inconsistent sizes with a
 * ModelFileError. O(file size) for the checksum plus O(artists) for the artist records.
 */
export function decodeModel(buffer: Buffer, name = 'model'): ModelData {
  requireLittleEndian();
  const fail = (problem: string): never => {
    throw new ModelFileError(`${name}: ${problem}`);
  };

  // Preamble.
  if (buffer.length < PREAMBLE_BYTES + CHECKSUM_BYTES) {
    fail(`is ${buffer.length} bytes, too short to be a model file`);
  }
  if (!buffer.subarray(0, MAGIC.length).equals(MAGIC)) {
    fail('is not a model file (wrong magic bytes; expected "NMFMUSIC")');
  }
  const version = buffer.readUInt32LE(MAGIC.length);
  if (!READABLE_VERSIONS.includes(version)) {
    fail(
      `has format version ${version}; this program reads versions ` +
        `${READABLE_VERSIONS.join(' and ')}`,
    );
  }
  const sectionNames = version === 1 ? VERSION_1_SECTIONS : SECTION_NAMES;
  const headerLength = buffer.readUInt32LE(MAGIC.length + 4);
  if (PREAMBLE_BYTES + headerLength + CHECKSUM_BYTES > buffer.length) {
    fail(`is truncated (header of ${headerLength} bytes does not fit in ${buffer.length})`);
  }

  // Header.
  const header = parseHeader(
    buffer.toString('utf8', PREAMBLE_BYTES, PREAMBLE_BYTES + headerLength),
    fail,
  );
  const { components: k, artists: n } = header;

  // Section table: every section present, in order, sized as the counts say.
  const expected: Partial<Record<SectionName, number>> = {
    artistIds: n * 8,
    listeners: n * 4,
    artistFactors: n * k * 4,
    artistGram: k * k * 8,
    similarityEmbedding: n * k * 4,
    searchByPopularity: n * 4,
    searchByKey: n * 4,
  };
  const byName = new Map(header.sections.map((s) => [s.name, s]));
  let bodyEnd = align8(PREAMBLE_BYTES + headerLength);
  for (const sectionName of sectionNames) {
    const section = byName.get(sectionName) ?? fail(`has no "${sectionName}" section`);
    const size = expected[sectionName];
    if (size !== undefined && section.byteLength !== size) {
      fail(`section "${sectionName}" is ${section.byteLength} bytes, expected ${size}`);
    }
    if (sectionName.startsWith('search') && sectionName !== 'searchBucketNames') {
      if (section.byteLength % 4 !== 0) {
        fail(`section "${sectionName}" is ${section.byteLength} bytes, not whole Int32 values`);
      }
    }
    if (section.offset % 8 !== 0 || section.offset < bodyEnd) {
      fail(`section "${sectionName}" has a bad offset ${section.offset}`);
    }
    bodyEnd = align8(section.offset + section.byteLength);
  }
  if (bodyEnd + CHECKSUM_BYTES > buffer.length) {
    fail(`is truncated (${buffer.length} bytes, the header describes ${bodyEnd + 4})`);
  }
  if (bodyEnd + CHECKSUM_BYTES < buffer.length) {
    fail(`has ${buffer.length - bodyEnd - CHECKSUM_BYTES} unexpected bytes after its data`);
  }

  // Checksum before trusting any byte of the body.
  const stored = buffer.readUInt32LE(bodyEnd);
  const actual = crc32(buffer.subarray(0, bodyEnd));
  if (stored !== actual) fail('is corrupt (checksum mismatch)');

  const view = <T>(
    sectionName: SectionName,
    make: (b: ArrayBuffer, o: number, l: number) => T,
    bytesPerElement: number,
  ): T => {
    const { offset, byteLength } = byName.get(sectionName)!;
    return typedView(buffer, offset, byteLength, bytesPerElement, make);
  };

  // Artists.
  const artistIds = view('artistIds', (b, o, l) => new Float64Array(b, o, l), 8);
  const listeners = view('listeners', (b, o, l) => new Uint32Array(b, o, l), 4);
  const strings = byName.get('strings')!;
  const fields = buffer
    .toString('utf8', strings.offset, strings.offset + strings.byteLength)
    .split(FIELD_SEPARATOR);
  if (fields.length !== 4 * n + 1 || fields[4 * n] !== '') {
    fail(`artist records hold ${fields.length - 1} fields, expected ${4 * n}`);
  }
  const artists: ModelArtist[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const url = fields[4 * i + 2];
    const tags = fields[4 * i + 3];
    artists[i] = {
      id: artistIds[i],
      name: fields[4 * i],
      key: fields[4 * i + 1],
      listeners: listeners[i],
      tags: tags.length === 0 ? [] : tags.split(TAG_SEPARATOR),
      url: url.length === 0 ? null : url,
    };
  }

  // The search index (version 2 on), checked like everything else before it is served.
  let searchIndex: ArtistSearchIndex | undefined;
  if (version >= 2) {
    const rows = (sectionName: SectionName) =>
      view(sectionName, (b, o, l) => new Int32Array(b, o, l), 4);
    const names = byName.get('searchBucketNames')!;
    const bucketNames = buffer
      .toString('utf8', names.offset, names.offset + names.byteLength)
      .split(FIELD_SEPARATOR);
    if (bucketNames.pop() !== '') fail('search index bucket names are not terminated');
    searchIndex = {
      byPopularity: rows('searchByPopularity'),
      byKey: rows('searchByKey'),
      bucketNames,
      keyBucketStarts: rows('searchKeyBucketStarts'),
      keyBucketRows: rows('searchKeyBucketRows'),
      wordBucketStarts: rows('searchWordBucketStarts'),
      wordBucketPairs: rows('searchWordBucketPairs'),
      trigramStarts: rows('searchTrigramStarts'),
      trigramRows: rows('searchTrigramRows'),
    };
    const problem = artistSearchIndexProblem(searchIndex, n);
    if (problem !== undefined) fail(`has a damaged search index (${problem})`);
  }

  // The scanned matrices are copied into WebAssembly memory, where the scan kernel reads them.
  const [artistFactors, similarityEmbedding] = residentMatrices(
    k,
    view('artistFactors', (b, o, l) => new Float32Array(b, o, l), 4),
    view('similarityEmbedding', (b, o, l) => new Float32Array(b, o, l), 4),
  );
  return {
    meta: header.meta,
    artists,
    components: k,
    artistFactors,
    artistGram: view('artistGram', (b, o, l) => new Float64Array(b, o, l), 8),
    similarityEmbedding,
    searchIndex,
  };
}

/**
 * Reads and validates a model file (see decodeModel). Synchronous: meant for start-up and for
 * swapping in a retrained model. Throws ModelFileError, also for a missing or unreadable file.
 */
export function readModel(path: string): ModelData {
  let buffer: Buffer;
  try {
    buffer = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? error})`;
    throw new ModelFileError(`${path}: ${problem}`);
  }
  return decodeModel(buffer, path);
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

function parseHeader(text: string, fail: (problem: string) => never): Header {
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

/** A typed array over `buffer[offset, offset + byteLength)`, copied once only if misaligned. */
function typedView<T>(
  buffer: Buffer,
  offset: number,
  byteLength: number,
  bytesPerElement: number,
  make: (b: ArrayBuffer, o: number, l: number) => T,
): T {
  const start = buffer.byteOffset + offset;
  if (start % bytesPerElement === 0) {
    return make(buffer.buffer as ArrayBuffer, start, byteLength / bytesPerElement);
  }
  const copy = new ArrayBuffer(byteLength);
  new Uint8Array(copy).set(buffer.subarray(offset, offset + byteLength));
  return make(copy, 0, byteLength / bytesPerElement);
}

function bytesOf(array: Float32Array | Float64Array | Uint32Array | Int32Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

function clean(text: string): string {
  return text.replace(SEPARATORS, '\ufffd');
}

function align8(value: number): number {
  return Math.ceil(value / 8) * 8;
}

function requireLittleEndian(): void {
  if (endianness() !== 'LE') {
    throw new ModelFileError('model files are little-endian; this machine is big-endian');
  }
}

// node:zlib has crc32 from Node 20.15; older versions use the table-driven version below.
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
let crcTable: Uint32Array | undefined;

function crc32(data: Uint8Array): number {
  if (nativeCrc32 !== undefined) return nativeCrc32(data) >>> 0;
  if (crcTable === undefined) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let bit = 0; bit < 8; bit++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
