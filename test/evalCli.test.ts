import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { evaluateCommand } from '../src/cli/evaluate.ts';
import { UsageError } from '../src/cli/command.ts';
import { seededRandom } from '../src/model/random.ts';

/** A HetRec-shaped folder: 4 taste groups of 20 artists, 90 users, a few plays each. */
function writeHetrecFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'eval-cli-'));
  const random = seededRandom(9);
  const artists = ['id\tname\turl\tpictureURL'];
  for (let id = 1; id <= 80; id++) artists.push(`${id}\tBand ${id}\thttp://x/${id}\t`);
  const plays = ['userID\tartistID\tweight'];
  for (let user = 1; user <= 90; user++) {
    const group = user % 4;
    for (let a = 1; a <= 20; a++) {
      if (random() >= 0.45) continue;
      plays.push(`${user}\t${group * 20 + a}\t${1 + Math.floor(random() * 300)}`);
    }
  }
  writeFileSync(join(folder, 'artists.dat'), artists.join('\r\n') + '\r\n');
  writeFileSync(join(folder, 'user_artists.dat'), plays.join('\r\n') + '\r\n');
  writeFileSync(join(folder, 'tags.dat'), 'tagID\ttagValue\r\n1\trock\r\n');
  writeFileSync(
    join(folder, 'user_taggedartists.dat'),
    'userID\tartistID\ttagID\tday\tmonth\tyear\r\n1\t1\t1\t1\t1\t2009\r\n',
  );
  return folder;
}

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
  assert.match(rows[3], /^\| this project \(bm25, NMF k=4, fold-in \+ neighbours\)/);

  // The planted groups make held-out artists findable: kNN and the model beat popularity.
  const recall = (row: string) => Number(row.split('|')[2]);
  assert.ok(recall(rows[1]) > recall(rows[0]), table.join('\n'));
  assert.ok(recall(rows[3]) > recall(rows[0]), table.join('\n'));
});
