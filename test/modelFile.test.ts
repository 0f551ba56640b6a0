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
    /has no "searchTrigramRows" section/,
  );
  refuses(
    withHeader(bytes, (h) => {
      h.sections[3].offset += 4;
    }),
    /offset|expected|truncated/,
  );
  refuses(
    withHeader(bytes, (h) => {
      h.sections[2].byteLength -= 1;
    }),
    /fields|offset/,
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
  for (const name of ['searchTrigramRows', 'searchByKey', 'searchKeyBucketStarts']) {
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
