/**
 * The retrain worker: a child process forked by `runRetrainWorker`. It waits for one `job`
 * message, then opens the database read-only, builds the artists x users matrix (imported
 * listeners plus one column per Discord member), trains, writes the candidate model, reports its
 * figures over IPC and exits. It never touches the served model files: the parent checks the
 * candidate and promotes it. If the parent goes away, the worker exits too. It runs at the low
 * CPU priority the parent gave it (see workerPriority.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { getPriority } from 'node:os';

import { writeModel } from '../model/modelFile.ts';
import { nonzeros } from '../model/sparse.ts';
import { DEFAULT_PARAMETERS, filterListening, trainModel } from '../model/train.ts';
import { readListeningData } from '../storage/listeningData.ts';
import { openStorage } from '../storage/storage.ts';
import { drawHeldOutCases } from './heldOut.ts';
import { lowerPriority } from './workerPriority.ts';
import type { ListeningData } from '../model/types.ts';
import type { JobMessage, RetrainJob, RetrainSummary, WorkerMessage } from './protocol.ts';

/** How often (at most) a training progress message is sent. */
const PROGRESS_INTERVAL_MS = 500;

let peakRssMb = 0;

function rssMb(): number {
  const current = Math.round(process.memoryUsage.rss() / 1048576);
  peakRssMb = Math.max(peakRssMb, current);
  return current;
}

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) {
      resolve();
      return;
    }
    process.send(message, undefined, {}, () => resolve());
  });
}

/**
 * Runs one job: returns the summary, or a skip reason when there is nothing to train on.
 * Throws on any failure (the caller reports it).
 */
async function runJob(job: RetrainJob): Promise<RetrainSummary | { skipped: string }> {
  await send({ type: 'progress', stage: 'reading', rssMb: rssMb() });
  if (job.fault === 'crash') throw new Error('injected crash (RetrainJob.fault)');
  if (job.fault === 'hang') await new Promise(() => setInterval(() => undefined, 60_000));
  if (job.fault === 'out-of-memory') exhaustHeap();

  // Read a consistent snapshot; the bot keeps writing (WAL) and those rows go in the next run.
  const minListeners = job.minListeners ?? DEFAULT_PARAMETERS.minListeners;
  const storage = openStorage(job.databasePath, { readonly: true });
  let data: ListeningData;
  try {
    const read = storage.database.transaction(() =>
      readListeningData(storage, { minListeners, members: job.members }));
    data = read.deferred();
  } finally {
    storage.close();
  }
  const members = data.users.filter((user) => user.startsWith('discord:')).length;
  if (data.artists.length === 0 || data.users.length === 0 || nonzeros(data.counts) === 0) {
    return {
      skipped: 'the database holds no listening data and no member tastes or requests ' +
        `(with at least ${minListeners} listener(s) per artist): nothing to train on`,
    };
  }
  rssMb();

  // The training seed stays fixed night after night, so that similar lists only move when the
  // data does. A young community has fewer listeners than the default component count: use
  // what fits.
  const parameters = { ...DEFAULT_PARAMETERS, ...job.parameters, minListeners };
  let filtered;
  try {
    filtered = filterListening(data, minListeners);
  } catch (error) {
    if (error instanceof RangeError) return { skipped: error.message };
    throw error;
  }
  const fits = Math.min(filtered.artists.length, filtered.users.length);
  parameters.components = Math.max(1, Math.min(parameters.components, fits));

  // Train, reporting progress at most every PROGRESS_INTERVAL_MS.
  let lastProgress = 0;
  const model = await trainModel(data, parameters, {
    threads: job.threads,
    onIteration: (progress) => {
      const now = Date.now();
      if (now - lastProgress < PROGRESS_INTERVAL_MS) return;
      lastProgress = now;
      void send({
        type: 'progress', stage: 'training', iteration: progress.iteration,
        objective: progress.objective, maxIterations: parameters.maxIterations, rssMb: rssMb(),
      });
    },
  });

  // Write the candidate (atomically); the parent checks it before anything serves it.
  await send({ type: 'progress', stage: 'writing', rssMb: rssMb() });
  await writeModel(job.candidatePath, model);
  if (job.fault === 'corrupt-output') flipBytes(job.candidatePath);

  return {
    artists: model.artists.length,
    users: data.users.length,
    members,
    nonzeros: nonzeros(data.counts),
    iterations: model.meta.iterations,
    objective: model.meta.objective,
    trainingSeconds: model.meta.trainingSeconds,
    peakRssMb: Math.max(peakRssMb, rssMb()),
    heldOut: drawHeldOutCases(data, job.heldOutCases, job.seed),
  };
}

/** Test fault: grows the heap until V8 gives up (run with a small --max-old-space-size). */
function exhaustHeap(): never {
  const hoard: number[][] = [];
  for (;;) hoard.push(new Array<number>(1 << 20).fill(1.5));
}

/** Test fault: damages the middle of a written file so its checksum no longer matches. */
function flipBytes(path: string): void {
  const bytes = readFileSync(path);
  const middle = Math.floor(bytes.length / 2);
  for (let offset = middle; offset < Math.min(bytes.length, middle + 16); offset++) {
    bytes[offset] ^= 0xff;
  }
  writeFileSync(path, bytes);
}

function describe(error: unknown): { message: string; code?: string } {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = `${error.name}: ${error.message}`;
    return { message, code: typeof code === 'string' ? code : undefined };
  }
  return { message: String(error) };
}

// Exit with the parent, then wait for the job.
process.on('disconnect', () => process.exit(0));
process.once('message', (message: JobMessage) => {
  // The parent lowered this process's priority before sending the job; on Linux that reached
  // only the main thread, so give every thread started before it (V8's, libuv's) the same value.
  lowerPriority(process.pid, getPriority(process.pid));

  runJob(message.job).then(
    async (result) => {
      if ('skipped' in result) await send({ type: 'skipped', reason: result.skipped });
      else await send({ type: 'done', summary: result });
      process.exit(0);
    },
    async (error: unknown) => {
      await send({ type: 'failed', ...describe(error) });
      process.exit(1);
    },
  );
});
