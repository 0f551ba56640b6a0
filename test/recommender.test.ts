import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { foldIn } from '../src/model/foldIn.ts';
import { lookupKey } from '../src/model/lookupKey.ts';
import { ModelFileError, writeModel } from '../src/model/modelFile.ts';
import { NEIGHBOUR_BLEND, Recommender, tasteWeights } from '../src/model/recommender.ts';
import { BM25_B, BM25_K1 } from '../src/model/weighting.ts';
import type { ModelData } from '../src/model/types.ts';
import { TINY_ARTIST_COUNT, TINY_CLUSTERS, tinyModel } from './support/tinyModel.ts';

const GENRE = new Map(TINY_CLUSTERS.flatMap((c) => c.artists.map(([name]) => [name, c.genre])));

/** Cosine between two artists computed from W in float64, independent of the stored embedding. */
function factorCosine(model: ModelData, a: number, b: number): number {
  const k = model.components;
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let c = 0; c < k; c++) {
    dot += model.artistFactors[a * k + c] * model.artistFactors[b * k + c];
    normA += model.artistFactors[a * k + c] ** 2;
    normB += model.artistFactors[b * k + c] ** 2;
  }
  return dot / Math.sqrt(normA * normB);
}

/**
 * The recommendation score of every artist, computed here in float64 from the fold-in vector u
 * and the embedding: (1 - b) W u / max(W u) + b E e / max(E e), e = the sum of the taste rows of
 * E, b = NEIGHBOUR_BLEND. Taste rows included (the maxima run over all artists).
 */
function blendedScores(model: ModelData, u: ArrayLike<number>, tasteRows: number[]): number[] {
  const k = model.components;
  const n = model.artists.length;
  const foldInScores: number[] = [];
  const neighbourScores: number[] = [];
  for (let row = 0; row < n; row++) {
    let prediction = 0;
    let neighbour = 0;
    for (let c = 0; c < k; c++) prediction += model.artistFactors[row * k + c] * u[c];
    const embedding = model.similarityEmbedding;
    for (const taste of tasteRows) {
      for (let c = 0; c < k; c++) neighbour += embedding[row * k + c] * embedding[taste * k + c];
    }
    foldInScores.push(Math.max(0, prediction));
    neighbourScores.push(Math.max(0, neighbour));
  }
  const foldInMax = Math.max(...foldInScores);
  const neighbourMax = Math.max(...neighbourScores);
  return foldInScores.map(
    (score, row) =>
      ((1 - NEIGHBOUR_BLEND) * score) / foldInMax +
      (NEIGHBOUR_BLEND * neighbourScores[row]) / neighbourMax,
  );
}

/** A model of n artists with random non-negative factors and unit-row embedding. */
function randomModel(n: number, k: number, seed: number): ModelData {
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const model = tinyModel();
  const W = new Float32Array(n * k);
  for (let i = 0; i < W.length; i++) W[i] = random() < 0.5 ? 0 : random();
  const embedding = new Float32Array(n * k);
  const gram = new Float64Array(k * k);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let c = 0; c < k; c++) norm += W[i * k + c] ** 2;
    for (let c = 0; c < k; c++)
      embedding[i * k + c] = norm > 0 ? W[i * k + c] / Math.sqrt(norm) : 0;
    for (let a = 0; a < k; a++)
      for (let b = 0; b < k; b++) gram[a * k + b] += W[i * k + a] * W[i * k + b];
  }
  model.artists = Array.from({ length: n }, (_, i) => ({
    id: 5000 + i,
    name: `Artist ${i}`,
    key: `artist ${i}`,
    listeners: Math.floor(random() * 20),
    tags: [],
    url: null,
  }));
  model.components = k;
  model.artistFactors = W;
  model.artistGram = gram;
  model.similarityEmbedding = embedding;
  model.meta.parameters.components = k;
  return model;
}

test('lookups by key and by id', () => {
  const recommender = new Recommender(tinyModel());
  assert.equal(recommender.artistCount, TINY_ARTIST_COUNT);
  assert.equal(recommender.meta.iterations, 42);
  assert.equal(recommender.artistByKey('beyonce')?.name, 'Beyoncé');
  assert.equal(recommender.artistByKey('Beyoncé'), undefined, 'artistByKey takes keys, not names');
  assert.equal(recommender.artistById(1001)?.name, 'Drake');
  assert.equal(recommender.artistById(0), undefined);
});

