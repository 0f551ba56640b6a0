/**
 * The checks a retrained model must pass before it is served (src/retrain/validateModel.ts),
 * and the start-up choice of model (src/retrain/prepare.ts), on model files written from the
 * tiny test model: no worker, no database.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { writeModel } from '../src/model/modelFile.ts';
import { Recommender } from '../src/model/recommender.ts';
import type { ModelData } from '../src/model/types.ts';
import { prepareServingModel } from '../src/retrain/prepare.ts';
import type { HeldOutCase } from '../src/retrain/protocol.ts';
import {
  checkCandidate,
  COLLAPSED_MEAN_COSINE,
  findNumericalProblem,
  MIN_CATALOGUE_RATIO,
  hitRate,
  meanPairCosine,
} from '../src/retrain/validateModel.ts';
import { recordingLogger } from './support/retrainFixture.ts';
import { TINY_CLUSTERS, tinyModel } from './support/tinyModel.ts';

/** For every artist of every cluster: the other artists of its cluster as profile, it hidden. */
function withinClusterCases(model: ModelData): HeldOutCase[] {
  const cases: HeldOutCase[] = [];
  const keyOf = (name: string) => model.artists.find((artist) => artist.name === name)?.key ?? '';
  for (const cluster of TINY_CLUSTERS) {
    const names = cluster.artists.map(([name]) => name);
    for (const hidden of names) {
      cases.push({
        profile: names
          .filter((name) => name !== hidden)
          .map((name) => ({ artistKey: keyOf(name), weight: 1 })),
        hidden: keyOf(hidden),
      });
    }
  }
  return cases;
}

/** The tiny model with artist rows permuted (row -> 7 row + 3 mod 31, 31 prime): a broken model. */
function scrambled(model: ModelData): ModelData {
  const k = model.components;
  const n = model.artists.length;
  const move = (values: Float32Array) => {
    const out = new Float32Array(values.length);
    for (let row = 0; row < n; row++) {
      const from = (7 * row + 3) % n;
      out.set(values.subarray(from * k, (from + 1) * k), row * k);
    }
    return out;
  };
  return { ...model, artistFactors: move(model.artistFactors),
    similarityEmbedding: move(model.similarityEmbedding) };
}

