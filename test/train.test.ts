import { test } from 'node:test';
import assert from 'node:assert/strict';

import { buildCsr } from '../src/model/sparse.ts';
import type { ListeningData, TrainingParameters } from '../src/model/types.ts';
import {
  DEFAULT_FOLD_IN,
  DEFAULT_PARAMETERS,
  defaultFoldIn,
  filterListening,
  FROBENIUS_PARAMETERS,
  trainModel,
  validateParameters,
} from '../src/model/train.ts';
import { seededRandom } from '../src/model/random.ts';

const CLUSTERS = 3;
const ARTISTS_PER_CLUSTER = 8;

/**
 * Planted clusters: users of cluster c play most artists of cluster c and nothing else. Two extra
 * artists have a single listener (filtered out at minListeners 2), and the last user listens only
 * to one of them (so is left with nothing after filtering).
 */
function plantedData(seed: number): ListeningData {
  const random = seededRandom(seed);
  const users = 60;
  const rows: number[] = [];
  const columns: number[] = [];
  const values: number[] = [];
  for (let user = 0; user < users; user++) {
    const cluster = user % CLUSTERS;
    for (let a = 0; a < ARTISTS_PER_CLUSTER; a++) {
      if (random() < 0.7) {
        rows.push(cluster * ARTISTS_PER_CLUSTER + a);
        columns.push(user);
        values.push(1 + Math.floor(random() * 200));
      }
    }
  }
  const lonely = CLUSTERS * ARTISTS_PER_CLUSTER;
  rows.push(lonely, lonely + 1);
  columns.push(0, users);
  values.push(5, 9);

  const artistCount = lonely + 2;
  return {
    artists: Array.from({ length: artistCount }, (_, id) => ({
      id: 100 + id, name: `Artist ${id}`, key: `artist ${id}`, tags: [], url: null,
    })),
    users: Array.from({ length: users + 1 }, (_, user) => `u${user}`),
    counts: buildCsr(artistCount, users + 1, rows, columns, values),
    source: 'planted',
  };
}

/** The Frobenius (HALS) solver; the implicit one is tested in implicitNmf.test.ts. */
const SMALL: TrainingParameters = {
  ...DEFAULT_PARAMETERS,
  solver: 'frobenius',
  confidence: undefined,
  components: 3,
  weighting: 'log1p',
  maxIterations: 300,
  tolerance: 1e-7,
  l1Artist: 0,
  l2Artist: 0,
  l1User: 0,
  l2User: 0,
  minListeners: 2,
  seed: 5,
};

test('filterListening drops rare artists, then users left with nothing', () => {
  const data = plantedData(1);
  const filtered = filterListening(data, 2);
  assert.equal(filtered.artists.length, CLUSTERS * ARTISTS_PER_CLUSTER);
  assert.equal(filtered.users.length, 60);
  assert.ok(!filtered.users.includes('u60'));
  assert.equal(filtered.counts.rows, filtered.artists.length);
  assert.equal(filtered.counts.columns, filtered.users.length);
});

test('trainModel: nearest neighbours in the embedding share the planted cluster', async () => {
  const model = await trainModel(plantedData(2), SMALL, { threads: 1 });
  const k = model.components;
  const n = model.artists.length;
  assert.equal(n, CLUSTERS * ARTISTS_PER_CLUSTER);
  const clusterOf = (row: number) =>
    Math.floor((model.artists[row].id - 100) / ARTISTS_PER_CLUSTER);

  for (let row = 0; row < n; row++) {
    const similarities: { other: number; cosine: number }[] = [];
    for (let other = 0; other < n; other++) {
      if (other === row) continue;
      let dot = 0;
      for (let c = 0; c < k; c++) {
        dot += model.similarityEmbedding[row * k + c] * model.similarityEmbedding[other * k + c];
      }
      similarities.push({ other, cosine: dot });
    }
    similarities.sort((a, b) => b.cosine - a.cosine);
    const nearest = similarities.slice(0, ARTISTS_PER_CLUSTER - 1);
    for (const { other } of nearest) assert.equal(clusterOf(other), clusterOf(row));
  }
});

