/**
 * One retrain run: train in a forked worker, check the candidate file, promote it to a served
 * model file and prune old ones. It never touches the `ServingModel`: the caller swaps in the
 * `Recommender` it returns. Every failure is caught, logged with figures and returned, with the
 * run's files removed (or a refused candidate moved aside), so nothing half-written is ever left
 * under a name the bot loads.
 */
import { existsSync, mkdirSync } from 'node:fs';
import type { Logger } from 'pino';

import { RETRAINED_MODEL_DIR } from '../model/modelPaths.ts';
import type { Recommender } from '../model/recommender.ts';
import type { RetrainRun } from '../interactions/retrainControl.ts';
import {
  promoteCandidate,
  pruneServedModels,
  rejectCandidate,
  removeRunLeftovers,
  removeStaleCandidates,
  runFiles,
} from './modelStore.ts';
import type { RunFiles } from './modelStore.ts';
import type { MemberWeights, RetrainJob, RetrainSummary } from './protocol.ts';
import { runRetrainWorker } from './runWorker.ts';
import type { RunWorkerOptions, WorkerLimits, WorkerOutcome, WorkerProgress } from './runWorker.ts';
import { checkCandidate, HIT_RANK } from './validateModel.ts';
import type { CheckFigures } from './validateModel.ts';

/**
 * Member weights in raw play-count equivalents, before the training weighting (log1p, then the
 * implicit solver's confidence 1 + log(1 + plays)). A taste entry of weight w counts as 100 w
 * plays: at the default weight 1 that is an ordinary artist of a real listener (HetRec
 * listener-artist play counts: p25 107, median 260; confidence 5.6 against 6.6 for the median),
 * and the logarithm flattens larger weights (the maximum, 1,000, gives 12.5), so one member's
 * favourites cannot outweigh many listeners. A request is a passing curiosity: 5 plays
 * (confidence 2.8); 20 requests for an artist add up to one default taste entry.
 */
export const DEFAULT_MEMBER_WEIGHTS: MemberWeights = { tasteWeight: 100, requestWeight: 5 };

/** Default worker limits: 30 minutes and 2 GiB of heap. */
export const DEFAULT_WORKER_LIMITS: WorkerLimits = { timeoutMs: 30 * 60_000, maxOldSpaceMb: 2048 };

/** Logger calls a run makes (a pino logger or a child of one). */
export type RetrainLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

/** Everything a run needs besides the model it competes with. */
export interface RetrainSettings {
  /** The bot's SQLite database; the worker opens it read-only. */
  databasePath: string;
  logger: RetrainLogger;
  /** Where retrained models live; defaults to models/retrained. */
  modelDirectory?: string;
  limits?: Partial<WorkerLimits>;
  members?: MemberWeights;
  /** Served models kept on disk (newest first); defaults to 3. */
  keepModels?: number;
  /** Held-out cases per check; defaults to 200. */
  heldOutCases?: number;
  /** Rank within which a held-out artist counts as found; defaults to 50. */
  hitRank?: number;
  /**
   * A new model is refused when its held-out hit rate is below this fraction of the served
   * model's on the same cases; defaults to 0.7.
   */
  minimumHitRateRatio?: number;
  /** Extra job fields: training overrides, threads, test faults. */
  job?: Partial<Pick<RetrainJob, 'parameters' | 'minListeners' | 'fault' | 'seed' | 'threads'>>;
  /** Progress of the running worker (the CLI draws a bar from it). */
  onProgress?: (progress: WorkerProgress) => void;
  /** Called with the worker's pid once it runs (tests kill it). */
  onSpawn?: (pid: number) => void;
  /** Replaces the worker runner (tests). */
  runWorker?: (job: RetrainJob, options: RunWorkerOptions) => Promise<WorkerOutcome>;
  now?: () => Date;
}

/** A finished run: what `/model` shows, plus the new model and the error text when there is one. */
export interface RetrainResult extends RetrainRun {
  /** The checked new model, already promoted on disk; the caller swaps it in. */
  recommender?: Recommender;
  /** Its file. */
  path?: string;
  /** Set when the run failed or the model was refused (not when it was skipped). */
  error?: string;
  /** True when there was nothing to train on. */
  skipped?: boolean;
}

// TODO: warm-start training from the served model's factors. nmf.ts accepts `initial`, but
// trainModel does not pass it on and model files keep no user factors; worth it once a full
// retrain no longer fits comfortably in the night (HetRec: ~2 min on one core).

/**
 * Runs one retrain against `serving` (the model to beat on the held-out check; undefined on a
 * first training). Never throws. Cost: the worker's training, plus the check in this process
 * (one model read and 2 x cases fold-ins, yielding between cases).
 */