test('similar artists: same genre first, self excluded, scores match an independent cosine', () => {
  const model = tinyModel();
  const recommender = new Recommender(model);
  for (const name of ['Drake', 'Radiohead', 'Metallica', '東方神起']) {
    const artist = recommender.resolve(name).artist!;
    const genre = GENRE.get(name)!;
    const clusterSize = TINY_CLUSTERS.find((c) => c.genre === genre)!.artists.length;
    const similar = recommender.similarArtists(artist, clusterSize - 1);
    assert.equal(similar.length, clusterSize - 1);
    const row = model.artists.indexOf(artist);
    for (const [position, result] of similar.entries()) {
      assert.notEqual(result.artist, artist);
      assert.equal(GENRE.get(result.artist.name), genre, `${name} -> ${result.artist.name}`);
      const other = model.artists.indexOf(result.artist);
      const cosine = factorCosine(model, row, other);
      const n = result.artist.listeners;
      assert.ok(Math.abs(result.similarity - cosine) < 1e-5);
      assert.ok(Math.abs(result.score - (cosine * n) / (n + 3)) < 1e-5);
      assert.ok(result.similarity >= 0 && result.similarity <= 1);
      if (position > 0) assert.ok(similar[position - 1].score >= result.score);
    }
  }
});

test('similar artists: top-k selection equals a full sort on a random model', () => {
  const model = randomModel(600, 6, 3);
  const recommender = new Recommender(model);
  for (const row of [0, 17, 333, 599]) {
    const reference = model.artists
      .map((artist, other) => {
        const cosine =
          model.artists.length && other !== row
            ? Array.from(
                { length: 6 },
                (_, c) =>
                  model.similarityEmbedding[row * 6 + c] * model.similarityEmbedding[other * 6 + c],
              ).reduce((a, b) => a + b, 0)
            : 0;
        return { other, score: (cosine * artist.listeners) / (artist.listeners + 3), cosine };
      })
      .filter((entry) => entry.other !== row && entry.cosine > 0)
      .sort((a, b) => b.score - a.score || a.other - b.other)
      .slice(0, 25);
    const similar = recommender.similarArtists(model.artists[row], 25);
    assert.deepEqual(
      similar.map((s) => s.artist.id),
      reference.map((r) => 5000 + r.other),
    );
    for (const [i, s] of similar.entries())
      assert.ok(Math.abs(s.score - reference[i].score) < 1e-6);
  }
});

test('similar artists: edge counts and foreign artists', () => {
  const model = tinyModel();
  const recommender = new Recommender(model);
  const drake = recommender.artistByKey('drake')!;
  assert.deepEqual(recommender.similarArtists(drake, 0), []);
  assert.deepEqual(recommender.similarArtists(drake, -3), []);
  assert.deepEqual(recommender.similarArtists(drake, Number.NaN), []);
  assert.equal(recommender.similarArtists(drake, 1000).length, TINY_ARTIST_COUNT - 1);
  assert.equal(recommender.similarArtists(drake, 2.7).length, 2);
  // An equal artist object from another load of the model is found by key.
  assert.equal(recommender.similarArtists({ ...drake }, 3).length, 3);
  const stranger = { ...drake, key: 'nobody at all' };
  assert.deepEqual(recommender.similarArtists(stranger, 3), []);
});

test('recommend: picks from the taste genre, never the taste itself, ranked by the blend', () => {
  const model = tinyModel();
  const recommender = new Recommender(model);
  const taste = [
    { artistKey: 'metallica', weight: 3 },
    { artistKey: 'slayer', weight: 1 },
  ];
  const picks = recommender.recommend(taste, 5);
  assert.equal(picks.length, 5);
  for (const pick of picks) {
    assert.equal(GENRE.get(pick.artist.name), 'metal');
    assert.ok(!['Metallica', 'Slayer'].includes(pick.artist.name));
  }

  // Against scores computed here from the fold-in vector and the embedding, with a full sort.
  const rows = ['Metallica', 'Slayer'].map((name) =>
    model.artists.findIndex((a) => a.name === name),
  );
  const u = foldIn(model, [
    { index: rows[0], weight: Math.log1p(3) },
    { index: rows[1], weight: Math.log1p(1) },
  ]);
  const blended = blendedScores(model, u, rows);
  const expected = model.artists
    .map((artist, row) => ({ artist, score: blended[row] }))
    .filter((entry) => !rows.includes(model.artists.indexOf(entry.artist)))
    .sort((a, b) => b.score - a.score)
    .slice(0, 5);
  assert.deepEqual(
    picks.map((p) => p.artist.name),
    expected.map((e) => e.artist.name),
  );
  for (const [i, pick] of picks.entries()) {
    assert.ok(Math.abs(pick.score - expected[i].score) < 1e-9);
  }
});

