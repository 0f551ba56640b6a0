/**
 * The steps every importer shares: check the file, skip it when this exact content was already
 * imported, parse it with progress on stderr, write it in one transaction, and summarise.
 */
import { resolve } from 'node:path';

import type { ImportBatch, ImportedArtist, ImportedInteraction } from '../storage/importWriter.ts';
import { findImport, writeImport } from '../storage/importWriter.ts';
import type { Storage } from '../storage/storage.ts';
import { fingerprint } from './fingerprint.ts';
import { createProgress } from './progress.ts';
import type { ImportSummary, RowTally } from './summary.ts';

/** Options every importer takes. */
export interface ImportOptions {
  /** Re-read and re-write a file even when the same content was imported before. */
  force?: boolean;
  /** No progress output on stderr. */
  quiet?: boolean;
  /** Called with bytes read and total bytes; replaces the stderr progress when given. */
  onProgress?(done: number, total: number): void;
}

/** What a format's parser hands back. */
export interface ParsedImport {
  artists: ImportedArtist[];
  interactions: ImportedInteraction[];
  tally: RowTally;
  notes?: string[];
  /** Namespace of ImportedArtist.externalIds. */
  artistSource?: string;
}

/** One importer run, as the format files describe it. */
export interface ImportJob {
  format: string;
  /** The path the user gave (a file, or the HetRec folder). */
  path: string;
  /** The files read, in a fixed order; their bytes are the progress total. */
  files: string[];
  listenerSource: string;
  parse(onBytes: (done: number, total: number) => void): Promise<ParsedImport>;
}

/** Runs one import job against the database and returns its summary. */
export async function runImport(
  storage: Storage,
  job: ImportJob,
  options: ImportOptions = {},
): Promise<ImportSummary> {
  const started = performance.now();
  const path = resolve(job.path);
  const seconds = () => (performance.now() - started) / 1000;
  if (storage.readonly) {
    throw new Error(`Database ${storage.path} is open read-only: cannot import.`);
  }

  // The same bytes imported before (under this path or another): nothing to do.
  const { size, sha256 } = await fingerprint(job.files);
  const previous = options.force ? undefined : findImport(storage, job.format, sha256, path);
  if (previous !== undefined) {
    const where = previous.path === path ? '' : ` from ${previous.path}`;
    return {
      source: job.format,
      rowsRead: 0,
      rowsKept: 0,
      rowsRejected: 0,
      rejected: [],
      artists: previous.artists,
      listeners: previous.listeners,
      seconds: seconds(),
      notes: [
        `unchanged: this content was already imported${where} at ${previous.importedAt}; ` +
          'nothing written (use --force to import it again)',
      ],
    };
  }

  const progress =
    options.onProgress === undefined ? createProgress(`import ${job.format}`, options) : undefined;
  const report =
    options.onProgress ?? ((done: number, total: number) => progress!.update(done, total));
  let parsed: ParsedImport;
  try {
    parsed = await job.parse(report);
  } finally {
    progress?.stop();
  }

  const { tally } = parsed;
  const batch: ImportBatch = {
    file: { format: job.format, path, size, sha256 },
    listenerSource: job.listenerSource,
    artistSource: parsed.artistSource,
    artists: parsed.artists,
    interactions: parsed.interactions,
    counts: {
      rowsRead: tally.rowsRead,
      rowsKept: tally.rowsKept,
      rowsRejected: tally.rowsRejected,
    },
  };
  if (progress !== undefined && !options.quiet) {
    const count = batch.interactions.length;
    process.stderr.write(`import ${job.format}: writing ${count} interactions (one transaction)\n`);
  }
  const written = writeImport(storage, batch);

  return {
    source: job.format,
    rowsRead: tally.rowsRead,
    rowsKept: tally.rowsKept,
    rowsRejected: tally.rowsRejected,
    rejected: tally.rejected,
    artists: written.artists,
    listeners: written.listeners,
    seconds: seconds(),
    notes: parsed.notes,
  };
}
