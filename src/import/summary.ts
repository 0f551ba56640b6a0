/**
 * What every importer reports when it finishes, and the error it throws when a file cannot be
 * imported at all (missing, empty, wrong header). Bad rows are counted, never thrown.
 */

/** Rows are the data rows of the file (header excluded); `rowsRead = rowsKept + rowsRejected`. */
export interface ImportSummary {
  /** `hetrec`, `spotify-csv` or `triples`. */
  source: string;
  rowsRead: number;
  rowsKept: number;
  rowsRejected: number;
  /** The first few rejected rows (1-based line numbers in the file), in file order. */
  rejected: { line: number; reason: string }[];
  /** Distinct artists and listeners in the kept rows. */
  artists: number;
  listeners: number;
  seconds: number;
  /** Anything else the operator should know (skipped lines in side files, an unchanged file). */
  notes?: string[];
}

/** How many rejected rows a summary lists by line; the rest are only counted. */
export const REJECTED_EXAMPLES = 5;

/** A file that cannot be imported at all. The message is meant for the user, as is. */
export class ImportFileError extends Error {
  override name = 'ImportFileError';
}

/** Counts rows as they are read and keeps the first few rejections. */
export class RowTally {
  rowsRead = 0;
  rowsKept = 0;
  rowsRejected = 0;
  readonly rejected: { line: number; reason: string }[] = [];

  /** A row that made it into the data. */
  keep(): void {
    this.rowsRead++;
    this.rowsKept++;
  }

  /** A row that was skipped, with its 1-based line number and why. */
  reject(line: number, reason: string): void {
    this.rowsRead++;
    this.rowsRejected++;
    if (this.rejected.length < REJECTED_EXAMPLES) this.rejected.push({ line, reason });
  }
}

/** Formats a summary as a few lines of plain text for the terminal. */
export function formatSummary(summary: ImportSummary): string {
  const lines = [
    `${summary.source}: ${summary.rowsRead} rows read, ${summary.rowsKept} kept, ` +
      `${summary.rowsRejected} rejected in ${summary.seconds.toFixed(1)} s`,
    `  ${summary.artists} artists, ${summary.listeners} listeners`,
  ];
  for (const { line, reason } of summary.rejected) lines.push(`  line ${line}: ${reason}`);
  if (summary.rowsRejected > summary.rejected.length) {
    lines.push(`  ... and ${summary.rowsRejected - summary.rejected.length} more rejected rows`);
  }
  for (const note of summary.notes ?? []) lines.push(`  note: ${note}`);
  return lines.join('\n');
}
