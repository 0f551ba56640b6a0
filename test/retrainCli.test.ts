/**
 * `npm run cli -- retrain`: the same worker as the nightly retrain, run to completion from the
 * command line on the small fixture database.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { readModel, writeModel } from '../src/model/modelFile.ts';
import { retrainCommand } from '../src/cli/retrain.ts';
import { UsageError } from '../src/cli/command.ts';
import { SERVED_MODEL_PATTERN } from '../src/retrain/modelStore.ts';
import { createRetrainFixture, modelFiles } from './support/retrainFixture.ts';
import { tinyModel } from './support/tinyModel.ts';

test('retrain writes a checked model into --out-dir and exits 0', async () => {
  const fixture = createRetrainFixture();
  try {
    // The default penalties are tuned to HetRec and collapse a dataset this small: override.
    const argv = [
      '--database', fixture.databasePath, '--out-dir', fixture.modelDirectory, '--quiet',
      '--components', '6', '--iterations', '150', '--min-listeners', '3',
      '--l2-artist', '0', '--l2-user', '0.5',
    ];

    // Against the shipped model (6,958 artists) this 32-artist database is refused: it would
    // shrink the catalogue. Nothing is written.
    const errors: string[] = [];
    const originalError = console.error;
    console.error = (...parts: unknown[]) => errors.push(parts.join(' '));
    let refusedCode: number;
    try {
      refusedCode = await retrainCommand.run(argv);
    } finally {
      console.error = originalError;
    }
    assert.equal(refusedCode, 1);
    assert.match(errors.join('\n'), /knows 32 artists where the served one knows \d+/);
    assert.deepEqual(modelFiles(fixture).filter((name) => SERVED_MODEL_PATTERN.test(name)), []);

    // Served a model of comparable size, the same run is accepted.
    const served = join(fixture.modelDirectory, 'model-20000101T000000Z.nmf');
    await writeModel(served, tinyModel());
    const code = await retrainCommand.run(argv);
    assert.equal(code, 0);
    const files = modelFiles(fixture).filter((name) => SERVED_MODEL_PATTERN.test(name));
    assert.equal(files.length, 2);
    assert.notEqual(files[1], 'model-20000101T000000Z.nmf');

    // The overrides reached the training: they are in the model header.
    const model = readModel(`${fixture.modelDirectory}/${files[1]}`);
    assert.equal(model.components, 6);
    assert.equal(model.meta.parameters.maxIterations, 150);
    assert.equal(model.meta.parameters.minListeners, 3);
    assert.equal(model.meta.parameters.l2Artist, 0);
    assert.equal(model.meta.parameters.l2User, 0.5);
    assert.equal(model.artists.length, 32);
    assert.equal(model.meta.data.users, 240);
  } finally {
    fixture.remove();
  }
});

test('retrain refuses bad options with a one-line reason', async () => {
  await assert.rejects(retrainCommand.run(['--database', '/nonexistent/bot.sqlite']),
    (error: unknown) => error instanceof UsageError && /does not exist/.test(error.message));
  const fixture = createRetrainFixture({ empty: true });
  try {
    for (const option of ['--timeout', '--heap', '--components', '--l2-artist']) {
      await assert.rejects(retrainCommand.run(['--database', fixture.databasePath, option, '-3']),
        (error: unknown) => error instanceof UsageError && error.message.includes(option));
    }
    await assert.rejects(retrainCommand.run(['--frobnicate']),
      (error: unknown) => error instanceof UsageError && /frobnicate/.test(error.message));
  } finally {
    fixture.remove();
  }
});
