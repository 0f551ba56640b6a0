/**
 * Writes one imported file into the database, all or nothing: artists (upserted by key),
 * their dataset ids and tags, listeners (upserted by source and id), and the file's
 * interactions, which replace whatever an earlier import of the same file wrote.
 *
 * One transaction per file: at these sizes (HetRec: 93k rows, under a second) that is simplest,
 * and a failure half-way leaves nothing behind, not even the record of the import.
 * TODO: batch the transaction when files reach tens of millions of rows (Last.fm 360K), where
 * one transaction holds the write lock for minutes.
 */
import type { Storage } from './storage.ts';

/** One artist as an importer saw it. */
export interface ImportedArtist {
  /** lookupKey(name): artists are merged by it. */
  key: string;
  /** Real spelling; used only when the artist is new to the database. */
  name: string;
  url?: string | null;
  /** The artist's id in the dataset: used as artists.id when that id is still free. */
  preferredId?: number;
  /** Dataset ids that name this artist, recorded in artist_sources under `artistSource`. */
  externalIds?: (number | string)[];
  /** Tags with how often each was applied; replace the artist's stored tags when given. */
  tags?: [tag: string, count: number][];
}

/** One listening weight as an importer saw it; repeated (user, artist) pairs are summed. */
export interface ImportedInteraction {
  userId: string;
  artistKey: string;
  weight: number;
}

/** The file an import came from, as recorded in the imports table. */
export interface ImportedFile {
  format: string;
  /** Absolute path of the file (or HetRec folder). */
  path: string;
  size: number;
  sha256: string;
}

/** Everything one import writes. */
export interface ImportBatch {
  file: ImportedFile;
  /** Namespace of the listener ids (`hetrec`, `spotify`, `triples`). */
  listenerSource: string;
  /** Namespace of ImportedArtist.externalIds; needed only when they are given. */
  artistSource?: string;
  artists: ImportedArtist[];
  interactions: ImportedInteraction[];
  counts: { rowsRead: number; rowsKept: number; rowsRejected: number };
}

/** What an earlier import of a file recorded. */
export interface ImportRecord {
  format: string;
  path: string;
  size: number;
  sha256: string;
  rowsRead: number;
  rowsKept: number;
  rowsRejected: number;
  artists: number;
  listeners: number;
  importedAt: string;
}

/** The `source` column of the interactions an import writes. */
export function interactionSource(file: { format: string; path: string }): string {
  return `${file.format}:${file.path}`;
}

/** The import recorded for this exact content (same sha256), under any path, or undefined. */
export function findImport(
  storage: Storage,
  format: string,
  sha256: string,
  path?: string,
): ImportRecord | undefined {
  const rows = storage.database
    .prepare(
      `
      SELECT format, path, size, sha256, rows_read AS rowsRead, rows_kept AS rowsKept,
        rows_rejected AS rowsRejected, artists, listeners, imported_at AS importedAt
      FROM imports WHERE format = ? AND sha256 = ?
      ORDER BY path = ? DESC, id`,
    )
    .all(format, sha256, path ?? '') as ImportRecord[];
  return rows[0];
}

/**
 * Writes a batch in one IMMEDIATE transaction and records the file in `imports`. Interactions
 * whose artist key is not among `batch.artists` are an error (a bug in the importer).
 * Returns the distinct artists and listeners the file's interactions touch.
 * Cost: O(artists + interactions) statements, about 1 s per 100k interactions.
 */