async function withFolder(body: (folder: string) => Promise<void>): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'retrain-check-'));
  try {
    await body(folder);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

test('a truncated or bit-flipped model file is refused with the reason', async () => {
  await withFolder(async (folder) => {
    const path = join(folder, 'candidate.partial');
    await writeModel(path, tinyModel());
    const intact = readFileSync(path);
    const options = { cases: [], minimumHitRateRatio: 0.7 };
    assert.equal((await checkCandidate(path, options)).accepted, true);

    truncateSync(path, Math.floor(intact.length * 0.6));
    const truncated = await checkCandidate(path, options);
    assert.equal(truncated.accepted, false);
    assert.match(truncated.accepted ? '' : truncated.reason, /does not read back .*truncated/);

    const flipped = Buffer.from(intact);
    flipped[flipped.length - 100] ^= 0x01;
    writeFileSync(path, flipped);
    const corrupt = await checkCandidate(path, options);
    assert.equal(corrupt.accepted, false);
    assert.match(corrupt.accepted ? '' : corrupt.reason, /checksum/);

    const missing = await checkCandidate(join(folder, 'nothing.partial'), options);
    assert.equal(missing.accepted, false);
  });
});

test('non-finite or negative factors are refused, naming the artist', async () => {
  const sound = tinyModel();
  assert.equal(findNumericalProblem(sound), undefined);

  const withNaN = tinyModel();
  withNaN.artistFactors[3 * withNaN.components + 1] = Number.NaN;
  assert.match(findNumericalProblem(withNaN) ?? '', new RegExp(`"${withNaN.artists[3].name}".*NaN`));

  const negative = tinyModel();
  negative.artistFactors[0] = -0.5;
  assert.match(findNumericalProblem(negative) ?? '', /invalid factor \(-0\.5\)/);

  const infiniteEmbedding = tinyModel();
  infiniteEmbedding.similarityEmbedding[5] = Number.POSITIVE_INFINITY;
  assert.match(findNumericalProblem(infiniteEmbedding) ?? '', /non-finite similarity embedding/);

  // The same problems survive a round trip through a file and are refused by the check.
  await withFolder(async (folder) => {
    const path = join(folder, 'candidate.partial');
    await writeModel(path, withNaN);
    const check = await checkCandidate(path, { cases: [], minimumHitRateRatio: 0.7 });
    assert.equal(check.accepted, false);
  });
});

test('a collapsed model, where every artist points the same way, is refused', () => {
  // All rows equal: every pair has cosine 1.
  const collapsed = tinyModel();
  const k = collapsed.components;
  for (let row = 0; row < collapsed.artists.length; row++) {
    for (let c = 0; c < k; c++) {
      collapsed.similarityEmbedding[row * k + c] = 0.5;
      collapsed.artistFactors[row * k + c] = 0.01;
    }
  }
  assert.ok(Math.abs(meanPairCosine(collapsed) - 1) < 1e-6);
  assert.match(findNumericalProblem(collapsed) ?? '', /collapsed: .*mean cosine similarity of 1\.000/);

  // One-hot rows (k = n): every pair of distinct artists has cosine 0.
  const orthogonal = tinyModel();
  const n = orthogonal.artists.length;
  orthogonal.components = n;
  orthogonal.similarityEmbedding = new Float32Array(n * n);
  orthogonal.artistFactors = new Float32Array(n * n);
  for (let row = 0; row < n; row++) {
    orthogonal.similarityEmbedding[row * n + row] = 1;
    orthogonal.artistFactors[row * n + row] = 1;
  }
  assert.equal(meanPairCosine(orthogonal), 0);

  // The four-genre model sits in between, well below the threshold.
  const mean = meanPairCosine(tinyModel());
  assert.ok(mean > 0.1 && mean < COLLAPSED_MEAN_COSINE - 0.3, `mean cosine ${mean}`);
});

test('a model that finds far fewer held-out artists than the served one is refused', async () => {
  const served = new Recommender(tinyModel());
  const cases = withinClusterCases(served.data);

  // The hit rate counts what recommend returns: recompute it here case by case.
  let expectedHits = 0;
  for (const entry of cases) {
    const picks = served.recommend(entry.profile, 3).map((pick) => pick.artist.key);
    if (picks.includes(entry.hidden)) expectedHits++;
  }
  const servedRate = await hitRate(served, cases, 3);
  assert.ok(Math.abs(servedRate - expectedHits / cases.length) < 1e-12);
  assert.ok(servedRate > 0.5, `clusters are obvious: ${servedRate}`);

  await withFolder(async (folder) => {
    // The same model is accepted with the same hit rate.
    const same = join(folder, 'same.partial');
    await writeModel(same, tinyModel());
    const accepted = await checkCandidate(same, {
      serving: served, cases, minimumHitRateRatio: 0.7, hitRank: 3,
    });
    assert.equal(accepted.accepted, true);
    assert.ok(Math.abs((accepted.newHitRate ?? -1) - servedRate) < 1e-12);
    assert.ok(Math.abs((accepted.servedHitRate ?? -1) - servedRate) < 1e-12);

    // A scrambled model is refused, with both rates in the reason.
    const broken = join(folder, 'broken.partial');
    await writeModel(broken, scrambled(tinyModel()));
    const refused = await checkCandidate(broken, {
      serving: served, cases, minimumHitRateRatio: 0.7, hitRank: 3,
    });
    assert.equal(refused.accepted, false);
    assert.ok((refused.newHitRate ?? 1) < 0.7 * servedRate);
    assert.match(refused.accepted ? '' : refused.reason, /held-out hit rate in the top 3 fell from/);

    // Without a served model (first training) only the file and the numbers are checked.
    const first = await checkCandidate(broken, { cases, minimumHitRateRatio: 0.7, hitRank: 3 });
    assert.equal(first.accepted, true);
  });
});

test('the check lets other work run between its steps and after every held-out case', async () => {
  const served = new Recommender(tinyModel());
  const cases = withinClusterCases(served.data);
  await withFolder(async (folder) => {
    const path = join(folder, 'candidate.partial');
    await writeModel(path, tinyModel());

    // A ticker that runs once per event-loop turn, as an interaction waiting in line would.
    let turns = 0;
    let ticking = true;
    const tick = () => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const check = await checkCandidate(path, {
      serving: served, cases, minimumHitRateRatio: 0.7, hitRank: 3,
    });
    ticking = false;
    assert.equal(check.accepted, true);
    // Two hit-rate passes of one turn per case, plus the steps before them.
    assert.ok(turns >= 2 * cases.length + 3, `${turns} turns for ${cases.length} cases`);
  });
});

test('a model that knows far fewer artists than the served one is refused', async () => {
  const served = new Recommender(tinyModel());
  const full = tinyModel();
  const k = full.components;
  const keep = Math.ceil(MIN_CATALOGUE_RATIO * full.artists.length) - 1;
  const small: ModelData = {
    ...full,
    artists: full.artists.slice(0, keep),
    artistFactors: full.artistFactors.slice(0, keep * k),
    similarityEmbedding: full.similarityEmbedding.slice(0, keep * k),
  };
  await withFolder(async (folder) => {
    const path = join(folder, 'small.partial');
    await writeModel(path, small);
    const refused = await checkCandidate(path, {
      serving: served, cases: withinClusterCases(full), minimumHitRateRatio: 0.7, hitRank: 3,
    });
    assert.equal(refused.accepted, false);
    assert.match(
      refused.accepted ? '' : refused.reason,
      new RegExp(`knows ${keep} artists where the served one knows ${full.artists.length}`),
    );

    // One more artist reaches the ratio and passes this check.
    const enough = keep + 1;
    await writeModel(path, {
      ...full,
      artists: full.artists.slice(0, enough),
      artistFactors: full.artistFactors.slice(0, enough * k),
      similarityEmbedding: full.similarityEmbedding.slice(0, enough * k),
    });
    const checked = await checkCandidate(path, { serving: served, cases: [], minimumHitRateRatio: 0.7 });
    assert.equal(checked.accepted, true);
  });
});

test('start-up serves the newest sound retrained model, moving a broken newer one aside', async () => {
  await withFolder(async (folder) => {
    const { logger, lines } = recordingLogger();
    const older = join(folder, 'model-20260101T040000Z.nmf');
    const newer = join(folder, 'model-20260102T040000Z.nmf');
    const sound = tinyModel();
    sound.meta.createdAt = '2026-01-01T04:00:00.000Z';
    await writeModel(older, sound);
    await writeModel(newer, tinyModel());
    truncateSync(newer, 100);

    const prepared = await prepareServingModel({
      databasePath: join(folder, 'no-database.sqlite'), logger, modelDirectory: folder,
      defaultModelPath: join(folder, 'no-default.nmf'),
    });
    assert.equal(prepared.origin, 'retrained');
    assert.equal(prepared.path, older);
    assert.equal(prepared.recommender.meta.createdAt, '2026-01-01T04:00:00.000Z');
    assert.deepEqual(readdirSync(folder).sort(),
      ['model-20260101T040000Z.nmf', 'model-20260102T040000Z.nmf.rejected']);
    assert.ok(lines.some((line) => line.level === 50 && String(line.msg).includes('refused')));
  });
});

test('start-up with no retrained model nor database serves the default model', async () => {
  await withFolder(async (folder) => {
    const { logger, lines } = recordingLogger();
    const defaultModelPath = join(folder, 'default.nmf');
    const options = {
      databasePath: join(folder, 'no-database.sqlite'), logger,
      modelDirectory: join(folder, 'retrained'), defaultModelPath,
    };
    await assert.rejects(prepareServingModel(options),
      (error: unknown) => error instanceof Error && /no-default|default\.nmf/.test(error.message) &&
        error.message.includes('npm run cli -- import'));

    await writeModel(defaultModelPath, tinyModel());
    const prepared = await prepareServingModel(options);
    assert.equal(prepared.origin, 'default');
    assert.equal(prepared.path, defaultModelPath);
    assert.equal(prepared.recommender.artistCount, tinyModel().artists.length);
    assert.ok(lines.some((line) => String(line.msg).startsWith('serving the shipped default model')));
  });
});
