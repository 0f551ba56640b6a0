/**
 * Runs one retrain job in a forked Node process and turns everything that can happen to it
 * (success, a clean refusal, a thrown error, a crash, out-of-memory, a kill, the time limit)
 * into one `WorkerOutcome`. The parent's event loop only ever waits on IPC, and the child runs at
 * the lowest CPU priority, so the bot keeps answering while the child trains.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';

import { lowerPriority } from './workerPriority.ts';
import type { JobMessage, RetrainJob, RetrainSummary, WorkerMessage } from './protocol.ts';
import { isWorkerMessage } from './protocol.ts';

/** Resource limits of one worker. */
export interface WorkerLimits {
  /** Wall-clock limit; the worker is killed (SIGKILL) when it is reached. */
  timeoutMs: number;
  /** V8 old-space limit of the worker (`--max-old-space-size`), in MiB. */
  maxOldSpaceMb: number;
}

/** Why a worker run produced no model. */
export type WorkerFailureCause =
  | 'error'
  | 'crash'
  | 'out-of-memory'
  | 'timeout'
  | 'killed'
  | 'spawn';

/** What became of one worker run. */
export type WorkerOutcome =
  | { status: 'done'; summary: RetrainSummary; durationMs: number }
  | { status: 'skipped'; reason: string; durationMs: number }
  | {
      status: 'failed';
      cause: WorkerFailureCause;
      message: string;
      durationMs: number;
      exitCode: number | null;
      signal: NodeJS.Signals | null;
      /** Last resident memory the worker reported, in MiB (0 if it reported none). */
      lastRssMb: number;
    };

/** Progress as the worker reports it. */
export type WorkerProgress = Extract<WorkerMessage, { type: 'progress' }>;

/** Options of `runRetrainWorker`. */
export interface RunWorkerOptions {
  limits: WorkerLimits;
  /** Called for each progress message. */
  onProgress?: (progress: WorkerProgress) => void;
  /** Called once the child exists, with its pid (tests use it to kill the worker). */
  onSpawn?: (pid: number) => void;
  /** The worker module; defaults to src/retrain/worker.ts. */
  workerPath?: string;
  /** The worker's niceness (default WORKER_NICENESS: the lowest priority). */
  niceness?: number;
  /** Told when the worker's priority cannot be lowered (it then trains at the bot's). */
  logger?: Pick<Logger, 'warn'>;
}

const DEFAULT_WORKER_PATH = fileURLToPath(new URL('./worker.ts', import.meta.url));
const OUTPUT_TAIL_BYTES = 4096;

/**
 * Forks the worker under tsx with the given heap limit, sends it `job`, and resolves when it
 * has exited (never rejects). A worker that exits without a final message, is killed, or runs
 * out of memory resolves as `failed` with the cause and its exit code or signal.
 */
export function runRetrainWorker(
  job: RetrainJob,
  options: RunWorkerOptions,
): Promise<WorkerOutcome> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);

  return new Promise<WorkerOutcome>((resolve) => {
    const execArgv = [
      '--import',
      import.meta.resolve('tsx'),
      `--max-old-space-size=${Math.max(16, Math.round(options.limits.maxOldSpaceMb))}`,
    ];
    const child = fork(options.workerPath ?? DEFAULT_WORKER_PATH, [], {
      execArgv,
      // Never the parent's stdout: in console mode that is the conversation.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });

    let final: WorkerMessage | undefined;
    let timedOut = false;
    let lastRssMb = 0;
    let outputTail = '';
    let settled = false;

    // Keep only the end of the output: it holds V8's out-of-memory report or a crash's stack.
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        outputTail = (outputTail + chunk).slice(-OUTPUT_TAIL_BYTES);
      });
    }

    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.limits.timeoutMs);

    child.on('message', (message: unknown) => {
      if (!isWorkerMessage(message)) return;
      if (message.type === 'progress') {
        lastRssMb = message.rssMb;
        try {
          options.onProgress?.(message);
        } catch {
          // A failing progress display must not take the bot down.
        }
        return;
      }
      final ??= message;
    });

    const finish = (outcome: WorkerOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };

    child.on('error', (error) => {
      // Spawn failures arrive here without a close event; kill errors arrive before close.
      if (child.pid === undefined) {
        finish({
          status: 'failed', cause: 'spawn', message: `could not start the worker: ${error.message}`,
          durationMs: elapsed(), exitCode: null, signal: null, lastRssMb,
        });
      }
    });

    // 'close' comes after 'exit' once the output and IPC pipes are drained: no message is lost.
    child.on('close', (exitCode, signal) => {
      const durationMs = elapsed();
      if (final?.type === 'done' && !timedOut) {
        finish({ status: 'done', summary: final.summary, durationMs });
        return;
      }
      if (final?.type === 'skipped' && !timedOut) {
        finish({ status: 'skipped', reason: final.reason, durationMs });
        return;
      }
      const failure = describeFailure({
        timedOut, exitCode, signal, outputTail, final, timeoutMs: options.limits.timeoutMs,
        maxOldSpaceMb: options.limits.maxOldSpaceMb, lastRssMb,
      });
      finish({ status: 'failed', ...failure, durationMs, exitCode, signal, lastRssMb });
    });

    // Below the bot, so that its answers come first; the worker spreads it to all its threads.
    if (child.pid !== undefined) {
      const priority = lowerPriority(child.pid, options.niceness);
      if (!priority.ok) {
        options.logger?.warn({ pid: child.pid, niceness: priority.niceness,
          reason: priority.message }, 'could not lower the retrain worker\'s priority');
      }
    }

    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    const message: JobMessage = { type: 'job', job };
    child.send(message, (error) => {
      if (error !== null && error !== undefined) child.kill('SIGKILL');
    });
  });
}

interface FailureFacts {
  timedOut: boolean;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  outputTail: string;
  final: WorkerMessage | undefined;
  timeoutMs: number;
  maxOldSpaceMb: number;
  lastRssMb: number;
}

/** Names the cause of a failed run from what the worker left behind. */
function describeFailure(facts: FailureFacts): { cause: WorkerFailureCause; message: string } {
  if (facts.timedOut) {
    return {
      cause: 'timeout',
      message: `worker killed after the ${Math.round(facts.timeoutMs / 1000)} s time limit`,
    };
  }
  if (/heap out of memory|Reached heap limit|Allocation failed/i.test(facts.outputTail)) {
    return {
      cause: 'out-of-memory',
      message: `worker ran out of memory (heap limit ${facts.maxOldSpaceMb} MiB, last seen ` +
        `${facts.lastRssMb} MiB resident)`,
    };
  }
  if (facts.final?.type === 'failed') {
    const code = facts.final.code === undefined ? '' : ` [${facts.final.code}]`;
    return { cause: 'error', message: `${facts.final.message}${code}` };
  }
  if (facts.signal !== null) {
    // Typed arrays live outside the V8 heap, so a matrix too big for the machine ends here,
    // killed by the system, rather than in a heap-limit report.
    const hint = facts.signal === 'SIGKILL'
      ? ` (by an operator or the system's out-of-memory killer; last seen ${facts.lastRssMb} MiB ` +
        'resident)'
      : '';
    return { cause: 'killed', message: `worker killed by ${facts.signal}${hint}` };
  }
  const lastLine = facts.outputTail.trim().split('\n').filter((line) => line.trim() !== '');
  const detail = lastLine.length > 0 ? `: ${lastLine.slice(-3).join(' | ').slice(0, 400)}` : '';
  return {
    cause: 'crash',
    message: `worker exited with code ${facts.exitCode} without a result${detail}`,
  };
}
