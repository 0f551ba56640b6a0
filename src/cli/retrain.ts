/**
 * `retrain [--database FILE] [--out-dir DIR]`: one retrain now, in the same worker process the bot
 * forks at night, waiting for it and printing its progress. The new model is checked against the
 * model the bot would serve and, when it passes, written to the folder the bot serves from.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

import { createLogger } from '../logger.ts';
import { RETRAINED_MODEL_DIR, servingModelPath } from '../model/modelPaths.ts';
import { Recommender } from '../model/recommender.ts';
import type { TrainingParameters } from '../model/types.ts';
import { runRetrain } from '../retrain/retrainRun.ts';
import type { WorkerProgress } from '../retrain/runWorker.ts';
import { DEFAULT_DATABASE_PATH } from '../storage/storage.ts';
import type { CliCommand } from './command.ts';
import { parseCommandLine, UsageError } from './command.ts';

const USAGE = `Usage: npm run cli -- retrain [--database FILE] [--out-dir DIR] [--timeout MINUTES]
                                    [--heap MB] [--quiet] [training overrides]

Trains a new model now from the bot's database (imported listening data plus members' tastes
and requests) in a child process, checks it against the model currently served (held-out hit
rate), and writes it as models/retrained/model-<time>.nmf, where the bot picks it up at its next
start (a running bot swaps in its own nightly retrains). Keeps the newest 3 models.

Options:
  --database FILE     the SQLite file (default: $DATABASE_PATH, else db/bot.sqlite)
  --out-dir DIR       where retrained models go (default: models/retrained)
  --timeout MINUTES   kill the worker after this long (default 30)
  --heap MB           the worker's heap limit (default 2048)
  --quiet             no progress on stderr

Training overrides (default: the settings of src/model/train.ts, as the nightly retrain uses):
  --components K      number of components (at most min(artists, listeners) is used)
  --iterations N      at most N iterations
  --min-listeners N   leave out artists with fewer listeners
  --l2-artist X       L2 penalty on the artist factors
  --l2-user X         L2 penalty on the listener factors`;

/** Parses a positive number option or throws UsageError. */
function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new UsageError(`--${name} must be a positive number, not "${text}"`);
  }
  return value;
}

/** Parses an optional number >= `minimum` (a whole one when `whole`) or throws UsageError. */
function optionalNumber(
  name: string,
  text: string | undefined,
  minimum: number,
  whole: boolean,
): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < minimum ||
    (whole && !Number.isInteger(value))) {
    const kind = whole ? 'a whole number' : 'a number';
    throw new UsageError(`--${name} must be ${kind} >= ${minimum}, not "${text}"`);
  }
  return value;
}

export const retrainCommand: CliCommand = {
  name: 'retrain',
  summary: 'Retrain the model now from the bot database (same worker as the nightly retrain)',
  usage: USAGE,
  async run(argv) {
    const { values } = parseCommandLine({
      args: argv,
      options: {
        database: { type: 'string' },
        'out-dir': { type: 'string' },
        timeout: { type: 'string' },
        heap: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        components: { type: 'string' },
        iterations: { type: 'string' },
        'min-listeners': { type: 'string' },
        'l2-artist': { type: 'string' },
        'l2-user': { type: 'string' },
      },
    }, USAGE);
    const databasePath = resolve(values.database ?? process.env.DATABASE_PATH ?? DEFAULT_DATABASE_PATH);
    if (!existsSync(databasePath)) {
      throw new UsageError(`database ${databasePath} does not exist (import data first: ` +
        '`npm run cli -- import --format hetrec PATH`)');
    }
    const modelDirectory = resolve(values['out-dir'] ?? RETRAINED_MODEL_DIR);
    const limits = {
      timeoutMs: positive('timeout', values.timeout, 30) * 60_000,
      maxOldSpaceMb: positive('heap', values.heap, 2048),
    };

    const parameters: Partial<TrainingParameters> = {};
    const minListeners = optionalNumber('min-listeners', values['min-listeners'], 1, true);
    const components = optionalNumber('components', values.components, 1, true);
    const iterations = optionalNumber('iterations', values.iterations, 1, true);
    const l2Artist = optionalNumber('l2-artist', values['l2-artist'], 0, false);
    const l2User = optionalNumber('l2-user', values['l2-user'], 0, false);
    if (components !== undefined) parameters.components = components;
    if (iterations !== undefined) parameters.maxIterations = iterations;
    if (l2Artist !== undefined) parameters.l2Artist = l2Artist;
    if (l2User !== undefined) parameters.l2User = l2User;

    // The model to beat: what the bot would serve now, if it loads.
    let serving: Recommender | undefined;
    const servingPath = servingModelPath(process.env, modelDirectory);
    try {
      serving = Recommender.load(servingPath);
    } catch {
      if (!values.quiet) console.error(`retrain: no loadable model at ${servingPath} to compare with`);
    }

    const logger = createLogger({ level: values.quiet ? 'error' : 'warn', destination: 2 });
    const started = performance.now();
    const result = await runRetrain({
      databasePath, modelDirectory, logger, limits, job: { parameters, minListeners },
      onProgress: values.quiet
        ? undefined
        : (progress) => console.error(progressLine(progress, started)),
    }, serving, 'cli');

    if (result.ok) {
      console.log(`${result.message}\nWritten: ${result.path}`);
      return 0;
    }
    console.error(`retrain: ${result.message}`);
    return 1;
  },
};

function progressLine(progress: WorkerProgress, started: number): string {
  const seconds = ((performance.now() - started) / 1000).toFixed(0).padStart(4);
  const memory = `${progress.rssMb} MiB`;
  if (progress.stage !== 'training') return `[${seconds} s] ${progress.stage}… (${memory})`;
  const objective = progress.objective === undefined
    ? ''
    : `, objective ${progress.objective.toPrecision(6)}`;
  return `[${seconds} s] training: iteration ${progress.iteration}/${progress.maxIterations}` +
    `${objective} (${memory})`;
}
