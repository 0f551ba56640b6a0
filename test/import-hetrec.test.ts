import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { readHetrec } from '../src/import/hetrec.ts';
import { ImportFileError } from '../src/import/summary.ts';
import type { SparseMatrix } from '../src/model/sparse.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/hetrec-small/', import.meta.url));

/** The matrix as { artist name: { user: count } }, for comparing with a hand-made table. */
function asTable(
  matrix: SparseMatrix,
  artists: { name: string }[],
  users: string[],
): Record<string, Record<string, number>> {
  const table: Record<string, Record<string, number>> = {};
  for (let row = 0; row < matrix.rows; row++) {
    const cells: Record<string, number> = {};
    for (let i = matrix.rowPointers[row]; i < matrix.rowPointers[row + 1]; i++) {
      cells[users[matrix.columnIndices[i]]] = matrix.values[i];
    }
    table[artists[row].name] = cells;
  }
  return table;
}

test('readHetrec merges spellings, drops placeholders and sums counts', async () => {
  const data = await readHetrec(FIXTURE);

  assert.deepEqual(data.users, ['2', '3', '10']);
  assert.deepEqual(
    data.artists.map((artist) => [artist.id, artist.name]),
    [
      [2, 'Scorpions'],
      [3, 'Beyoncé'],
      [7, '東方神起'],
      [9, 'Simon & Garfunkel'],
    ],
  );
  assert.deepEqual(asTable(data.counts, data.artists, data.users), {
    Scorpions: { '10': 120 },
    Beyoncé: { '2': 50, '10': 7 },
    東方神起: { '2': 3 },
    'Simon & Garfunkel': { '3': 12 },
  });
  assert.equal(data.counts.rows, 4);
  assert.equal(data.counts.columns, 3);
  assert.equal(data.artists[1].key, 'beyonce');
  assert.equal(data.artists[0].url, 'http://www.last.fm/music/Scorpions');
  assert.equal(data.artists[3].url, null);
  assert.match(data.source, /^hetrec:.*hetrec-small$/);

  // Every non-placeholder id maps to its kept id, including artists nobody played.
  assert.deepEqual(
    [...data.artistIdAliases].sort((a, b) => a[0] - b[0]),
    [
      [2, 2],
      [3, 3],
      [5, 2],
      [7, 7],
      [9, 9],
      [11, 11],
    ],
  );
});

test('readHetrec keeps the top tags, Latin-1 decoded, most applied first', async () => {
  const data = await readHetrec(FIXTURE);
  const tagsOf = (name: string) => data.artists.find((artist) => artist.name === name)?.tags;

  // Scorpions and The Scorpions pooled: rock 3, hard rock 2, then ties by text.
  assert.deepEqual(tagsOf('Scorpions'), ['rock', 'hard rock', '80s', 'german', 'metal']);
  assert.deepEqual(tagsOf('Beyoncé'), ['pop', 'rock français']);
  assert.deepEqual(tagsOf('東方神起'), ['k-pop']);
});

test('readHetrec counts rejected rows with line numbers and reasons', async () => {
  const data = await readHetrec(FIXTURE);
  const { summary } = data;

  assert.equal(summary.rowsRead, 10);
  assert.equal(summary.rowsKept, 6);
  assert.equal(summary.rowsRejected, 4);
  assert.equal(summary.rowsRead, summary.rowsKept + summary.rowsRejected);
  assert.deepEqual(
    summary.rejected.map((row) => row.line),
    [6, 8, 9, 10],
  );
  assert.match(summary.rejected[0].reason, /placeholder.*\[unknown\]/);
  assert.match(summary.rejected[1].reason, /99 is not in artists\.dat/);
  assert.match(summary.rejected[2].reason, /not a positive number/);
  assert.match(summary.rejected[3].reason, /expected 3/);
  assert.equal(summary.artists, 4);
  assert.equal(summary.listeners, 3);
});

test('readHetrec reports progress up to the total bytes', async () => {
  const seen: [number, number][] = [];
  await readHetrec(FIXTURE, { onProgress: (done, total) => seen.push([done, total]) });
  assert.ok(seen.length >= 4);
  const [lastDone, total] = seen[seen.length - 1];
  assert.equal(lastDone, total);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i][0] >= seen[i - 1][0]);
});

test('readHetrec fails clearly on a missing folder, missing file or wrong header', async () => {
  await assert.rejects(readHetrec('/nonexistent/hetrec'), ImportFileError);

  const folder = await mkdtemp(join(tmpdir(), 'hetrec-'));
  try {
    await cp(FIXTURE, folder, { recursive: true });
    await rm(join(folder, 'tags.dat'));
    await assert.rejects(readHetrec(folder), /tags\.dat does not exist/);

    await cp(join(FIXTURE, 'tags.dat'), join(folder, 'tags.dat'));
    await writeFile(join(folder, 'user_artists.dat'), 'user,artist,count\n1,2,3\n');
    await assert.rejects(readHetrec(folder), /does not look like a HetRec file/);

    await writeFile(join(folder, 'user_artists.dat'), '');
    await assert.rejects(readHetrec(folder), /is empty/);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});
