import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import {
  decodeModel,
  encodeModel,
  MODEL_FORMAT_VERSION,
  ModelFileError,
  readModel,
  writeModel,
} from '../src/model/modelFile.ts';
import {
  DEFAULT_MODEL_PATH,
  RETRAINED_MODEL_DIR,
  servingModelPath,
} from '../src/model/modelPaths.ts';
import { ArtistSearch, buildArtistSearchIndex } from '../src/model/artistSearch.ts';
import { artistCount, artistTableOf } from '../src/model/artistTable.ts';
import { gram } from '../src/model/embedding.ts';
import { Recommender } from '../src/model/recommender.ts';
import type { ModelData } from '../src/model/types.ts';
import { tinyModel } from './support/tinyModel.ts';

function assertSameModel(actual: ModelData, expected: ModelData): void {
  assert.deepEqual(actual.meta, { ...expected.meta, formatVersion: MODEL_FORMAT_VERSION });
  assert.equal(actual.components, expected.components);
  assert.deepEqual(actual.artists, expected.artists);
  assert.deepEqual(Array.from(actual.artistFactors), Array.from(expected.artistFactors));
  assert.deepEqual(Array.from(actual.artistGram), Array.from(expected.artistGram));
  assert.deepEqual(
    Array.from(actual.similarityEmbedding),
    Array.from(expected.similarityEmbedding),
  );
  assert.ok(actual.artistFactors instanceof Float32Array);
  assert.ok(actual.artistGram instanceof Float64Array);
  assert.ok(actual.similarityEmbedding instanceof Float32Array);
}

/** Rewrites the JSON header of an encoded model and fixes the checksum, to forge bad headers. */
function withHeader(buffer: Buffer, edit: (header: any) => void): Buffer {
  const length = buffer.readUInt32LE(12);
  const header = JSON.parse(buffer.toString('utf8', 16, 16 + length));
  edit(header);
  const text = JSON.stringify(header);
  assert.ok(Buffer.byteLength(text) <= length, 'forged header must fit');
  const copy = Buffer.from(buffer);
  copy.write(text.padEnd(length, ' '), 16, 'utf8');
  const end = copy.length - 4;
  copy.writeUInt32LE(crc32(copy.subarray(0, end)), end);
  return copy;
}