export function writeImport(
  storage: Storage,
  batch: ImportBatch,
): { artists: number; listeners: number } {
  const { database } = storage;
  const now = new Date().toISOString();
  const source = interactionSource(batch.file);

  const statements = {
    artistByKey: database.prepare('SELECT id FROM artists WHERE key = ?').pluck(),
    idTaken: database.prepare('SELECT 1 FROM artists WHERE id = ?').pluck(),
    insertArtist: database.prepare(
      'INSERT INTO artists (id, name, key, url, created_at) VALUES (?, ?, ?, ?, ?)',
    ),
    fillUrl: database.prepare('UPDATE artists SET url = ? WHERE id = ? AND url IS NULL'),
    upsertArtistSource: database.prepare(`
      INSERT INTO artist_sources (source, external_id, artist_id) VALUES (?, ?, ?)
      ON CONFLICT (source, external_id) DO UPDATE SET artist_id = excluded.artist_id`),
    clearTags: database.prepare('DELETE FROM artist_tags WHERE artist_id = ?'),
    insertTag: database.prepare(`
      INSERT INTO artist_tags (artist_id, tag, count) VALUES (?, ?, ?)
      ON CONFLICT (artist_id, tag) DO UPDATE SET count = artist_tags.count + excluded.count`),
    upsertListener: database
      .prepare(
        `
      INSERT INTO listeners (source, external_id) VALUES (?, ?)
      ON CONFLICT (source, external_id) DO UPDATE SET source = excluded.source
      RETURNING id`,
      )
      .pluck(),
    clearInteractions: database.prepare('DELETE FROM interactions WHERE source = ?'),
    addInteraction: database.prepare(`
      INSERT INTO interactions (listener_id, artist_id, weight, source) VALUES (?, ?, ?, ?)
      ON CONFLICT (listener_id, artist_id, source) DO UPDATE SET
        weight = interactions.weight + excluded.weight`),
    recordImport: database.prepare(`
      INSERT INTO imports (format, path, size, sha256, rows_read, rows_kept, rows_rejected,
        artists, listeners, imported_at)
      VALUES (@format, @path, @size, @sha256, @rowsRead, @rowsKept, @rowsRejected,
        @artists, @listeners, @importedAt)
      ON CONFLICT (format, path) DO UPDATE SET
        size = excluded.size, sha256 = excluded.sha256, rows_read = excluded.rows_read,
        rows_kept = excluded.rows_kept, rows_rejected = excluded.rows_rejected,
        artists = excluded.artists, listeners = excluded.listeners,
        imported_at = excluded.imported_at`),
  };

  const write = database.transaction(() => {
    // Artists: an existing key keeps its id and spelling; a new one gets the dataset's id if free.
    const artistIds = new Map<string, number>();
    for (const artist of batch.artists) {
      let id = statements.artistByKey.get(artist.key) as number | undefined;
      if (id === undefined) {
        const wanted = artist.preferredId;
        const free = wanted !== undefined && statements.idTaken.get(wanted) === undefined;
        const result = statements.insertArtist.run(
          free ? wanted : null,
          artist.name,
          artist.key,
          artist.url ?? null,
          now,
        );
        id = Number(result.lastInsertRowid);
      } else if (artist.url) {
        statements.fillUrl.run(artist.url, id);
      }
      artistIds.set(artist.key, id);

      for (const externalId of artist.externalIds ?? []) {
        statements.upsertArtistSource.run(
          batch.artistSource ?? batch.file.format,
          String(externalId),
          id,
        );
      }
      if (artist.tags !== undefined) {
        statements.clearTags.run(id);
        for (const [tag, count] of artist.tags) statements.insertTag.run(id, tag, count);
      }
    }

    // Interactions: this file's earlier rows go, its current rows come in.
    statements.clearInteractions.run(source);
    const listenerIds = new Map<string, number>();
    const touchedArtists = new Set<number>();
    for (const interaction of batch.interactions) {
      const artistId = artistIds.get(interaction.artistKey);
      if (artistId === undefined) {
        throw new Error(
          `Import bug: interaction with artist key "${interaction.artistKey}" not in the batch`,
        );
      }
      let listenerId = listenerIds.get(interaction.userId);
      if (listenerId === undefined) {
        listenerId = statements.upsertListener.get(
          batch.listenerSource,
          interaction.userId,
        ) as number;
        listenerIds.set(interaction.userId, listenerId);
      }
      statements.addInteraction.run(listenerId, artistId, interaction.weight, source);
      touchedArtists.add(artistId);
    }

    const touched = { artists: touchedArtists.size, listeners: listenerIds.size };
    statements.recordImport.run({
      ...batch.file,
      ...batch.counts,
      ...touched,
      importedAt: now,
    });
    return touched;
  });
  return write.immediate();
}
