/**
 * Import progress on stderr: a cli-progress bar when stderr is a terminal, otherwise a plain line
 * at every quarter, so that logs and CI output stay readable.
 */
import cliProgress from 'cli-progress';

/** Something that is told how far an import is. */
export interface ProgressReporter {
  update(done: number, total: number): void;
  stop(): void;
}

/** A reporter for `label` on stderr; `quiet` gives one that prints nothing. */
export function createProgress(label: string, options: { quiet?: boolean } = {}): ProgressReporter {
  if (options.quiet) return { update() {}, stop() {} };
  if (process.stderr.isTTY) return barReporter(label);
  return plainReporter(label);
}

function barReporter(label: string): ProgressReporter {
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {eta_formatted} left`,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        bar.start(Math.max(total, 1), 0);
        started = true;
      }
      bar.setTotal(Math.max(total, 1));
      bar.update(Math.min(done, total));
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

function plainReporter(label: string): ProgressReporter {
  let nextQuarter = 1;
  return {
    update(done, total) {
      if (total <= 0) return;
      while (nextQuarter <= 4 && done >= (total * nextQuarter) / 4) {
        process.stderr.write(`${label}: ${nextQuarter * 25}%\n`);
        nextQuarter++;
      }
    },
    stop() {},
  };
}
