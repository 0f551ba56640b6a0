/**
 * The retrain worker trains at the lowest CPU priority, on every one of its threads, so the bot
 * answers first; when the priority cannot be set, that is logged and the retrain still runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MEMBER_WEIGHTS } from '../src/retrain/retrainRun.ts';
import type { RetrainJob } from '../src/retrain/protocol.ts';
import { runRetrainWorker } from '../src/retrain/runWorker.ts';
import { lowerPriority, WORKER_NICENESS } from '../src/retrain/workerPriority.ts';
import {
  createRetrainFixture, fixtureSettings, recordingLogger,
} from './support/retrainFixture.ts';
import type { RetrainFixture } from './support/retrainFixture.ts';

/** The nice value of each thread of `pid`, read from /proc (field 19 of its stat line). */
function threadNiceness(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((thread) => {
    const stat = readFileSync(`/proc/${pid}/task/${thread}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19 - 3]);
  });
}

function fixtureJob(fixture: RetrainFixture, fault?: RetrainJob['fault']): RetrainJob {
  const settings = fixtureSettings(fixture, recordingLogger().logger);
  return {
    databasePath: fixture.databasePath,
    candidatePath: join(fixture.directory, 'candidate.nmf'),
    members: DEFAULT_MEMBER_WEIGHTS,
    heldOutCases: 20,
    threads: 1,
    ...settings.job,
    ...(fault === undefined ? {} : { fault }),
  };
}

test('the running worker has the lowest priority, on every thread', async () => {
  const fixture = createRetrainFixture();
  try {
    let seen: { process: number; threads: number[] } | undefined;
    let workerPid = 0;
    // A hanging job: the worker stays up after its first progress message, then is killed.
    const outcome = await runRetrainWorker(fixtureJob(fixture, 'hang'), {
      limits: { timeoutMs: 60_000, maxOldSpaceMb: 256 },
      onSpawn: (pid) => {
        workerPid = pid;
      },
      onProgress: () => {
        if (seen !== undefined) return;
        seen = { process: getPriority(workerPid), threads: threadNiceness(workerPid) };
        process.kill(workerPid, 'SIGKILL');
      },
    });

    assert.equal(outcome.status, 'failed');
    assert.ok(seen !== undefined, 'the worker reported progress');
    assert.equal(seen.process, WORKER_NICENESS);
    assert.ok(seen.threads.length > 1, `threads: ${seen.threads}`);
    assert.deepEqual(seen.threads, seen.threads.map(() => WORKER_NICENESS));
    assert.equal(getPriority(), 0, 'the bot keeps its own priority');
  } finally {
    fixture.remove();
  }
});

test('a priority that cannot be set is logged, and the worker still trains', async () => {
  const fixture = createRetrainFixture();
  try {
    const { logger, lines } = recordingLogger();
    let niceness: number | undefined;
    let workerPid = 0;
    const outcome = await runRetrainWorker(fixtureJob(fixture), {
      limits: { timeoutMs: 60_000, maxOldSpaceMb: 256 },
      niceness: 99, // Outside -20..19: the system refuses it.
      logger,
      onSpawn: (pid) => {
        workerPid = pid;
      },
      onProgress: () => {
        niceness ??= getPriority(workerPid);
      },
    });

    assert.equal(outcome.status, 'done', JSON.stringify(outcome));
    assert.equal(niceness, 0, 'the worker kept the default priority');
    const warnings = lines.filter((line) => line.level === 40);
    assert.equal(warnings.length, 1);
    assert.match(String(warnings[0]?.msg), /could not lower the retrain worker's priority/);
    assert.equal(warnings[0]?.niceness, 99);
    assert.equal(typeof warnings[0]?.reason, 'string');
  } finally {
    fixture.remove();
  }
});

test('lowerPriority reports a process that is gone instead of throwing', () => {
  // Pids are below 2^22 on Linux; this one cannot exist.
  const outcome = lowerPriority(2 ** 30);
  assert.equal(outcome.ok, false);
  assert.ok(!outcome.ok && outcome.message.length > 0);
});
