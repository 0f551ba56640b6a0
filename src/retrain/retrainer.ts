/**
 * The nightly retrain as the bot sees it: a schedule (or `/model retrain`) starts one run at a
 * time (see retrainRun.ts); a checked new model is swapped into the `ServingModel`, so commands
 * already running finish on the model they started with. Whatever goes wrong, the bot keeps
 * serving the model it had, `status().lastError` says why, and the next schedule tries again.
 */
import type { RetrainControl, RetrainRun, RetrainStatus } from '../interactions/retrainControl.ts';
import type { ServingModel } from '../interactions/servingModel.ts';
import { runRetrain } from './retrainRun.ts';
import type { RetrainResult, RetrainSettings } from './retrainRun.ts';
import { startSchedule } from './schedule.ts';
import type { RetrainSchedule } from './schedule.ts';

/** Options of `createRetrainer`. */
export interface RetrainerOptions extends RetrainSettings {
  /** The model the bot serves; a checked new model is swapped into it. */
  servingModel: ServingModel;
  /** Cron expression (e.g. `0 4 * * *`); omit for manual runs only. Checked at creation. */
  cron?: string;
  /** IANA time zone of the cron expression; defaults to the system's. */
  timezone?: string;
}

/** A retrainer: the bot's `RetrainControl` plus what the CLI and tests need. */
export interface Retrainer extends RetrainControl {
  /** Starts a run now, or joins the one running; resolves with its outcome. */
  runNow(requestedBy: string): Promise<RetrainRun>;
  /** Resolves once no run is in progress. */
  whenIdle(): Promise<void>;
  /** Stops the schedule (a running worker is left to finish). */
  stop(): void;
}

/**
 * Creates the retrainer and, when `cron` is given, starts its schedule. Throws
 * `RetrainScheduleError` for an invalid cron expression or time zone, before anything runs.
 */
export function createRetrainer(options: RetrainerOptions): Retrainer {
  let running: Promise<RetrainRun> | undefined;
  let lastRun: RetrainRun | undefined;
  let lastError: string | undefined;
  const schedule: RetrainSchedule | undefined = options.cron === undefined
    ? undefined
    : startSchedule(options.cron, options.timezone, () => startInBackground('schedule'));

  // The single entry point: `running` is set before the first await, so no two runs overlap.
  function start(requestedBy: string): Promise<RetrainRun> {
    if (running !== undefined) return running;
    running = runAndSwap(requestedBy).finally(() => {
      running = undefined;
    });
    return running;
  }

  // Runs never reject (runRetrain catches everything); this is the last line of defence.
  function startInBackground(requestedBy: string): void {
    start(requestedBy).catch((error: unknown) => {
      lastError = error instanceof Error ? error.message : String(error);
      options.logger.error({ err: error }, `retrain crashed: ${lastError}`);
    });
  }

  async function runAndSwap(requestedBy: string): Promise<RetrainRun> {
    const result = await runRetrain(options, options.servingModel.current, requestedBy);
    if (result.recommender !== undefined) {
      options.servingModel.swap(result.recommender);
      options.logger.info({ path: result.path, artists: result.recommender.artistCount },
        'retrained model swapped in');
    }
    lastRun = publicRun(result);
    if (result.ok) lastError = undefined;
    else if (result.error !== undefined) lastError = result.error;
    return lastRun;
  }

  return {
    status(): RetrainStatus {
      return { running: running !== undefined, lastRun, nextRun: schedule?.nextRun(), lastError };
    },
    trigger(requestedBy: string) {
      if (running !== undefined) return 'already-running';
      startInBackground(requestedBy);
      return 'started';
    },
    runNow: (requestedBy: string) => start(requestedBy),
    whenIdle: async () => {
      while (running !== undefined) await running;
    },
    stop: () => schedule?.stop(),
  };
}

/** The part of a result `/model` shows. */
function publicRun(result: RetrainResult): RetrainRun {
  const { startedAt, finishedAt, ok, message, requestedBy } = result;
  return { startedAt, finishedAt, ok, message, requestedBy };
}