function withTempDir(body: (dir: string) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'model-file-'));
    try {
      await body(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test('encode then decode gives back the same model', () => {
  const model = tinyModel();
  assertSameModel(decodeModel(encodeModel(model)), model);
});

test('null urls, empty tags and odd characters survive a round trip', () => {
  const model = tinyModel();
  model.artists[0] = { ...model.artists[0], url: null, tags: [] };
  model.artists[1] = {
    ...model.artists[1],
    name: 'Sigur Rós 🎵 \u200b',
    tags: ['a', '', 'post-rock'],
  };
  model.artists[2] = { ...model.artists[2], id: 9_007_199_254_740_991 };
  const decoded = decodeModel(encodeModel(model));
  assert.equal(decoded.artists[0].url, null);
  assert.deepEqual(decoded.artists[0].tags, []);
  assert.equal(decoded.artists[1].name, 'Sigur Rós 🎵 \u200b');
  assert.deepEqual(decoded.artists[1].tags, ['a', '', 'post-rock']);
  assert.equal(decoded.artists[2].id, 9_007_199_254_740_991);
});

test('a header with non-ASCII text round-trips', () => {
  const model = tinyModel();
  model.meta.data.source = 'sqlite:/home/zoë/東方神起/bot.sqlite';
  assert.equal(decodeModel(encodeModel(model)).meta.data.source, model.meta.data.source);
});

test('separator characters inside names are replaced, not allowed to shift fields', () => {
  const model = tinyModel();
  model.artists[3] = { ...model.artists[3], name: 'Bad\u0000Name', tags: ['x\u001fy'] };
  const decoded = decodeModel(encodeModel(model));
  assert.equal(decoded.artists[3].name, 'Bad\ufffdName');
  assert.deepEqual(decoded.artists[3].tags, ['x\ufffdy']);
  assert.deepEqual(decoded.artists[4], model.artists[4]);
});

test('a model with no artists round-trips', () => {
  const model = tinyModel();
  model.artists = [];
  model.artistFactors = new Float32Array(0);
  model.similarityEmbedding = new Float32Array(0);
  const decoded = decodeModel(encodeModel(model));
  assert.equal(decoded.artists.length, 0);
  assert.equal(decoded.artistGram.length, model.components ** 2);
});

test('a misaligned buffer is copied into aligned arrays', () => {
  const bytes = encodeModel(tinyModel());
  const shifted = Buffer.alloc(bytes.length + 3);
  bytes.copy(shifted, 3);
  assertSameModel(decodeModel(shifted.subarray(3)), tinyModel());
});

test('encoding refuses arrays whose sizes disagree with the counts', () => {
  const model = tinyModel();
  model.artistFactors = model.artistFactors.subarray(1);
  assert.throws(
    () => encodeModel(model),
    (error: Error) => error instanceof ModelFileError && /artistFactors/.test(error.message),
  );
  const gram = tinyModel();
  gram.artistGram = new Float64Array(3);
  assert.throws(() => encodeModel(gram), /artistGram/);
});

test('decoding refuses wrong magic, other versions, truncation and corruption', () => {
  const bytes = encodeModel(tinyModel());
  const refuses = (buffer: Buffer, pattern: RegExp) =>
    assert.throws(
      () => decodeModel(buffer, 'x.nmf'),
      (error: Error) =>
        error instanceof ModelFileError &&
        error.message.startsWith('x.nmf: ') &&
        pattern.test(error.message),
    );

  const magic = Buffer.from(bytes);
  magic.write('PNGPNGPN', 0, 'ascii');
  refuses(magic, /magic/);

  const version = Buffer.from(bytes);
  version.writeUInt32LE(MODEL_FORMAT_VERSION + 1, 8);
  refuses(version, new RegExp(`version ${MODEL_FORMAT_VERSION + 1}; this program reads`));

  refuses(bytes.subarray(0, 10), /too short/);
  refuses(bytes.subarray(0, 40), /truncated/);
  refuses(bytes.subarray(0, bytes.length - 1), /truncated/);
  refuses(Buffer.concat([bytes, Buffer.alloc(8)]), /unexpected bytes/);

  // Flip one bit in the middle of the factors, and one in the header's padding.
  for (const position of [bytes.length - 100, 20]) {
    const corrupt = Buffer.from(bytes);
    corrupt[position] ^= 0x10;
    refuses(corrupt, /checksum|header/);
  }
  refuses(Buffer.alloc(bytes.length), /magic/);
});

test('decoding refuses headers whose counts disagree with the sections', () => {
  const bytes = encodeModel(tinyModel());
  const refuses = (buffer: Buffer, pattern: RegExp) =>
    assert.throws(
      () => decodeModel(buffer),
      (error: Error) => error instanceof ModelFileError && pattern.test(error.message),
    );

  refuses(
    withHeader(bytes, (h) => {
      h.artists += 1;
    }),
    /expected/,
  );
  refuses(
    withHeader(bytes, (h) => {
      h.components = 5;
    }),
    /expected|components/,
  );
  refuses(
    withHeader(bytes, (h) => {
      h.components = 0;
    }),
    /component count/,
  );
  refuses(
    withHeader(bytes, (h) => {
      h.sections.pop();
    }),
    /has no "neighbourRows" section/,
  );
  refuses(
    withHeader(bytes, (h) => {
      h.sections[3].offset += 4;
    }),
    /offset|expected|truncated/,
  );
  refuses(
    withHeader(bytes, (h) => {
      h.sections.find((entry: { name: string }) => entry.name === 'artistText').byteLength -= 1;
    }),
    /artist text starts do not cover the \d+ bytes of the text in order/,
  );
  refuses(
    withHeader(bytes, (h) => {
      h.sections.find((entry: { name: string }) => entry.name === 'artistKeys').byteLength -= 2;
    }),
    /artist key starts do not cover the \d+ code units of the keys in order/,
  );
  refuses(
    withHeader(bytes, (h) => {
      h.sections.find((entry: { name: string }) => entry.name === 'artistKeys').byteLength -= 1;
    }),
    /not whole UTF-16 code units/,
  );
  refuses(
    withHeader(bytes, (h) => {
      h.artistFactorEncoding = 'zipped';
    }),
    /unknown artist factor encoding "zipped"/,
  );
  refuses(
    withHeader(bytes, (h) => {
      delete h.meta.foldIn;
    }),
    /foldIn/,
  );
  refuses(
    withHeader(bytes, (h) => {
      h.meta.foldIn.l2 = -1;
    }),
    /fold-in/,
  );
  refuses(
    withHeader(bytes, (h) => {
      h.meta.parameters.components = 9;
    }),
    /parameters say 9/,
  );
  // The forged-header helper itself keeps a valid file valid.
  assertSameModel(decodeModel(withHeader(bytes, () => {})), tinyModel());
});

test(
  'writeModel then readModel round-trips and leaves no temporary file',
  withTempDir(async (dir) => {
    const path = join(dir, 'model.nmf');
    await writeModel(path, tinyModel());
    assertSameModel(readModel(path), tinyModel());
    assert.deepEqual(readdirSync(dir), ['model.nmf']);

    // Overwriting replaces the file whole.
    const changed = tinyModel();
    changed.meta.iterations = 99;
    await writeModel(path, changed);
    assert.equal(readModel(path).meta.iterations, 99);
    assert.deepEqual(readdirSync(dir), ['model.nmf']);
  }),
);

test(
  'a failed write leaves the previous file untouched',
  withTempDir(async (dir) => {
    const path = join(dir, 'model.nmf');
    await writeModel(path, tinyModel());
    const before = readFileSync(path);
    const broken = tinyModel();
    broken.similarityEmbedding = new Float32Array(5);
    await assert.rejects(writeModel(path, broken), ModelFileError);
    assert.ok(readFileSync(path).equals(before));
    assert.deepEqual(readdirSync(dir), ['model.nmf']);

    await assert.rejects(
      writeModel(join(dir, 'missing', 'model.nmf'), tinyModel()),
      (error: Error) => error instanceof ModelFileError && /missing/.test(error.message),
    );
  }),
);

test(
  'readModel names the file when it is missing or not a model',
  withTempDir((dir) => {
    const missing = join(dir, 'nope.nmf');
    assert.throws(
      () => readModel(missing),
      (error: Error) =>
        error instanceof ModelFileError && error.message === `${missing}: no such file`,
    );
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'hello, this is not a model file at all');
    assert.throws(
      () => readModel(text),
      (error: Error) => error instanceof ModelFileError && error.message.includes(text),
    );
    assert.throws(() => readModel(dir), ModelFileError);
  }),
);

test(
  'servingModelPath: MODEL_PATH, else the newest retrained model by name, else default',
  withTempDir((dir) => {
    assert.equal(servingModelPath({ MODEL_PATH: '/srv/a.nmf' }, dir), '/srv/a.nmf');
    assert.equal(
      servingModelPath({ MODEL_PATH: 'rel/a.nmf' }, dir),
      join(process.cwd(), 'rel/a.nmf'),
    );
    assert.equal(servingModelPath({}, dir), DEFAULT_MODEL_PATH);
    assert.equal(servingModelPath({}, join(dir, 'missing')), DEFAULT_MODEL_PATH);
    for (const name of [
      'model-20260101T030000Z.nmf',
      'model-20260102T030000Z.nmf',
      'model-20260103T030000Z.nmf.tmp',
      'notes.nmf',
      'model-2026.nmf',
    ]) {
      writeFileSync(join(dir, name), '');
    }
    assert.equal(servingModelPath({}, dir), join(dir, 'model-20260102T030000Z.nmf'));
    assert.equal(
      servingModelPath({ MODEL_PATH: '  ' }, dir),
      join(dir, 'model-20260102T030000Z.nmf'),
    );
    assert.ok(DEFAULT_MODEL_PATH.endsWith(join('models', 'default.nmf')));
    assert.ok(RETRAINED_MODEL_DIR.endsWith(join('models', 'retrained')));
    assert.equal(
      join(DEFAULT_MODEL_PATH, '..', '..', 'package.json'),
      join(process.cwd(), 'package.json'),
    );
  }),
);

test('the search index is stored: a decoded model searches like a freshly indexed one', () => {
  const model = tinyModel();
  const decoded = decodeModel(encodeModel(model));
  assert.ok(decoded.searchIndex !== undefined, 'a version 2 file carries its index');
  const fresh = buildArtistSearchIndex(model.artists);
  for (const [field, value] of Object.entries(fresh)) {
    const storedField = decoded.searchIndex[field as keyof typeof fresh] as ArrayLike<unknown>;
    assert.deepEqual(Array.from(storedField), Array.from(value), field);
  }
  const stored = new ArtistSearch(decoded.artists, decoded.searchIndex);
  const rebuilt = new ArtistSearch(model.artists);
  for (const query of ['ra', 'radiohed', 'the', 'zzz', 'a', model.artists[3].name]) {
    assert.deepEqual(stored.search(query, 10), rebuilt.search(query, 10), query);
  }
  for (const artist of model.artists) {
    assert.equal(model.artists[stored.rowOfKey(artist.key)!].key, artist.key);
  }
  assert.equal(stored.rowOfKey('no such artist at all'), undefined);
});

test('a version 1 file (no stored index) is still read and indexed on load', () => {
  const path = join(import.meta.dirname, 'fixtures', 'model-v1.nmf');
  const old = readModel(path);
  assert.equal(old.meta.formatVersion, 1);
  assert.equal(old.searchIndex, undefined);
  const expected = tinyModel();
  assert.deepEqual(old.artists, expected.artists);
  assert.deepEqual(Array.from(old.artistFactors), Array.from(expected.artistFactors));

  // The same answers as the model written in the current version.
  const current = new Recommender(decodeModel(encodeModel(expected)));
  const fromOld = new Recommender(old);
  for (const query of ['ra', 'metalica', 'lady']) {
    assert.deepEqual(fromOld.autocomplete(query, 5), current.autocomplete(query, 5), query);
  }
});

test('a stored search index naming rows that do not exist is refused', () => {
  const bytes = encodeModel(tinyModel());
  const length = bytes.readUInt32LE(12);
  const header = JSON.parse(bytes.toString('utf8', 16, 16 + length));
  const forgedSections = [
    'searchTrigramRows',
    'searchByKey',
    'searchKeyBucketStarts',
    'searchWordBucketPairs',
  ];
  for (const name of forgedSections) {
    const section = header.sections.find((entry: { name: string }) => entry.name === name);
    const forged = Buffer.from(bytes);
    forged.writeInt32LE(1_000_000, section.offset);
    const end = forged.length - 4;
    forged.writeUInt32LE(crc32(forged.subarray(0, end)), end);
    assert.throws(
      () => decodeModel(forged, 'forged.nmf'),
      (error: Error) =>
        error instanceof ModelFileError &&
        /forged\.nmf: has a damaged search index/.test(error.message),
      name,
    );
  }
});

/**
 * tinyModel with the entries of W under `cutoff` set to 0 but those at `keep`, as a
 * non-negative factorization leaves them, and its Gram and unit rows to match. With the default
 * cutoff (half of W zero), the model stored in fixtures/model-v2.nmf by the version 2 writer.
 */
function sparseTinyModel(cutoff = 0.07, keep: number[] = []): ModelData {
  const model = tinyModel();
  const k = model.components;
  const n = model.artists.length;
  model.artistFactors = model.artistFactors.map((value, i) =>
    value < cutoff && !keep.includes(i) ? 0 : value,
  );
  model.artistGram = gram(model.artistFactors, n, k);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let c = 0; c < k; c++) norm += model.artistFactors[i * k + c] ** 2;
    norm = Math.sqrt(norm);
    for (let c = 0; c < k; c++) {
      model.similarityEmbedding[i * k + c] = model.artistFactors[i * k + c] / norm;
    }
  }
  return model;
}

