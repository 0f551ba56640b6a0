/**
 * Listening data for training, read from the database: imported interactions, plus (optionally)
 * one column per Discord member built from their tastes and requests.
 */
import { buildCsr } from '../model/sparse.ts';
import type { CatalogueArtist, ListeningData } from '../model/types.ts';
import type { Storage } from './storage.ts';

/** How members become columns: weight of a taste = taste weight x tasteWeight; each request
 *  about an artist adds requestWeight. */
export interface MemberWeights {
  tasteWeight: number;
  requestWeight: number;
}

/** Options of readListeningData. */
export interface ReadListeningDataOptions {
  /** Artists with fewer listeners (members included) are dropped. Default 1. */
  minListeners?: number;
  /** When given, members are added as `discord:<userId>` columns. */
  members?: MemberWeights;
}

/** How many tags each artist carries in the result. */
const TAGS_PER_ARTIST = 5;

interface Cell {
  artistId: number;
  column: number;
  weight: number;
}

/**
 * Listening data from the database: artists x listeners, weights summed over sources,
 * artists with fewer than minListeners listeners dropped. Imported listeners only unless
 * `members` is given: then one extra column per Discord member built from tastes (weight x
 * tasteWeight) and requests (count x requestWeight), matched to artists by key.
 *
 * Columns: imported listeners as `<source>:<external id>` in the order they were imported, then
 * members as `discord:<userId>` sorted by id; listeners left with no artist are dropped. Rows:
 * artists by id, with their top tags. Cost: one pass over interactions, tastes and requests;
 * O(interactions) memory.
 */
export function readListeningData(
  storage: Storage,
  options: ReadListeningDataOptions = {},
): ListeningData {
  const minListeners = options.minListeners ?? 1;
  if (!Number.isFinite(minListeners) || minListeners < 0) {
    throw new RangeError(`minListeners must be a number >= 0, not ${minListeners}`);
  }
  const { database } = storage;

  // Imported listeners: weights summed over the imports that wrote them.
  const cells: Cell[] = [];
  const users: string[] = [];
  const columnOfListener = new Map<number, number>();
  const listenerRows = database
    .prepare(`SELECT id, source, external_id AS externalId FROM listeners ORDER BY id`)
    .all() as { id: number; source: string; externalId: string }[];
  for (const listener of listenerRows) {
    columnOfListener.set(listener.id, users.length);
    users.push(`${listener.source}:${listener.externalId}`);
  }
  const interactionRows = database
    .prepare(
      `
      SELECT artist_id AS artistId, listener_id AS listenerId, SUM(weight) AS weight
      FROM interactions GROUP BY artist_id, listener_id`,
    )
    .raw()
    .iterate() as IterableIterator<[number, number, number]>;
  for (const [artistId, listenerId, weight] of interactionRows) {
    cells.push({ artistId, column: columnOfListener.get(listenerId)!, weight });
  }

  if (options.members !== undefined) addMemberCells(storage, options.members, cells, users);

  // Listeners per artist decide which rows stay.
  const listenersOf = new Map<number, number>();
  for (const cell of cells)
    listenersOf.set(cell.artistId, (listenersOf.get(cell.artistId) ?? 0) + 1);
  const keptIds = [...listenersOf]
    .filter(([, listeners]) => listeners >= minListeners && listeners > 0)
    .map(([artistId]) => artistId)
    .sort((a, b) => a - b);
  const rowOf = new Map(keptIds.map((artistId, row) => [artistId, row]));
  const keptCells = cells.filter((cell) => rowOf.has(cell.artistId));

  // Columns with nothing left are dropped and the rest renumbered in order.
  const used = new Uint8Array(users.length);
  for (const cell of keptCells) used[cell.column] = 1;
  const newColumn = new Int32Array(users.length).fill(-1);
  const keptUsers: string[] = [];
  for (let column = 0; column < users.length; column++) {
    if (used[column] === 0) continue;
    newColumn[column] = keptUsers.length;
    keptUsers.push(users[column]);
  }

  const rowIndices = new Int32Array(keptCells.length);
  const columnIndices = new Int32Array(keptCells.length);
  const values = new Float32Array(keptCells.length);
  keptCells.forEach((cell, i) => {
    rowIndices[i] = rowOf.get(cell.artistId)!;
    columnIndices[i] = newColumn[cell.column];
    values[i] = cell.weight;
  });

  return {
    artists: readArtists(storage, keptIds),
    users: keptUsers,
    counts: buildCsr(keptIds.length, keptUsers.length, rowIndices, columnIndices, values),
    source: `sqlite:${storage.path}`,
  };
}

/** Adds one column per member with a taste or a request about a known artist. */
function addMemberCells(
  storage: Storage,
  weights: MemberWeights,
  cells: Cell[],
  users: string[],
): void {
  for (const [name, value] of Object.entries(weights)) {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`members.${name} must be a number >= 0, not ${value}`);
    }
  }

  // Tastes and requests pooled per (member, artist), matched to the catalogue by key.
  const rows = storage.database
    .prepare(
      `
      SELECT user_id AS userId, artist_id AS artistId, SUM(weight) AS weight FROM (
        SELECT t.user_id, a.id AS artist_id, t.weight * @tasteWeight AS weight
        FROM tastes t JOIN artists a ON a.key = t.artist_key
        UNION ALL
        SELECT r.user_id, a.id AS artist_id, @requestWeight AS weight
        FROM requests r JOIN artists a ON a.key = r.artist_key
      )
      GROUP BY user_id, artist_id
      HAVING SUM(weight) > 0
      ORDER BY user_id, artist_id`,
    )
    .raw()
    .all({ tasteWeight: weights.tasteWeight, requestWeight: weights.requestWeight }) as [
    string,
    number,
    number,
  ][];

  let previousUser: string | null = null;
  for (const [userId, artistId, weight] of rows) {
    if (userId !== previousUser) {
      users.push(`discord:${userId}`);
      previousUser = userId;
    }
    cells.push({ artistId, column: users.length - 1, weight });
  }
}

/** The catalogue entries of the given artist ids, in that order, with their top tags. */
function readArtists(storage: Storage, ids: number[]): CatalogueArtist[] {
  const { database } = storage;
  const byId = new Map<number, CatalogueArtist>();
  const artistRows = database.prepare('SELECT id, name, key, url FROM artists').all() as {
    id: number;
    name: string;
    key: string;
    url: string | null;
  }[];
  for (const row of artistRows) byId.set(row.id, { ...row, tags: [] });

  const tagRows = database
    .prepare('SELECT artist_id, tag FROM artist_tags ORDER BY artist_id, count DESC, tag')
    .raw()
    .iterate() as IterableIterator<[number, string]>;
  for (const [artistId, tag] of tagRows) {
    const artist = byId.get(artistId);
    if (artist !== undefined && artist.tags.length < TAGS_PER_ARTIST) artist.tags.push(tag);
  }
  return ids.map((id) => byId.get(id)!);
}