test('trainModel: Gram matrix, listeners and header match independent computations', async () => {
  const data = plantedData(3);
  const model = await trainModel(data, SMALL, { threads: 1, foldIn: { l1: 0.5, l2: 2 } });
  const k = model.components;
  const n = model.artists.length;

  for (let s = 0; s < k; s++) {
    for (let t = 0; t < k; t++) {
      let expected = 0;
      for (let row = 0; row < n; row++) {
        expected += model.artistFactors[row * k + s] * model.artistFactors[row * k + t];
      }
      assert.ok(Math.abs(model.artistGram[s * k + t] - expected) <= 1e-6 * Math.max(1, expected));
    }
  }
  for (let row = 0; row < n; row++) {
    let norm = 0;
    for (let c = 0; c < k; c++) norm += model.similarityEmbedding[row * k + c] ** 2;
    assert.ok(Math.abs(norm - 1) < 1e-4);
    const artistRow = model.artists[row].id - 100;
    const listeners = data.counts.rowPointers[artistRow + 1] - data.counts.rowPointers[artistRow];
    assert.equal(model.artists[row].listeners, listeners);
  }

  assert.equal(model.meta.data.artists, n);
  assert.equal(model.meta.data.users, 60);
  assert.equal(model.meta.data.source, 'planted');
  assert.deepEqual(model.meta.foldIn, { l1: 0.5, l2: 2 });
  assert.deepEqual(model.meta.parameters, SMALL);
  assert.ok(model.meta.iterations >= 1 && model.meta.iterations <= SMALL.maxIterations);
  assert.ok(Number.isFinite(model.meta.objective) && model.meta.objective > 0);
  assert.ok(!Number.isNaN(Date.parse(model.meta.createdAt)));
});

test('trainModel: the same seed gives the same factors', async () => {
  const data = plantedData(4);
  const first = await trainModel(data, { ...SMALL, maxIterations: 40 }, { threads: 1 });
  const second = await trainModel(data, { ...SMALL, maxIterations: 40 }, { threads: 1 });
  assert.deepEqual(first.artistFactors, second.artistFactors);
});

test('trainModel rejects bad parameters with a clear RangeError', async () => {
  const data = plantedData(5);
  const cases: [Partial<TrainingParameters>, RegExp][] = [
    [{ components: 0 }, /components must be a whole number >= 1/],
    [{ components: 2.5 }, /components/],
    [{ components: 61 }, /components \(61\) must be at most min\(artists, users\)/],
    [{ maxIterations: 0 }, /maxIterations/],
    [{ tolerance: -1 }, /tolerance/],
    [{ l2Artist: -0.1 }, /l2Artist must be a number >= 0/],
    [{ l1User: Number.NaN }, /l1User/],
    [{ minListeners: 0 }, /minListeners/],
    [{ weighting: 'tfidf' as never }, /weighting must be one of/],
    [{ minListeners: 1000 }, /nothing left to train on/],
  ];
  for (const [change, message] of cases) {
    await assert.rejects(trainModel(data, { ...SMALL, ...change }), (error: unknown) => {
      assert.ok(error instanceof RangeError, `${JSON.stringify(change)} gave ${String(error)}`);
      assert.match(error.message, message);
      return true;
    });
  }
  await assert.rejects(trainModel(data, SMALL, { foldIn: { l1: -1, l2: 0 } }), /fold-in l1/);
});

test('the defaults are valid, and each solver gets its own fold-in penalties', () => {
  validateParameters(DEFAULT_PARAMETERS);
  validateParameters(FROBENIUS_PARAMETERS);
  assert.equal(DEFAULT_PARAMETERS.solver, 'implicit');
  assert.deepEqual(DEFAULT_FOLD_IN, { l1: 0, l2: DEFAULT_PARAMETERS.l2User });
  assert.deepEqual(defaultFoldIn(FROBENIUS_PARAMETERS), { l1: 0, l2: 100_000 });
  assert.deepEqual(defaultFoldIn({ ...FROBENIUS_PARAMETERS, solver: undefined }), {
    l1: 0,
    l2: 100_000,
  });
});