test('recommend: "because" names the taste artist the pick most resembles', () => {
  const recommender = new Recommender(tinyModel());
  const single = recommender.recommend([{ artistKey: 'drake', weight: 1 }], 4);
  assert.ok(single.every((pick) => pick.because.name === 'Drake'));

  const mixed = recommender.recommend(
    [
      { artistKey: 'metallica', weight: 1 },
      { artistKey: 'radiohead', weight: 1 },
    ],
    TINY_ARTIST_COUNT,
  );
  const seen = new Set<string>();
  for (const pick of mixed) {
    const genre = GENRE.get(pick.artist.name);
    if (genre === 'metal') assert.equal(pick.because.name, 'Metallica');
    if (genre === 'alternative') assert.equal(pick.because.name, 'Radiohead');
    seen.add(genre!);
  }
  assert.ok(seen.has('metal') && seen.has('alternative'));
});

test('recommend: unknown keys and bad weights are ignored; nothing known gives []', () => {
  const recommender = new Recommender(tinyModel());
  assert.deepEqual(recommender.recommend([], 5), []);
  assert.deepEqual(recommender.recommend([{ artistKey: 'nobody', weight: 1 }], 5), []);
  assert.deepEqual(recommender.recommend([{ artistKey: 'drake', weight: 0 }], 5), []);
  assert.deepEqual(recommender.recommend([{ artistKey: 'drake', weight: Number.NaN }], 5), []);
  assert.deepEqual(recommender.recommend([{ artistKey: 'drake', weight: 1 }], 0), []);

  const clean = recommender.recommend([{ artistKey: 'drake', weight: 1 }], 5);
  const noisy = recommender.recommend(
    [
      { artistKey: 'nobody', weight: 5 },
      { artistKey: 'drake', weight: 1 },
      { artistKey: 'metallica', weight: -2 },
    ],
    5,
  );
  assert.deepEqual(noisy, clean);

  // Duplicates add up.
  const twice = recommender.recommend(
    [
      { artistKey: 'drake', weight: 1 },
      { artistKey: 'drake', weight: 1 },
    ],
    5,
  );
  const double = recommender.recommend([{ artistKey: 'drake', weight: 2 }], 5);
  assert.deepEqual(twice, double);
  assert.equal(
    recommender.recommend([{ artistKey: 'drake', weight: 1 }], 1000).length,
    TINY_ARTIST_COUNT - 1,
  );
});

test('taste weights follow the training weighting', () => {
  const context = { artists: 1000, listeners: [10, 40], meanListeners: 20 };
  assert.deepEqual(tasteWeights([1, 3], 'raw', context), [1, 3]);
  assert.deepEqual(tasteWeights([1, 3], 'log1p', context), [Math.log1p(1), Math.log1p(3)]);
  assert.deepEqual(tasteWeights([1, 4], 'user-max', context), [0.25, 1]);

  // bm25 as written out in src/model/weighting.ts, listeners standing in for row sums.
  const bm25 = tasteWeights([1, 4], 'bm25', context);
  const idf = Math.log(1000) - Math.log(3);
  const norms = [1 - BM25_B + BM25_B * 0.5, 1 - BM25_B + BM25_B * 2];
  const saturate = (w: number, norm: number) => (w * (BM25_K1 + 1)) / (BM25_K1 * norm + w);
  assert.ok(Math.abs(bm25[0] - saturate(1, norms[0]) * idf) < 1e-12);
  assert.ok(Math.abs(bm25[1] - saturate(4, norms[1]) * idf) < 1e-12);
  const equal = tasteWeights([1, 1], 'bm25', context);
  assert.ok(equal[0] > equal[1], 'the more listened artist weighs less, as in training');
});

test('recommend uses the bm25 taste weights for models trained with bm25', () => {
  const model = tinyModel();
  model.meta.parameters.weighting = 'bm25';
  const recommender = new Recommender(model);
  const taste = [
    { artistKey: 'drake', weight: 1 },
    { artistKey: 'metallica', weight: 1 },
  ];
  const picks = recommender.recommend(taste, 3);
  const rows = ['Drake', 'Metallica'].map((name) =>
    model.artists.findIndex((a) => a.name === name),
  );
  const mean = model.artists.reduce((sum, a) => sum + a.listeners, 0) / model.artists.length;
  const weights = tasteWeights([1, 1], 'bm25', {
    artists: model.artists.length,
    listeners: rows.map((row) => model.artists[row].listeners),
    meanListeners: mean,
  });
  const u = foldIn(
    model,
    rows.map((index, i) => ({ index, weight: weights[i] })),
  );
  const blended = blendedScores(model, u, rows);
  const best = model.artists
    .map((artist, row) => ({ artist, row, score: blended[row] }))
    .filter((entry) => !rows.includes(entry.row))
    .sort((a, b) => b.score - a.score)
    .slice(0, 3);
  assert.deepEqual(
    picks.map((p) => p.artist.name),
    best.map((b) => b.artist.name),
  );
});