export async function runRetrain(
  settings: RetrainSettings,
  serving: Recommender | undefined,
  requestedBy: string,
): Promise<RetrainResult> {
  const directory = settings.modelDirectory ?? RETRAINED_MODEL_DIR;
  const limits: WorkerLimits = { ...DEFAULT_WORKER_LIMITS, ...settings.limits };
  const now = settings.now ?? (() => new Date());
  const logger = settings.logger;
  const startedAt = now();
  const files = freshRunFiles(directory, startedAt);
  const finish = (ok: boolean, message: string, extra: Partial<RetrainResult> = {}) => ({
    startedAt, finishedAt: now(), ok, message, requestedBy, ...extra,
  });
  logger.info({ requestedBy, database: settings.databasePath }, 'retrain started');

  try {
    mkdirSync(directory, { recursive: true });
    removeStaleCandidates(directory, limits.timeoutMs * 2, startedAt.getTime());

    // Train in the child process.
    const job: RetrainJob = {
      databasePath: settings.databasePath,
      candidatePath: files.candidate,
      members: settings.members ?? DEFAULT_MEMBER_WEIGHTS,
      heldOutCases: settings.heldOutCases ?? 200,
      seed: startedAt.getTime() % 2_147_483_647,
      threads: 1,
      ...settings.job,
    };
    const runWorker = settings.runWorker ?? runRetrainWorker;
    const outcome = await runWorker(job, {
      limits, onProgress: settings.onProgress, onSpawn: settings.onSpawn, logger,
    });

    if (outcome.status === 'skipped') {
      removeRunLeftovers(directory, files);
      logger.info({ reason: outcome.reason }, 'retrain skipped');
      return finish(false, `Skipped: ${outcome.reason}.`, { skipped: true });
    }
    if (outcome.status === 'failed') {
      const removed = removeRunLeftovers(directory, files);
      const error = `${outcome.cause}: ${outcome.message}`;
      logger.error({
        cause: outcome.cause, exitCode: outcome.exitCode, signal: outcome.signal,
        seconds: outcome.durationMs / 1000, lastRssMb: outcome.lastRssMb,
        heapLimitMb: limits.maxOldSpaceMb, timeoutSeconds: limits.timeoutMs / 1000,
        removedFiles: removed,
      }, `retrain failed, still serving the previous model: ${error}`);
      return finish(false, `Retrain failed (${error}); still serving the previous model.`, { error });
    }

    // Check the candidate against the served model, then give it a served name.
    const check = await checkCandidate(files.candidate, {
      serving,
      cases: outcome.summary.heldOut,
      minimumHitRateRatio: settings.minimumHitRateRatio ?? 0.7,
      hitRank: settings.hitRank ?? HIT_RANK,
    });
    if (!check.accepted) {
      const movedTo = rejectCandidate(directory, files);
      const error = `new model refused: ${check.reason}`;
      logger.error({ ...checkFigures(check), movedTo },
        `retrain refused, still serving the previous model: ${error}`);
      return finish(false, `New model refused (${check.reason}); still serving the previous model.`,
        { error });
    }
    promoteCandidate(files);
    const pruned = pruneServedModels(directory, settings.keepModels ?? 3, files.served);

    logger.info({
      path: files.served, ...summaryFigures(outcome.summary), ...checkFigures(check),
      seconds: outcome.durationMs / 1000, pruned,
    }, 'retrained model ready');
    return finish(true, summaryLine(outcome.summary, check, outcome.durationMs), {
      recommender: check.recommender, path: files.served,
    });
  } catch (error) {
    removeRunLeftovers(directory, files);
    const text = error instanceof Error ? error.message : String(error);
    logger.error({ err: error }, `retrain failed, still serving the previous model: ${text}`);
    return finish(false, `Retrain failed (${text}); still serving the previous model.`,
      { error: text });
  }
}

/** The run's file names, a second later per clash so two runs in one second never collide. */
function freshRunFiles(directory: string, startedAt: Date): RunFiles {
  let files = runFiles(directory, startedAt);
  for (let shift = 1; existsSync(files.served) || existsSync(files.candidate); shift++) {
    files = runFiles(directory, new Date(startedAt.getTime() + shift * 1000));
  }
  return files;
}

function summaryFigures(summary: RetrainSummary): Record<string, number> {
  return {
    artists: summary.artists, users: summary.users, members: summary.members,
    nonzeros: summary.nonzeros, iterations: summary.iterations, objective: summary.objective,
    trainingSeconds: summary.trainingSeconds, peakRssMb: summary.peakRssMb,
  };
}

function checkFigures(check: CheckFigures): Record<string, number | undefined> {
  return {
    heldOutCases: check.cases, newHitRate: check.newHitRate, servedHitRate: check.servedHitRate,
  };
}

function summaryLine(summary: RetrainSummary, check: CheckFigures, durationMs: number): string {
  const rates = check.newHitRate === undefined
    ? ''
    : `, held-out hit rate ${percent(check.newHitRate)}` +
      (check.servedHitRate === undefined ? '' : ` (was ${percent(check.servedHitRate)})`);
  return `New model: ${summary.artists} artists, ${summary.users} listeners ` +
    `(${summary.members} members), ${summary.iterations} iterations in ` +
    `${(durationMs / 1000).toFixed(0)} s${rates}.`;
}

function percent(rate: number): string {
  return `${(rate * 100).toFixed(0)}%`;
}
