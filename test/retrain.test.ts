/**
 * The retrain end to end with the real worker process, on the small clustered database of
 * test/support/retrainFixture.ts (each run forks a worker and takes about 2 s): the model
 * changes the way members' tastes say, runs never overlap, writes during a run are kept.
 * Failures are in retrainFailures.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { lookupKey } from '../src/model/lookupKey.ts';
import { Recommender } from '../src/model/recommender.ts';
import { ServingModel } from '../src/interactions/servingModel.ts';
import { openStorage } from '../src/storage/storage.ts';
import { prepareServingModel } from '../src/retrain/prepare.ts';
import { createRetrainer } from '../src/retrain/retrainer.ts';
import { runRetrainWorker } from '../src/retrain/runWorker.ts';
import { RetrainScheduleError } from '../src/retrain/schedule.ts';
import { SERVED_MODEL_PATTERN } from '../src/retrain/modelStore.ts';
import {
  addMembersWhoLikeAandB,
  ARTIST_A,
  ARTIST_B,
  artistName,
  createRetrainFixture,
  fixtureSettings,
  modelFiles,
  recordingLogger,
} from './support/retrainFixture.ts';
import { tinyModel } from './support/tinyModel.ts';

/** Cosine of two artists' similarity embeddings, computed here from the raw arrays. */
function embeddingCosine(recommender: Recommender, first: string, second: string): number {
  const { artists, similarityEmbedding, components: k } = recommender.data;
  const a = artists.findIndex((artist) => artist.name === first);
  const b = artists.findIndex((artist) => artist.name === second);
  assert.ok(a >= 0 && b >= 0, `${first} and ${second} are in the model`);
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let c = 0; c < k; c++) {
    dot += similarityEmbedding[a * k + c] * similarityEmbedding[b * k + c];
    normA += similarityEmbedding[a * k + c] ** 2;
    normB += similarityEmbedding[b * k + c] ** 2;
  }
  return dot / Math.sqrt(normA * normB);
}

test('start-up trains a first model; a retrain brings together artists members pair', async () => {
  const fixture = createRetrainFixture();
  try {
    const { logger } = recordingLogger();
    const prepared = await prepareServingModel({
      ...fixtureSettings(fixture, logger), defaultModelPath: '/nonexistent/default.nmf',
    });
    assert.equal(prepared.origin, 'trained-at-start');
    assert.match(prepared.path.split('/').pop() ?? '', SERVED_MODEL_PATTERN);
    const before = embeddingCosine(prepared.recommender, ARTIST_A, ARTIST_B);

    // 40 members add both A and B; the retrained model must bring them together.
    addMembersWhoLikeAandB(fixture.databasePath, 40);
    const servingModel = new ServingModel(prepared.recommender);
    const retrainer = createRetrainer({ ...fixtureSettings(fixture, logger), servingModel });
    const run = await retrainer.runNow('tester');

    assert.equal(run.ok, true, run.message);
    assert.notEqual(servingModel.current, prepared.recommender, 'the new model was swapped in');
    const after = embeddingCosine(servingModel.current, ARTIST_A, ARTIST_B);
    assert.ok(after > before + 0.15, `cosine(A, B) went from ${before} to ${after}`);

    // The serving path agrees with the independent cosine.
    const a = servingModel.current.artistByKey(lookupKey(ARTIST_A));
    assert.ok(a !== undefined);
    const listed = servingModel.current.similarArtists(a, 31).find((s) => s.artist.name === ARTIST_B);
    assert.ok(listed !== undefined);
    assert.ok(Math.abs(listed.similarity - Math.max(0, after)) < 1e-5);

    // Two served files, the members counted, nothing else left behind.
    assert.equal(servingModel.current.meta.data.users, 240 + 40);
    assert.match(run.message, /40 members/);
    const files = modelFiles(fixture);
    assert.equal(files.length, 2);
    assert.ok(files.every((name) => SERVED_MODEL_PATTERN.test(name)));
    assert.deepEqual(retrainer.status(), {
      running: false, lastRun: run, nextRun: undefined, lastError: undefined,
    });
  } finally {
    fixture.remove();
  }
});

