/**
 * What a retrain does when things go wrong, with the real worker process: crashes, kills,
 * time-outs, out-of-memory, a corrupted model file, nothing to train on. The bot must keep
 * serving the model it had and leave no file the bot would load.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';

import { Recommender } from '../src/model/recommender.ts';
import { ServingModel } from '../src/interactions/servingModel.ts';
import { prepareServingModel } from '../src/retrain/prepare.ts';
import { createRetrainer } from '../src/retrain/retrainer.ts';
import {
  createRetrainFixture,
  fixtureSettings,
  modelFiles,
  recordingLogger,
} from './support/retrainFixture.ts';
import { tinyModel } from './support/tinyModel.ts';

test('a crashed, killed, hung or out-of-memory worker: old model serves, no file left', async () => {
  const fixture = createRetrainFixture();
  try {
    const { logger, lines } = recordingLogger();
    const original = new Recommender(tinyModel());
    const servingModel = new ServingModel(original);
    const base = fixtureSettings(fixture, logger);
    let killed = 0;

    const cases = [
      { fault: 'crash' as const, cause: /^error: Error: injected crash/ },
      { fault: 'hang' as const, cause: /^timeout: .*time limit/, limits: { timeoutMs: 1500 } },
      { fault: 'out-of-memory' as const, cause: /^out-of-memory: /, limits: { maxOldSpaceMb: 48 } },
      { kill: true, cause: /^killed: worker killed by SIGKILL/ },
    ];
    for (const entry of cases) {
      const retrainer = createRetrainer({
        ...base, servingModel,
        job: { ...base.job, ...('fault' in entry ? { fault: entry.fault } : {}) },
        limits: { timeoutMs: 60_000, ...('limits' in entry ? entry.limits : {}) },
        onSpawn: (pid) => {
          if (!('kill' in entry)) return;
          killed++;
          process.kill(pid, 'SIGKILL');
        },
      });
      const run = await retrainer.runNow('tester');
      const status = retrainer.status();
      assert.equal(run.ok, false);
      assert.equal(servingModel.current, original, 'still serving the original model');
      assert.match(status.lastError ?? '', entry.cause);
      assert.match(run.message, /still serving the previous model/);
      assert.deepEqual(modelFiles(fixture), [], `no file left after ${JSON.stringify(entry)}`);
    }
    assert.equal(killed, 1);

    // Each failure is logged at error level with its figures.
    const failures = lines.filter((line) => line.level === 50);
    assert.equal(failures.length, cases.length);
    for (const line of failures) {
      assert.equal(typeof line.seconds, 'number');
      assert.equal(typeof line.heapLimitMb, 'number');
    }

    // The next run tries again, succeeds, and clears the error.
    const retrainer = createRetrainer({ ...base, servingModel });
    const run = await retrainer.runNow('schedule');
    assert.equal(run.ok, true, run.message);
    assert.notEqual(servingModel.current, original);
    assert.equal(retrainer.status().lastError, undefined);
  } finally {
    fixture.remove();
  }
});

test('a corrupted model file is refused, moved aside, and never served', async () => {
  const fixture = createRetrainFixture();
  try {
    const { logger } = recordingLogger();
    const original = new Recommender(tinyModel());
    const servingModel = new ServingModel(original);
    const base = fixtureSettings(fixture, logger);
    const retrainer = createRetrainer({
      ...base, servingModel, job: { ...base.job, fault: 'corrupt-output' },
    });

    const run = await retrainer.runNow('tester');
    assert.equal(run.ok, false);
    assert.equal(servingModel.current, original);
    assert.match(retrainer.status().lastError ?? '',
      /refused: the file does not read back .*checksum/i);
    const files = modelFiles(fixture);
    assert.equal(files.length, 1);
    assert.match(files[0], /^candidate-.*\.rejected$/);

    // Start-up does not pick it up either: it trains a sound model instead.
    const prepared = await prepareServingModel({ ...base, defaultModelPath: '/nonexistent.nmf' });
    assert.equal(prepared.origin, 'trained-at-start');
  } finally {
    fixture.remove();
  }
});

test('a database with no listening data and no members is skipped with a clear reason', async () => {
  const fixture = createRetrainFixture({ empty: true });
  try {
    const { logger, lines } = recordingLogger();
    const original = new Recommender(tinyModel());
    const servingModel = new ServingModel(original);
    const retrainer = createRetrainer({ ...fixtureSettings(fixture, logger), servingModel });

    const run = await retrainer.runNow('tester');
    assert.equal(run.ok, false);
    assert.match(run.message, /^Skipped: the database holds no listening data and no member/);
    assert.equal(servingModel.current, original);
    assert.equal(retrainer.status().lastError, undefined);
    assert.deepEqual(modelFiles(fixture), []);
    assert.ok(lines.some((line) => line.msg === 'retrain skipped' && line.level === 30));
  } finally {
    fixture.remove();
  }
});


test('a database file that is not SQLite fails the run with the reason, serving goes on', async () => {
  const fixture = createRetrainFixture({ empty: true });
  try {
    writeFileSync(fixture.databasePath, 'this is not a database, just some text '.repeat(200));
    const { logger } = recordingLogger();
    const original = new Recommender(tinyModel());
    const servingModel = new ServingModel(original);
    const retrainer = createRetrainer({ ...fixtureSettings(fixture, logger), servingModel });

    const run = await retrainer.runNow('tester');
    assert.equal(run.ok, false);
    assert.equal(servingModel.current, original);
    assert.match(retrainer.status().lastError ?? '', /^error: .*Cannot open database .*not a database/);
    assert.deepEqual(modelFiles(fixture), []);
  } finally {
    fixture.remove();
  }
});
