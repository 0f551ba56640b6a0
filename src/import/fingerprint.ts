/** Size and SHA-256 of the files an import reads, so that an unchanged file is recognised. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';

/**
 * Total size and SHA-256 of one or more files, streamed. For several files (a HetRec folder)
 * the digest covers each file's name and content in the order given. O(bytes), constant memory.
 */
export async function fingerprint(paths: string[]): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for (const path of paths) {
    if (paths.length > 1) hash.update(`${basename(path)}\0`);
    for await (const chunk of createReadStream(path)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  }
  return { size, sha256: hash.digest('hex') };
}
