/**
 * The retrain's file handling, schedule checks and held-out sampling: no worker, no database.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  fileStamp,
  listServedModels,
  promoteCandidate,
  pruneServedModels,
  rejectCandidate,
  removeRunLeftovers,
  removeStaleCandidates,
  runFiles,
  SERVED_MODEL_PATTERN,
} from '../src/retrain/modelStore.ts';
import { checkSchedule, RetrainScheduleError, startSchedule } from '../src/retrain/schedule.ts';
import { drawHeldOutCases } from '../src/retrain/heldOut.ts';
import { buildCsr } from '../src/model/sparse.ts';
import type { ListeningData } from '../src/model/types.ts';

function temporaryDirectory(): string {
  return mkdtempSync(join(tmpdir(), 'retrain-files-'));
}

test('file stamps sort like the times they name and served names match the served pattern', () => {
  const early = new Date('2026-03-04T05:06:07.890Z');
  const late = new Date('2026-11-30T23:59:59.000Z');
  assert.equal(fileStamp(early), '20260304T050607Z');
  assert.ok(fileStamp(early) < fileStamp(late));

  const files = runFiles('/models', early);
  assert.match(files.served.split('/').pop() ?? '', SERVED_MODEL_PATTERN);
  assert.doesNotMatch(files.candidate.split('/').pop() ?? '', SERVED_MODEL_PATTERN);
  assert.doesNotMatch(files.rejected.split('/').pop() ?? '', SERVED_MODEL_PATTERN);
  assert.ok(!files.candidate.endsWith('.nmf') && !files.rejected.endsWith('.nmf'));
});

test('promote, prune to the newest three, and never delete the protected file', () => {
  const directory = temporaryDirectory();
  try {
    const days = [1, 2, 3, 4, 5].map((day) => new Date(Date.UTC(2026, 0, day, 4)));
    for (const day of days) {
      const files = runFiles(directory, day);
      writeFileSync(files.candidate, `model of ${day.toISOString()}`);
      promoteCandidate(files);
    }
    writeFileSync(join(directory, 'notes.txt'), 'not a model');

    const newestFirst = days.map((day) => runFiles(directory, day).served).reverse();
    assert.deepEqual(listServedModels(directory), newestFirst);

    const deleted = pruneServedModels(directory, 3);
    assert.deepEqual(deleted, newestFirst.slice(3));
    assert.deepEqual(listServedModels(directory), newestFirst.slice(0, 3));
    assert.ok(readdirSync(directory).includes('notes.txt'));

    // A protected (served) file survives even when it is the oldest.
    const deletedAgain = pruneServedModels(directory, 1, newestFirst[2]);
    assert.deepEqual(deletedAgain, [newestFirst[1]]);
    assert.deepEqual(listServedModels(directory), [newestFirst[0], newestFirst[2]]);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test('a refused candidate is moved aside, and only the newest two refused files are kept', () => {
  const directory = temporaryDirectory();
  try {
    const runs = [1, 2, 3].map((day) => runFiles(directory, new Date(Date.UTC(2026, 1, day))));
    for (const files of runs) {
      writeFileSync(files.candidate, 'bad bytes');
      assert.equal(rejectCandidate(directory, files), files.rejected);
    }
    const names = readdirSync(directory).sort();
    assert.deepEqual(names, runs.slice(1).map((files) => files.rejected.split('/').pop()));
    assert.deepEqual(listServedModels(directory), []);
    assert.equal(rejectCandidate(directory, runFiles(directory, new Date())), null);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test('leftovers of a failed run are removed, other runs and served models are not', () => {
  const directory = temporaryDirectory();
  try {
    const failed = runFiles(directory, new Date(Date.UTC(2026, 2, 1)));
    const other = runFiles(directory, new Date(Date.UTC(2026, 2, 2)));
    const name = (path: string) => path.split('/').pop() ?? '';
    writeFileSync(failed.candidate, 'x');
    writeFileSync(join(directory, `.${name(failed.candidate)}.123.456.tmp`), 'half');
    writeFileSync(other.candidate, 'y');
    writeFileSync(failed.served.replace(failed.stamp, '20250101T000000Z'), 'served');

    const removed = removeRunLeftovers(directory, failed);
    assert.equal(removed.length, 2);
    assert.deepEqual(readdirSync(directory).sort(),
      [name(other.candidate), 'model-20250101T000000Z.nmf']);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test('stale candidates are removed by age, fresh ones and rejected ones kept', () => {
  const directory = temporaryDirectory();
  try {
    const stale = runFiles(directory, new Date(Date.UTC(2026, 3, 1)));
    const fresh = runFiles(directory, new Date(Date.UTC(2026, 3, 2)));
    writeFileSync(stale.candidate, 'old');
    writeFileSync(stale.rejected, 'old refused');
    writeFileSync(fresh.candidate, 'new');
    const now = Date.now();
    const hourAgo = new Date(now - 3_600_000);
    utimesSync(stale.candidate, hourAgo, hourAgo);
    utimesSync(stale.rejected, hourAgo, hourAgo);

    const removed = removeStaleCandidates(directory, 60_000, now);
    assert.deepEqual(removed, [stale.candidate.split('/').pop()]);
    assert.equal(readdirSync(directory).length, 2);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test('an invalid cron expression or time zone is refused at start with a clear error', () => {
  assert.doesNotThrow(() => checkSchedule('0 4 * * *', 'Europe/Berlin'));
  assert.doesNotThrow(() => checkSchedule('*/15 * * * *'));

  for (const expression of ['0 4 * *', '61 4 * * *', 'every night', '']) {
    assert.throws(
      () => startSchedule(expression, undefined, () => assert.fail('must not run')),
      (error: unknown) =>
        error instanceof RetrainScheduleError &&
        error.message.includes(`RETRAIN_CRON "${expression}"`) &&
        error.message.includes('0 4 * * *'),
    );
  }
  assert.throws(
    () => checkSchedule('0 4 * * *', 'Mars/Olympus_Mons'),
    (error: unknown) =>
      error instanceof RetrainScheduleError && error.message.includes('RETRAIN_TIMEZONE'),
  );
});

