import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { trainCommand } from '../src/cli/train.ts';
import { readModel } from '../src/model/modelFile.ts';
import { DEFAULT_PARAMETERS, FROBENIUS_PARAMETERS } from '../src/model/train.ts';
import { writeHetrecFolder } from './support/hetrecFolder.ts';

test('train uses the implicit solver by default and --solver frobenius with its settings', async (t) => {
  const folder = writeHetrecFolder();
  const out = mkdtempSync(join(tmpdir(), 'train-cli-'));
  t.after(() => {
    rmSync(folder, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });
  const printed: string[] = [];
  t.mock.method(console, 'log', (text: string) => printed.push(text));
  t.mock.method(console, 'error', () => undefined);

  const implicitPath = join(out, 'implicit.nmf');
  const common = ['--data', folder, '--format', 'hetrec', '--components', '4', '--iterations', '20'];
  assert.equal(await trainCommand.run([...common, '--out', implicitPath]), 0);
  const implicit = readModel(implicitPath).meta;
  assert.equal(implicit.parameters.solver, 'implicit');
  assert.equal(implicit.parameters.confidence, DEFAULT_PARAMETERS.confidence);
  assert.equal(implicit.parameters.weighting, DEFAULT_PARAMETERS.weighting);
  assert.deepEqual(implicit.foldIn, { l1: 0, l2: DEFAULT_PARAMETERS.l2User });
  assert.match(printed.join('\n'), /parameters {2}implicit \(confidence 1\), k=4, log1p/);

  const frobeniusPath = join(out, 'frobenius.nmf');
  assert.equal(
    await trainCommand.run([...common, '--solver', 'frobenius', '--out', frobeniusPath]),
    0,
  );
  const frobenius = readModel(frobeniusPath).meta;
  assert.equal(frobenius.parameters.solver, 'frobenius');
  assert.equal(frobenius.parameters.weighting, FROBENIUS_PARAMETERS.weighting);
  assert.equal(frobenius.parameters.l2Artist, FROBENIUS_PARAMETERS.l2Artist);
  assert.deepEqual(frobenius.foldIn, { l1: 0, l2: 100_000 });

  await assert.rejects(
    trainCommand.run([...common, '--solver', 'als', '--out', join(out, 'x.nmf')]),
    /--solver must be one of frobenius, implicit/,
  );
});