/** The bytes of a typed array, to compare floats bit for bit (-0 and NaN included). */
function bitsOf(array: ArrayBufferView): Buffer {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
}

function headerOf(bytes: Buffer): any {
  return JSON.parse(bytes.toString('utf8', 16, 16 + bytes.readUInt32LE(12)));
}

/** Rewrites a file's checksum after a forged change to its body. */
function withChecksum(bytes: Buffer): Buffer {
  const end = bytes.length - 4;
  bytes.writeUInt32LE(crc32(bytes.subarray(0, end)), end);
  return bytes;
}

/** Same similar-artist lists and recommendations from both, for every artist of `a`. */
function assertSameAnswers(a: Recommender, b: Recommender): void {
  const artists = a.data.artists;
  for (const [row, artist] of artists.entries()) {
    assert.deepEqual(a.similarArtists(artist, 10), b.similarArtists(artist, 10), artist.name);
    const taste = [
      { artistKey: artist.key, weight: 3 },
      { artistKey: artists[(row * 7 + 3) % artists.length].key, weight: 1 },
    ];
    assert.deepEqual(a.recommend(taste, 10), b.recommend(taste, 10), artist.name);
  }
}

test('W is stored sparse when that is smaller, dense otherwise, and reads back bit for bit', () => {
  const dense = tinyModel();
  const denseBytes = encodeModel(dense);
  assert.equal(headerOf(denseBytes).artistFactorEncoding, 'dense');
  assertSameModel(decodeModel(denseBytes), dense);

  // One cross-loading, in row 0: three quarters of W are zero.
  const sparse = sparseTinyModel(0.1, [1]);
  // Entries of W whose bits are not +0 are stored, so -0, a subnormal and a NaN (in place of
  // three rows' loadings on their cluster) come back exactly.
  sparse.artistFactors[4] = -0;
  sparse.artistFactors[8] = 1e-45;
  new Uint32Array(sparse.artistFactors.buffer)[20] = 0x7fc00123;
  const sparseBytes = encodeModel(sparse);
  const header = headerOf(sparseBytes);
  assert.equal(header.artistFactorEncoding, 'sparse');
  const sectionNames = header.sections.map((section: { name: string }) => section.name);
  assert.ok(!sectionNames.includes('artistFactors'));
  const values = header.sections.find((s: { name: string }) => s.name === 'artistFactorValues');
  const stored = new Uint32Array(sparse.artistFactors.buffer).filter((bits) => bits !== 0);
  assert.equal(values.byteLength, 4 * stored.length);
  const factorBytes = (h: any) =>
    h.sections
      .filter((s: { name: string }) => s.name.startsWith('artistFactor'))
      .reduce((total: number, s: { byteLength: number }) => total + s.byteLength, 0);
  assert.ok(factorBytes(header) < 4 * sparse.artistFactors.length);

  const decoded = decodeModel(sparseBytes);
  assert.ok(bitsOf(decoded.artistFactors).equals(bitsOf(sparse.artistFactors)));
  assert.ok(bitsOf(decoded.similarityEmbedding).equals(bitsOf(sparse.similarityEmbedding)));
  assert.ok(bitsOf(decoded.artistGram).equals(bitsOf(sparse.artistGram)));
  assert.ok(Object.is(decoded.artistFactors[4], -0));
  assert.deepEqual(decoded.artists, sparse.artists);
  for (const section of header.sections) assert.equal(section.offset % 16, 0, section.name);
});

