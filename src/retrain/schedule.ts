/**
 * The nightly schedule: a node-cron task that calls one function. The expression and the time
 * zone are checked when the schedule is created, so a typo in RETRAIN_CRON stops the bot at start
 * with a message that says what is wrong instead of never retraining.
 */
import cron from 'node-cron';
import type { ScheduledTask } from 'node-cron';

/** A bad RETRAIN_CRON or RETRAIN_TIMEZONE. */
export class RetrainScheduleError extends Error {
  override name = 'RetrainScheduleError';
}

/** A running schedule. */
export interface RetrainSchedule {
  /** The next time the task fires, or undefined once stopped. */
  nextRun(): Date | undefined;
  /** Stops the schedule; a run already started is not affected. */
  stop(): void;
}

/**
 * Throws `RetrainScheduleError` unless `expression` is a valid cron expression (5 fields, or 6
 * with seconds) and `timezone`, when given, is an IANA time zone known to this Node.
 */
export function checkSchedule(expression: string, timezone?: string): void {
  const detailed = cron.validateDetailed(expression);
  if (!detailed.valid) {
    const problems = detailed.errors.map((error) => error.message).join('; ');
    throw new RetrainScheduleError(
      `RETRAIN_CRON "${expression}" is not a valid cron expression ` +
        '(fields: minute hour day-of-month month day-of-week, e.g. "0 4 * * *" for 04:00 daily)' +
        (problems === '' ? '' : `: ${problems}`),
    );
  }
  if (timezone !== undefined && timezone !== '') {
    try {
      new Intl.DateTimeFormat('en', { timeZone: timezone });
    } catch {
      throw new RetrainScheduleError(
        `RETRAIN_TIMEZONE "${timezone}" is not a time zone this system knows ` +
          '(use an IANA name such as "UTC" or "Europe/Berlin")',
      );
    }
  }
}

/**
 * Checks the expression (see `checkSchedule`) and starts a task that calls `run` at each match.
 * `run` must not throw; overlap is prevented by the caller (the retrainer refuses a second run).
 */
export function startSchedule(
  expression: string,
  timezone: string | undefined,
  run: () => void,
): RetrainSchedule {
  checkSchedule(expression, timezone);

  const task: ScheduledTask = cron.schedule(expression, () => run(), {
    name: 'retrain',
    timezone: timezone === '' ? undefined : timezone,
    noOverlap: true,
  });
  let stopped = false;

  return {
    nextRun: () => (stopped ? undefined : (task.getNextRun() ?? undefined)),
    stop: () => {
      stopped = true;
      void task.destroy();
    },
  };
}
