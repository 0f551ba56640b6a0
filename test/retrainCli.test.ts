/**
 * `npm run cli -- retrain`: the same worker as the nightly retrain, run to completion from the
 * command line on the small fixture database.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { readModel } from '../src/model/modelFile.ts';
import { retrainCommand } from '../src/cli/retrain.ts';
import { UsageError } from '../src/cli/command.ts';
import { SERVED_MODEL_PATTERN } from '../src/retrain/modelStore.ts';
import { createRetrainFixture, modelFiles } from './support/retrainFixture.ts';

test('retrain writes a checked model into --out-dir and exits 0', async () => {
  const fixture = createRetrainFixture();
  try {
    // The default penalties are tuned to HetRec and collapse a dataset this small: override.
    const code = await retrainCommand.run([
      '--database', fixture.databasePath, '--out-dir', fixture.modelDirectory, '--quiet',
      '--components', '6', '--iterations', '150', '--min-listeners', '3',
      '--l2-artist', '0', '--l2-user', '0.5',
    ]);
    assert.equal(code, 0);
    const files = modelFiles(fixture);
    assert.equal(files.length, 1);
    assert.match(files[0], SERVED_MODEL_PATTERN);

    // The overrides reached the training: they are in the model header.
    const model = readModel(`${fixture.modelDirectory}/${files[0]}`);
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