test(
  'readModel (read in pieces straight into WebAssembly memory) equals decodeModel',
  withTempDir(async (dir) => {
    // About 370 artists with W sparse, so that the file spans several read pieces.
    const model = sparseTinyModel(0.1, [1]);
    const copies = 12;
    const n = model.artists.length;
    const k = model.components;
    const big: ModelData = {
      ...model,
      artists: Array.from({ length: copies * n }, (_, i) => {
        const artist = model.artists[i % n];
        const suffix = i < n ? '' : ` ${Math.floor(i / n)}`;
        return { ...artist, id: i + 1, name: artist.name + suffix, key: artist.key + suffix };
      }),
      artistFactors: new Float32Array(copies * n * k),
      similarityEmbedding: new Float32Array(copies * n * k),
    };
    for (let c = 0; c < copies; c++) {
      big.artistFactors.set(model.artistFactors, c * n * k);
      big.similarityEmbedding.set(model.similarityEmbedding, c * n * k);
    }
    const path = join(dir, 'big.nmf');
    await writeModel(path, big);
    assert.equal(headerOf(readFileSync(path)).artistFactorEncoding, 'sparse');
    const fromFile = readModel(path);
    const fromBytes = decodeModel(readFileSync(path));
    assert.ok(readFileSync(path).length > 262_144);
    assert.ok(bitsOf(fromFile.artistFactors).equals(bitsOf(big.artistFactors)));
    assert.ok(bitsOf(fromFile.similarityEmbedding).equals(bitsOf(big.similarityEmbedding)));
    assert.deepEqual(fromFile.artists, big.artists);
    assert.deepEqual(fromFile.artists, fromBytes.artists);
    assert.deepEqual(fromFile.searchIndex, fromBytes.searchIndex);

    // A flipped bit anywhere, or a cut, is refused by readModel too.
    const bytes = readFileSync(path);
    for (const position of [bytes.length - 10, Math.floor(bytes.length / 2), 300_000]) {
      const corrupt = Buffer.from(bytes);
      corrupt[position] ^= 0x01;
      writeFileSync(path, corrupt);
      assert.throws(() => readModel(path), /big\.nmf: is corrupt \(checksum mismatch\)/);
    }
    for (const length of [12, 100, bytes.length - 4, bytes.length - 1]) {
      writeFileSync(path, bytes.subarray(0, length));
      assert.throws(() => readModel(path), /big\.nmf: is .*(truncated|too short)/, `${length}`);
    }
  }),
);

