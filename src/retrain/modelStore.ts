/**
 * The files of models/retrained/: where a worker writes its candidate, how a checked candidate
 * becomes a served model (one rename in the same directory), how a refused one is moved aside,
 * and pruning to the newest few. The bot serves the newest `model-YYYYMMDDTHHMMSSZ.nmf` by name,
 * so nothing else in this directory may match that pattern: candidates are `candidate-*.partial`
 * and refused ones `candidate-*.rejected`.
 */
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Served model files: the newest by name is the one the bot loads. */
export const SERVED_MODEL_PATTERN = /^model-\d{8}T\d{6}Z\.nmf$/;

/** The UTC time stamp used in file names: `20261203T040000Z`. */
export function fileStamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/** Paths of one retrain run's files, all in `directory`. */
export interface RunFiles {
  stamp: string;
  /** What the worker writes (the model writer adds its own temp suffix while writing). */
  candidate: string;
  /** The served name the candidate is renamed to once it passes the checks. */
  served: string;
  /** Where a refused candidate is moved aside for inspection. */
  rejected: string;
}

/** Names the files of a run started at `date`. O(1). */
export function runFiles(directory: string, date: Date): RunFiles {
  const stamp = fileStamp(date);
  return {
    stamp,
    candidate: join(directory, `candidate-${stamp}.partial`),
    served: join(directory, `model-${stamp}.nmf`),
    rejected: join(directory, `candidate-${stamp}.rejected`),
  };
}

/** Served model files in `directory`, newest first (by name). Missing directory: none. */
export function listServedModels(directory: string): string[] {
  return safeReaddir(directory)
    .filter((name) => SERVED_MODEL_PATTERN.test(name))
    .sort()
    .reverse()
    .map((name) => join(directory, name));
}

/**
 * Makes a checked candidate the served model: renames it within the directory and syncs the
 * directory, so a crash leaves either the old listing or the new one. O(1).
 */
export function promoteCandidate(files: RunFiles): void {
  renameSync(files.candidate, files.served);
  syncDirectory(dirname(files.served));
}

/**
 * Moves a refused candidate aside (`*.rejected`, never a name the bot loads) and keeps only the
 * newest `keepRejected` refused files. Returns the path it was moved to, or null when there was
 * no candidate file.
 */
export function rejectCandidate(
  directory: string,
  files: RunFiles,
  keepRejected = 2,
): string | null {
  let moved: string | null = null;
  try {
    renameSync(files.candidate, files.rejected);
    moved = files.rejected;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const rejected = safeReaddir(directory).filter((name) => name.endsWith('.rejected')).sort();
  for (const name of rejected.slice(0, Math.max(0, rejected.length - keepRejected))) {
    rmSync(join(directory, name), { force: true });
  }
  return moved;
}

/**
 * Removes everything a failed run left behind: the candidate and any temp file the model writer
 * made beside it (`candidate-<stamp>.partial`, `.candidate-<stamp>.partial.*.tmp`). Returns the
 * names removed.
 */
export function removeRunLeftovers(directory: string, files: RunFiles): string[] {
  const prefix = `candidate-${files.stamp}.partial`;
  const removed = safeReaddir(directory).filter(
    (name) => name.startsWith(prefix) || name.startsWith(`.${prefix}`),
  );
  for (const name of removed) rmSync(join(directory, name), { force: true });
  return removed;
}

/**
 * Removes candidate files older than `olderThanMs` (left by a process that died mid-run; no live
 * run can be that old once the worker time limit has passed). Returns the names removed.
 */
export function removeStaleCandidates(
  directory: string,
  olderThanMs: number,
  now = Date.now(),
): string[] {
  const removed: string[] = [];
  for (const name of safeReaddir(directory)) {
    const candidate = name.startsWith('candidate-') || name.startsWith('.candidate-');
    if (!candidate || name.endsWith('.rejected')) continue;
    const path = join(directory, name);
    try {
      if (now - statSync(path).mtimeMs < olderThanMs) continue;
      rmSync(path, { force: true });
      removed.push(name);
    } catch {
      // Removed meanwhile by someone else: nothing to do.
    }
  }
  return removed;
}

/**
 * Keeps the newest `keep` served models and deletes the older ones, never `protect` (the file
 * currently served, in case the clock went backwards). Returns the paths deleted.
 */
export function pruneServedModels(directory: string, keep: number, protect?: string): string[] {
  const older = listServedModels(directory).slice(Math.max(1, keep));
  const deleted = older.filter((path) => path !== protect);
  for (const path of deleted) rmSync(path, { force: true });
  return deleted;
}

function safeReaddir(directory: string): string[] {
  try {
    return readdirSync(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

function syncDirectory(directory: string): void {
  let descriptor: number | undefined;
  try {
    descriptor = openSync(directory, 'r');
    fsyncSync(descriptor);
  } catch {
    // Some file systems refuse fsync on a directory; the rename itself is still atomic.
  } finally {
    if (descriptor !== undefined) closeSync(descriptor);
  }
}
