/**
 * The retrain worker runs at a low CPU priority, so that on a small machine the bot's answers
 * come first and the training takes what is left. On Linux a nice value belongs to each thread,
 * not to the process, so every thread the worker has is lowered (those it starts later inherit
 * the value from its main thread).
 */
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Niceness of the retrain worker: 19 is the lowest priority (the bot runs at 0). */
export const WORKER_NICENESS = 19;

/** What `lowerPriority` did. */
export type PriorityOutcome =
  | { ok: true; niceness: number; threads: number }
  | { ok: false; niceness: number; message: string };

/**
 * Sets the niceness of process `pid` to `niceness` (-20..19), for each of its threads where the
 * system lists them (/proc/<pid>/task), else for the process alone. Never throws: a failure (the
 * process is gone, no permission, a value out of range) comes back as `ok: false` with the
 * reason. Cost: one system call per thread.
 */
export function lowerPriority(pid: number, niceness: number = WORKER_NICENESS): PriorityOutcome {
  try {
    setPriority(pid, niceness);
  } catch (error) {
    return { ok: false, niceness, message: error instanceof Error ? error.message : String(error) };
  }

  // Threads that already exist (V8's, libuv's) keep their own value on Linux: set them too.
  let threads = 1;
  let threadIds: string[] = [];
  try {
    threadIds = readdirSync(`/proc/${pid}/task`);
  } catch {
    // No /proc (not Linux): the process-wide call above is all there is.
  }
  for (const threadId of threadIds) {
    if (Number(threadId) === pid) continue;
    try {
      setPriority(Number(threadId), niceness);
      threads += 1;
    } catch {
      // The thread ended meanwhile.
    }
  }
  return { ok: true, niceness, threads };
}