test('damaged sparse artist factors are refused with a clear message', () => {
  const bytes = encodeModel(sparseTinyModel(0.1, [1]));
  const header = headerOf(bytes);
  const section = (name: string) =>
    header.sections.find((entry: { name: string }) => entry.name === name);
  const refuses = (buffer: Buffer, pattern: RegExp) =>
    assert.throws(
      () => decodeModel(buffer, 'sparse.nmf'),
      (error: Error) =>
        error instanceof ModelFileError &&
        error.message.startsWith('sparse.nmf: ') &&
        pattern.test(error.message),
    );

  const counts = section('artistFactorCounts').offset;
  const more = Buffer.from(bytes);
  more.writeUInt16LE(bytes.readUInt16LE(counts) + 1, counts);
  refuses(withChecksum(more), /damaged sparse artist factors \(row \d+ has column/);
  const lastCount = counts + 2 * (header.artists - 1);
  const fewer = Buffer.from(bytes);
  fewer.writeUInt16LE(bytes.readUInt16LE(lastCount) - 1, lastCount);
  refuses(withChecksum(fewer), /damaged sparse artist factors \(1 entries belong to no row\)/);

  // The first row with two entries: its second column made equal to its first, then too wide.
  let row = 0;
  let start = 0;
  while (bytes.readUInt16LE(counts + 2 * row) < 2) start += bytes.readUInt16LE(counts + 2 * row++);
  const columns = section('artistFactorColumns').offset + start;
  const unordered = Buffer.from(bytes);
  unordered[columns + 1] = unordered[columns];
  refuses(withChecksum(unordered), new RegExp(`row ${row} has column \\d out of order or past 4`));
  const wide = Buffer.from(bytes);
  wide[columns + 1] = 4;
  refuses(withChecksum(wide), new RegExp(`row ${row} has column 4 out of order or past 4`));

  refuses(
    withHeader(bytes, (h) => {
      h.sections.find((entry: { name: string }) => entry.name === 'artistFactorValues')
        .byteLength -= 4;
    }),
    /sparse artist factors hold \d+ bytes of columns and \d+ bytes of values/,
  );
  refuses(
    withHeader(bytes, (h) => {
      h.artistFactorEncoding = 'dense';
    }),
    /has no "artistFactors" section/,
  );
  refuses(bytes.subarray(0, bytes.length - 40), /truncated/);
});

test('a version 2 file is still read, and answers as the same model written as version 3', () => {
  const path = join(import.meta.dirname, 'fixtures', 'model-v2.nmf');
  const old = readModel(path);
  assert.equal(old.meta.formatVersion, 2);
  assert.ok(old.searchIndex !== undefined);
  const expected = sparseTinyModel();
  assert.deepEqual(old.artists, expected.artists);
  assert.ok(bitsOf(old.artistFactors).equals(bitsOf(expected.artistFactors)));
  assert.ok(bitsOf(old.artistGram).equals(bitsOf(expected.artistGram)));
  assert.ok(bitsOf(old.similarityEmbedding).equals(bitsOf(expected.similarityEmbedding)));

  const rewritten = encodeModel(old);
  const current = decodeModel(rewritten);
  assert.equal(current.meta.formatVersion, MODEL_FORMAT_VERSION);
  assertSameAnswers(new Recommender(old), new Recommender(current));
  for (const query of ['ra', 'metalica', 'lady', '東方']) {
    assert.deepEqual(
      new Recommender(old).autocomplete(query, 5),
      new Recommender(current).autocomplete(query, 5),
    );
  }
});

test('the shipped model rewritten in the current version keeps every bit and every answer', () => {
  const shipped = readModel(DEFAULT_MODEL_PATH);
  const rewritten = decodeModel(encodeModel(shipped));
  assert.ok(bitsOf(rewritten.artistFactors).equals(bitsOf(shipped.artistFactors)));
  assert.ok(bitsOf(rewritten.artistGram).equals(bitsOf(shipped.artistGram)));
  assert.ok(bitsOf(rewritten.similarityEmbedding).equals(bitsOf(shipped.similarityEmbedding)));
  assert.deepEqual(rewritten.artists, shipped.artists);

  // Answers for a spread of artists (all 6,958 would take a few seconds).
  const a = new Recommender(shipped);
  const b = new Recommender(rewritten);
  const artists = shipped.artists;
  for (let row = 0; row < artists.length; row += 97) {
    const artist = artists[row];
    assert.deepEqual(a.similarArtists(artist, 10), b.similarArtists(artist, 10), artist.name);
    const taste = [
      { artistKey: artist.key, weight: 5 },
      { artistKey: artists[(row * 31 + 11) % artists.length].key, weight: 2 },
    ];
    assert.deepEqual(a.recommend(taste, 10), b.recommend(taste, 10), artist.name);
  }
});

test('a version 3 file is still read, and answers as the same model written as version 4', () => {
  const path = join(import.meta.dirname, 'fixtures', 'model-v3.nmf');
  const old = readModel(path);
  assert.equal(old.meta.formatVersion, 3);
  assert.ok(old.searchIndex !== undefined);
  const expected = sparseTinyModel(0.1, [1]);
  expected.artists[0] = { ...expected.artists[0], url: null, tags: [] };
  assert.deepEqual(old.artists, expected.artists);
  assert.ok(bitsOf(old.artistFactors).equals(bitsOf(expected.artistFactors)));
  assert.ok(bitsOf(old.similarityEmbedding).equals(bitsOf(expected.similarityEmbedding)));

  const current = decodeModel(encodeModel(old));
  assert.equal(current.meta.formatVersion, MODEL_FORMAT_VERSION);
  assertSameAnswers(new Recommender(old), new Recommender(current));
});

test('artists of a version 4 file are made when asked for and equal the records written', () => {
  for (const path of ['model-v1.nmf', 'model-v2.nmf', 'model-v3.nmf']) {
    const old = readModel(join(import.meta.dirname, 'fixtures', path));
    const current = decodeModel(encodeModel(old));
    const table = artistTableOf(current);
    assert.equal(artistCount(current), old.artists.length);

    // Every artist, asked for in a scattered order before the array is made, then the array.
    const n = old.artists.length;
    for (let i = 0; i < n; i++) {
      const row = (i * 17) % n;
      assert.deepEqual(table.artist(row), old.artists[row], `${path} row ${row}`);
      assert.equal(table.key(row), old.artists[row].key);
      assert.equal(table.listeners[row], old.artists[row].listeners);
      assert.equal(table.ids[row], old.artists[row].id);
    }
    assert.deepEqual(current.artists, old.artists);
    assert.equal(table.artist(5), current.artists[5], 'one record per artist');
    assert.equal(current.artists, current.artists, 'one array');
    assert.throws(() => {
      current.artists[0] = old.artists[1];
    }, TypeError);

    // A copy of the model serves from its own records.
    const copy = { ...current, artists: current.artists.slice(1) };
    assert.equal(artistTableOf(copy).size, n - 1);
  }
});

test('version 4 artist columns whose starts disagree with their text are refused', () => {
  const bytes = encodeModel(tinyModel());
  const header = headerOf(bytes);
  const section = (name: string) =>
    header.sections.find((entry: { name: string }) => entry.name === name);
  const refuses = (buffer: Buffer, pattern: RegExp) =>
    assert.throws(
      () => decodeModel(buffer, 'text.nmf'),
      (error: Error) =>
        error instanceof ModelFileError &&
        error.message.startsWith('text.nmf: ') &&
        pattern.test(error.message),
    );

  // A start moved past the next one, a first start that is not 0, a last one short of the end.
  const keyStarts = section('artistKeyStarts').offset;
  const backwards = Buffer.from(bytes);
  backwards.writeUInt32LE(bytes.readUInt32LE(keyStarts + 12) + 1, keyStarts + 8);
  refuses(withChecksum(backwards), /artist key starts do not cover the \d+ code units/);
  const textStarts = section('artistTextStarts').offset;
  const late = Buffer.from(bytes);
  late.writeUInt32LE(1, textStarts);
  refuses(withChecksum(late), /artist text starts do not cover the \d+ bytes/);
  const short = Buffer.from(bytes);
  const last = textStarts + 4 * 3 * header.artists;
  short.writeUInt32LE(bytes.readUInt32LE(last) - 1, last);
  refuses(withChecksum(short), /artist text starts do not cover/);

  // A flipped bit in the text is caught by the checksum, before any artist is made.
  const flipped = Buffer.from(bytes);
  flipped[section('artistText').offset + 3] ^= 0x20;
  refuses(flipped, /checksum mismatch/);
});