test('a schedule reports its next run at the time the expression names, and stops', () => {
  const schedule = startSchedule('30 4 * * *', 'UTC', () => undefined);
  try {
    const next = schedule.nextRun();
    assert.ok(next instanceof Date);
    assert.equal(next.getUTCHours(), 4);
    assert.equal(next.getUTCMinutes(), 30);
    const untilNext = next.getTime() - Date.now();
    assert.ok(untilNext > 0 && untilNext <= 24 * 3_600_000, `next run in ${untilNext} ms`);
  } finally {
    schedule.stop();
  }
  assert.equal(schedule.nextRun(), undefined);
});

test('held-out cases hide one of each user\'s artists and keep the rest, members first', () => {
  // 6 artists x 5 users: users 0-2 are listeners, 3-4 members; user 2 has only two artists.
  const cells: [number, number, number][] = [
    [0, 0, 5], [1, 0, 3], [2, 0, 9], [3, 0, 1],
    [1, 1, 2], [4, 1, 7], [5, 1, 4],
    [0, 2, 1], [1, 2, 1],
    [2, 3, 250], [3, 3, 250], [4, 3, 10],
    [0, 4, 250], [5, 4, 250], [2, 4, 250], [1, 4, 10],
  ];
  const data: ListeningData = {
    artists: ['A', 'B', 'C', 'D', 'E', 'F'].map((name, id) => ({
      id, name, key: name.toLowerCase(), tags: [], url: null,
    })),
    users: ['1', '2', '3', 'discord:10', 'discord:11'],
    counts: buildCsr(6, 5, cells.map((c) => c[0]), cells.map((c) => c[1]), cells.map((c) => c[2])),
    source: 'test',
  };
  const artistsOf = (user: number) =>
    cells.filter((cell) => cell[1] === user).map((cell) => data.artists[cell[0]].key).sort();

  for (const seed of [1, 2, 3]) {
    const cases = drawHeldOutCases(data, 10, seed);
    assert.equal(cases.length, 4, 'user 2 has too few artists');

    // Members first: their artist sets are the first two cases.
    const sets = cases.map((entry) =>
      [...entry.profile.map((item) => item.artistKey), entry.hidden].sort());
    const memberSets = [artistsOf(3), artistsOf(4)].map((set) => set.join());
    assert.deepEqual(sets.slice(0, 2).map((set) => set.join()).sort(), memberSets.sort());
    assert.deepEqual(sets.slice(2).map((set) => set.join()).sort(),
      [artistsOf(0), artistsOf(1)].map((set) => set.join()).sort());
    for (const entry of cases) {
      assert.ok(!entry.profile.some((item) => item.artistKey === entry.hidden));

      // Profiles keep the listener's own counts, most played first.
      const keys = [...entry.profile.map((item) => item.artistKey), entry.hidden].sort().join();
      const user = [0, 1, 3, 4].find((candidate) => artistsOf(candidate).join() === keys);
      assert.ok(user !== undefined);
      for (const item of entry.profile) {
        const match: [number, number, number] | undefined = cells.find(
          ([artist, column]) => column === user && data.artists[artist].key === item.artistKey,
        );
        assert.equal(item.weight, match?.[2]);
      }
      const weights = entry.profile.map((item) => item.weight);
      assert.deepEqual(weights, [...weights].sort((a, b) => b - a));
    }
  }
  assert.equal(drawHeldOutCases(data, 1, 5).length, 1);
  assert.deepEqual(drawHeldOutCases(data, 3, 9), drawHeldOutCases(data, 3, 9));
});
