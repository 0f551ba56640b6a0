/** Imports the HetRec 2011 Last.fm folder into the database (reading it with readHetrec). */
import { join, resolve } from 'node:path';

import { transposeCsr } from '../model/sparse.ts';
import type { ImportedArtist, ImportedInteraction } from '../storage/importWriter.ts';
import type { Storage } from '../storage/storage.ts';
import { HETREC_FILES, readHetrec } from './hetrec.ts';
import type { ImportOptions } from './runImport.ts';
import { fileSize } from './lines.ts';
import { runImport } from './runImport.ts';
import type { ImportSummary } from './summary.ts';
import { RowTally } from './summary.ts';

/**
 * Imports a HetRec folder: artists keep their dataset ids as artists.id when free (so a model
 * trained from the database keeps Last.fm's ids), every dataset id is recorded in
 * artist_sources (`hetrec`), listeners are `hetrec:<userID>`, interactions are play counts.
 * Importing the same folder again changes nothing. About 3 s of CPU for the full dataset.
 */
export async function importHetrec(
  storage: Storage,
  dir: string,
  options: ImportOptions = {},
): Promise<ImportSummary> {
  const folder = resolve(dir);
  const files = [
    HETREC_FILES.artists,
    HETREC_FILES.listening,
    HETREC_FILES.tags,
    HETREC_FILES.taggings,
  ].map((name) => join(folder, name));
  for (const file of files) await fileSize(file, 'HetRec file');

  return runImport(
    storage,
    {
      format: 'hetrec',
      path: folder,
      files,
      listenerSource: 'hetrec',
      async parse(onBytes) {
        const data = await readHetrec(folder, { onProgress: onBytes });

        // Dataset ids grouped under the id each was merged into.
        const externalIds = new Map<number, number[]>();
        for (const [datasetId, keptId] of data.artistIdAliases) {
          const ids = externalIds.get(keptId) ?? [];
          ids.push(datasetId);
          externalIds.set(keptId, ids);
        }
        const artists: ImportedArtist[] = data.artists.map((artist) => ({
          key: artist.key,
          name: artist.name,
          url: artist.url,
          preferredId: artist.id,
          externalIds: externalIds.get(artist.id) ?? [artist.id],
          tags: data.tagCounts.get(artist.id) ?? [],
        }));

        // By user, so that listener ids follow the dataset's user order.
        const interactions: ImportedInteraction[] = [];
        const byUser = transposeCsr(data.counts);
        for (let column = 0; column < byUser.rows; column++) {
          const userId = data.users[column];
          for (let i = byUser.rowPointers[column]; i < byUser.rowPointers[column + 1]; i++) {
            const artistKey = data.artists[byUser.columnIndices[i]].key;
            interactions.push({ userId, artistKey, weight: byUser.values[i] });
          }
        }

        const tally = new RowTally();
        Object.assign(tally, {
          rowsRead: data.summary.rowsRead,
          rowsKept: data.summary.rowsKept,
          rowsRejected: data.summary.rowsRejected,
        });
        tally.rejected.push(...data.summary.rejected);
        return { artists, interactions, tally, notes: data.summary.notes, artistSource: 'hetrec' };
      },
    },
    options,
  );
}