test('overlapping triggers run once, and only the newest models are kept', async () => {
  const fixture = createRetrainFixture();
  try {
    const { logger } = recordingLogger();
    const servingModel = new ServingModel(new Recommender(tinyModel()));
    let workers = 0;
    const retrainer = createRetrainer({
      ...fixtureSettings(fixture, logger), servingModel, keepModels: 1,
      runWorker: (job, options) => {
        workers++;
        return runRetrainWorker(job, options);
      },
    });

    assert.equal(retrainer.trigger('first'), 'started');
    assert.equal(retrainer.trigger('second'), 'already-running');
    assert.equal(retrainer.status().running, true);
    const joined = retrainer.runNow('third');
    assert.equal(retrainer.trigger('fourth'), 'already-running');
    const run = await joined;
    await retrainer.whenIdle();
    assert.equal(workers, 1);
    assert.equal(run.requestedBy, 'first');
    assert.equal(retrainer.status().running, false);

    // A second run after the first is a new run; keepModels 1 prunes the first file.
    const firstFiles = modelFiles(fixture);
    assert.equal((await retrainer.runNow('again')).ok, true);
    assert.equal(workers, 2);
    const files = modelFiles(fixture);
    assert.equal(files.length, 1);
    assert.notDeepEqual(files, firstFiles);
  } finally {
    fixture.remove();
  }
});

test('members\' writes during a retrain are not lost and are in the next model', async () => {
  const fixture = createRetrainFixture();
  const storage = openStorage(fixture.databasePath);
  try {
    const { logger } = recordingLogger();
    const servingModel = new ServingModel(new Recommender(tinyModel()));
    const retrainer = createRetrainer({ ...fixtureSettings(fixture, logger), servingModel });

    // Write a new member's tastes every few milliseconds for as long as the worker runs.
    const run = retrainer.runNow('tester');
    let written = 0;
    const writer = setInterval(() => {
      const name = artistName(written % 4, written % 8);
      storage.addTaste(String(5000 + written), { key: lookupKey(name), name }, 1);
      storage.logRequest({
        guildId: 'g', channelId: 'c', userId: String(5000 + written), command: 'similar',
        artistKey: lookupKey(name), artistName: name, query: name,
      });
      written++;
    }, 5);
    const first = await run;
    clearInterval(writer);
    assert.equal(first.ok, true, first.message);
    assert.ok(written >= 20, `only ${written} writes during the run`);

    // Every write is in the database, and the next model has every writer as a member.
    assert.equal(storage.memberCounts().members, written);
    const second = await retrainer.runNow('tester');
    assert.equal(second.ok, true, second.message);
    assert.equal(servingModel.current.meta.data.users, 240 + written);
    assert.match(second.message, new RegExp(`\\(${written} members\\)`));
  } finally {
    storage.close();
    fixture.remove();
  }
});

test('an invalid RETRAIN_CRON stops the retrainer at creation, before any run', () => {
  const servingModel = new ServingModel(new Recommender(tinyModel()));
  const { logger } = recordingLogger();
  let workers = 0;
  assert.throws(
    () => createRetrainer({
      databasePath: '/nonexistent.sqlite', logger, servingModel, cron: '0 25 * * *',
      runWorker: async () => {
        workers++;
        throw new Error('must not run');
      },
    }),
    (error: unknown) =>
      error instanceof RetrainScheduleError && /RETRAIN_CRON "0 25 \* \* \*"/.test(error.message),
  );
  assert.equal(workers, 0);

  const retrainer = createRetrainer({
    databasePath: '/nonexistent.sqlite', logger, servingModel, cron: '0 4 * * *', timezone: 'UTC',
  });
  try {
    const next = retrainer.status().nextRun;
    assert.ok(next instanceof Date && next.getUTCHours() === 4 && next.getUTCMinutes() === 0);
  } finally {
    retrainer.stop();
  }
});
