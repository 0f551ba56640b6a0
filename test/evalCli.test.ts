import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { evaluateCommand } from '../src/cli/evaluate.ts';
import { UsageError } from '../src/cli/command.ts';
import { writeHetrecFolder } from './support/hetrecFolder.ts';

test('evaluate without --data or with a missing folder fails with a clear message', async () => {
  await assert.rejects(evaluateCommand.run([]), (error: unknown) => {
    assert.ok(error instanceof UsageError);
    assert.match(error.message, /--data PATH is required/);
    return true;
  });
  await assert.rejects(evaluateCommand.run(['--data', '/no/such/folder']), /is not a folder/);
  await assert.rejects(evaluateCommand.run(['--data', tmpdir(), '--seeds', 'x']), /--seeds/);
});

test('evaluate prints a markdown table of every method and exits 0', async (t) => {
  const folder = writeHetrecFolder();
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  const printed: string[] = [];
  t.mock.method(console, 'log', (text: string) => printed.push(text));
  t.mock.method(console, 'error', () => undefined);

  const code = await evaluateCommand.run([
    '--data', folder, '--seeds', '1,2', '--components', '4', '--iterations', '60',
  ]);
  assert.equal(code, 0);
  const table = printed.join('\n').split('\n');
  assert.match(table[0], /^\| method \| Recall@10 \| nDCG@10 \| coverage \| train s \|$/);
  const rows = table.slice(2);
  assert.equal(rows.length, 4);
  assert.match(rows[0], /^\| popularity \|/);
  assert.match(rows[2], /^\| original pipeline/);
  assert.match(rows[3], /^\| this project \(implicit NMF, log1p, k=4, fold-in \+ neighbours\)/);

  // The planted groups make held-out artists findable: kNN and the model beat popularity.
  const recall = (row: string) => Number(row.split('|')[2]);
  assert.ok(recall(rows[1]) > recall(rows[0]), table.join('\n'));
  assert.ok(recall(rows[3]) > recall(rows[0]), table.join('\n'));
});

test('evaluate --solver frobenius evaluates the HALS model; a bad solver is a usage error', async (t) => {
  const folder = writeHetrecFolder();
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  const printed: string[] = [];
  t.mock.method(console, 'log', (text: string) => printed.push(text));
  t.mock.method(console, 'error', () => undefined);

  const code = await evaluateCommand.run([
    '--data', folder, '--seeds', '1', '--components', '4', '--iterations', '60',
    '--skip-original', '--solver', 'frobenius',
  ]);
  assert.equal(code, 0);
  const rows = printed.join('\n').split('\n').slice(2);
  assert.equal(rows.length, 3);
  assert.match(rows[2], /^\| this project \(frobenius NMF, bm25, k=4, fold-in \+ neighbours\)/);
  await assert.rejects(
    evaluateCommand.run(['--data', folder, '--solver', 'kl']),
    /--solver must be one of frobenius, implicit/,
  );
});