test('resolve: exact keys in any spelling, suggestions otherwise, never a throw', () => {
  const recommender = new Recommender(tinyModel());
  for (const [typed, name] of [
    ['drake', 'Drake'],
    ['BEYONCE', 'Beyoncé'],
    ['sigur ros', 'Sigur Rós'],
    ['National', 'The National'],
    ['東方神起', '東方神起'],
    ['@everyone', '@everyone'],
    ['  motorhead ', 'Motörhead'],
  ]) {
    assert.equal(recommender.resolve(typed).artist?.name, name, typed);
  }

  const typo = recommender.resolve('Metalica');
  assert.equal(typo.artist, undefined);
  assert.equal((typo as { suggestions: { name: string }[] }).suggestions[0].name, 'Metallica');

  const odd = [
    '',
    '   ',
    '🎵',
    '\u200b',
    'x'.repeat(10_000),
    '\ud83d',
    '\u0000',
    '<@&123>',
    'Drake'.repeat(3000),
    undefined as unknown as string,
    null as unknown as string,
  ];
  for (const text of odd) {
    const result = recommender.resolve(text);
    if (result.artist === undefined) assert.ok(result.suggestions.length <= 5);
  }
  assert.deepEqual(recommender.resolve('🎵'), { artist: undefined, suggestions: [] });
});

test('resolve finds artists whose key is empty by their name', () => {
  const model = tinyModel();
  model.artists[5] = { ...model.artists[5], name: '!!!', key: lookupKey('!!!') };
  const recommender = new Recommender(model);
  assert.equal(recommender.resolve('!!!').artist?.name, '!!!');
  assert.equal(recommender.resolve('???').artist, undefined);
});

test('autocomplete: most listened for an empty query, prefixes, typos, capped at 25', () => {
  const model = tinyModel();
  const recommender = new Recommender(model);
  const byListeners = [...model.artists].sort((a, b) => b.listeners - a.listeners);
  assert.deepEqual(
    recommender.autocomplete('', 5).map((a) => a.name),
    byListeners.slice(0, 5).map((a) => a.name),
  );
  assert.deepEqual(recommender.autocomplete('   ').length, 25);
  assert.equal(recommender.autocomplete('', 100).length, 25);
  assert.deepEqual(recommender.autocomplete('', 0), []);
  assert.deepEqual(
    recommender
      .autocomplete('m')
      .map((a) => a.name)
      .slice(0, 4),
    ['Metallica', 'Muse', 'Madonna', 'Megadeth'],
  );
  assert.deepEqual(
    recommender.autocomplete('gaga').map((a) => a.name),
    ['Lady Gaga'],
  );
  assert.equal(recommender.autocomplete('radiohed')[0]?.name, 'Radiohead');
  assert.ok(Array.isArray(recommender.autocomplete('x'.repeat(10_000))));
});

test('load reads a model file; a bad path is a ModelFileError', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'recommender-'));
  try {
    const path = join(dir, 'tiny.nmf');
    await writeModel(path, tinyModel());
    const recommender = Recommender.load(path);
    assert.equal(recommender.artistCount, TINY_ARTIST_COUNT);
    assert.equal(recommender.similarArtists(recommender.artistByKey('drake')!, 3).length, 3);
    assert.throws(() => Recommender.load(join(dir, 'missing.nmf')), ModelFileError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cached neighbour lists are the lists a fresh ranking gives', () => {
  const recommender = new Recommender(tinyModel());
  const fresh = new Recommender(tinyModel());
  for (const artist of recommender.data.artists) {
    const ten = recommender.similarArtists(artist, 10);
    const again = recommender.similarArtists(artist, 10);
    assert.deepEqual(again, ten);
    // More than the cached 25 bypasses the cache; its head must agree with the cached list.
    const long = fresh.similarArtists(artist, 30);
    assert.deepEqual(recommender.similarArtists(artist, 25), long.slice(0, 25));
    assert.deepEqual(ten, long.slice(0, 10));
  }
});
