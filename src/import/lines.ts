/**
 * Streams a text file line by line, so that big files are never held in memory as one string.
 * Lines end in LF, CRLF or CR; the terminator is not part of the line.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';

import { ImportFileError } from './summary.ts';

/** One line of a file with its 1-based number. */
export interface NumberedLine {
  number: number;
  text: string;
}

/** The size of a regular file, or an ImportFileError saying why it cannot be read. */
export async function fileSize(path: string, what = 'file'): Promise<number> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new ImportFileError(`${what} ${path} is not a regular file`);
    return info.size;
  } catch (error) {
    if (error instanceof ImportFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ImportFileError(`${what} ${path} does not exist`);
    throw new ImportFileError(`cannot read ${what} ${path}: ${(error as Error).message}`);
  }
}

/**
 * Yields the lines of a file. `encoding` is `utf8` (invalid bytes become U+FFFD) or `latin1`.
 * `onBytes(total)` reports the bytes read so far, for progress. O(longest line) memory.
 */
export async function* readLines(
  path: string,
  encoding: 'utf8' | 'latin1',
  onBytes?: (bytesRead: number) => void,
): AsyncGenerator<NumberedLine> {
  const stream = createReadStream(path, { highWaterMark: 1 << 16 });
  let bytesRead = 0;
  stream.on('data', (chunk) => {
    bytesRead += chunk.length;
    onBytes?.(bytesRead);
  });
  stream.setEncoding(encoding);
  const reader = createInterface({ input: stream, crlfDelay: Infinity });

  let number = 0;
  try {
    for await (const text of reader) {
      number++;
      // A UTF-8 byte order mark on the first line is not part of the data.
      yield { number, text: number === 1 ? text.replace(/^\uFEFF/, '') : text };
    }
  } finally {
    reader.close();
    stream.destroy();
  }
}
