/**
 * The bot's SQLite database (better-sqlite3, synchronous): members' taste profiles, the request
 * log, and the handle that importers and training read through. Knows nothing of Discord or of
 * the model; user ids are opaque text.
 *
 * Opened in WAL mode with foreign keys on and a busy timeout, so the bot, a CLI import and the
 * retrain worker (read-only) can use one file at once. Every write is one transaction.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import Database from 'better-sqlite3';

import { appliedVersions, migrate, readMigrations } from './migrations.ts';

/** `db/bot.sqlite` in the repository. */
export const DEFAULT_DATABASE_PATH = fileURLToPath(new URL('../../db/bot.sqlite', import.meta.url));

/** How long a write waits for another process's write to finish before failing. */
const BUSY_TIMEOUT_MS = 5000;

/** The largest weight a taste may have; the smallest is anything above 0. */
export const MAX_TASTE_WEIGHT = 1000;

/** One artist in a member's taste profile. */
export interface TasteEntry {
  artistKey: string;
  artistName: string;
  weight: number;
  /** ISO 8601 times. */
  addedAt: string;
  updatedAt: string;
}

/** One command a member ran, for the request log. */
export interface RequestRow {
  /** Defaults to now. */
  at?: Date;
  guildId: string | null;
  channelId: string | null;
  userId: string;
  command: string;
  artistKey: string | null;
  artistName: string | null;
  query: string;
}

/** Options of openStorage. */
export interface OpenStorageOptions {
  /** For the retrain worker: no migrations, no writes; the file must exist. */
  readonly?: boolean;
}

interface TasteRow {
  artist_key: string;
  artist_name: string;
  weight: number;
  added_at: string;
  updated_at: string;
}

/** The database handle. Create it with openStorage. */
export class Storage {
  /** The file path as given (`:memory:` for an in-memory database). */
  readonly path: string;
  /** The connection, for the storage modules (importers, readListeningData). */
  readonly database: Database.Database;
  readonly readonly: boolean;

  private readonly statements;

  /** Use openStorage, which validates the path and runs migrations. */
  constructor(path: string, database: Database.Database, readonly: boolean) {
    this.path = path;
    this.database = database;
    this.readonly = readonly;
    this.statements = {
      tasteExists: database.prepare('SELECT 1 FROM tastes WHERE user_id = ? AND artist_key = ?'),
      upsertTaste: database.prepare(`
        INSERT INTO tastes (user_id, artist_key, artist_name, weight, added_at, updated_at)
        VALUES (@userId, @artistKey, @artistName, @weight, @now, @now)
        ON CONFLICT (user_id, artist_key) DO UPDATE SET
          artist_name = excluded.artist_name,
          weight = excluded.weight,
          updated_at = excluded.updated_at`),
      removeTaste: database.prepare('DELETE FROM tastes WHERE user_id = ? AND artist_key = ?'),
      listTaste: database.prepare(`
        SELECT artist_key, artist_name, weight, added_at, updated_at FROM tastes
        WHERE user_id = ?
        ORDER BY weight DESC, artist_name COLLATE NOCASE, artist_key`),
      clearTaste: database.prepare('DELETE FROM tastes WHERE user_id = ?'),
      logRequest: database.prepare(`
        INSERT INTO requests
          (at, guild_id, channel_id, user_id, command, artist_key, artist_name, query)
        VALUES (@at, @guildId, @channelId, @userId, @command, @artistKey, @artistName, @query)`),
      forgetRequests: database.prepare('DELETE FROM requests WHERE user_id = ?'),
      memberCounts: database.prepare(`
        SELECT
          (SELECT COUNT(*) FROM (SELECT user_id FROM tastes UNION SELECT user_id FROM requests))
            AS members,
          (SELECT COUNT(*) FROM tastes) AS tastes,
          (SELECT COUNT(*) FROM requests) AS requests`),
    };
  }

  /**
   * Adds an artist to a member's taste profile, or changes its weight (and spelling) when it is
   * already there. `weight` must be finite, in (0, 1000]: RangeError otherwise.
   */
  addTaste(
    userId: string,
    artist: { key: string; name: string },
    weight: number,
  ): 'added' | 'updated' {
    requireText(userId, 'userId');
    requireText(artist.key, 'artist key');
    requireText(artist.name, 'artist name');
    if (
      typeof weight !== 'number' ||
      !Number.isFinite(weight) ||
      weight <= 0 ||
      weight > MAX_TASTE_WEIGHT
    ) {
      throw new RangeError(
        `A taste weight must be a number above 0 and at most ${MAX_TASTE_WEIGHT}, ` +
          `not ${String(weight)}.`,
      );
    }

    const { tasteExists, upsertTaste } = this.statements;
    const add = this.database.transaction(() => {
      const existed = tasteExists.get(userId, artist.key) !== undefined;
      upsertTaste.run({
        userId,
        artistKey: artist.key,
        artistName: artist.name,
        weight,
        now: new Date().toISOString(),
      });
      return existed ? 'updated' : 'added';
    });
    return add.immediate();
  }

  /** Removes one artist from a member's profile; false when it was not there. */
  removeTaste(userId: string, artistKey: string): boolean {
    return this.statements.removeTaste.run(userId, artistKey).changes > 0;
  }

  /** A member's profile, heaviest first, then by name. */
  listTaste(userId: string): TasteEntry[] {
    const rows = this.statements.listTaste.all(userId) as TasteRow[];
    return rows.map((row) => ({
      artistKey: row.artist_key,
      artistName: row.artist_name,
      weight: row.weight,
      addedAt: row.added_at,
      updatedAt: row.updated_at,
    }));
  }

  /** Empties a member's profile; returns how many artists were removed. */
  clearTaste(userId: string): number {
    return this.statements.clearTaste.run(userId).changes;
  }

  /** Appends one row to the request log. */
  logRequest(row: RequestRow): void {
    requireText(row.userId, 'userId');
    requireText(row.command, 'command');
    const at = row.at ?? new Date();
    if (!(at instanceof Date) || Number.isNaN(at.getTime())) {
      throw new RangeError('A request time must be a valid Date.');
    }
    this.statements.logRequest.run({
      at: at.toISOString(),
      guildId: row.guildId ?? null,
      channelId: row.channelId ?? null,
      userId: row.userId,
      command: row.command,
      artistKey: row.artistKey ?? null,
      artistName: row.artistName ?? null,
      query: String(row.query ?? ''),
    });
  }

  /** Deletes everything stored about a member (tastes and requests) in one transaction. */
  forgetMember(userId: string): { tastes: number; requests: number } {
    const forget = this.database.transaction(() => ({
      tastes: this.statements.clearTaste.run(userId).changes,
      requests: this.statements.forgetRequests.run(userId).changes,
    }));
    return forget.immediate();
  }

  /** Members with a taste or a request, taste rows, request rows. */
  /** True when anything could be trained on: imported listening, tastes or requests. O(1). */
  hasTrainingData(): boolean {
    const row = this.database.prepare(`
      SELECT EXISTS (SELECT 1 FROM interactions) OR EXISTS (SELECT 1 FROM tastes)
        OR EXISTS (SELECT 1 FROM requests) AS present`).get() as { present: number };
    return row.present === 1;
  }

  memberCounts(): { members: number; tastes: number; requests: number } {
    return this.statements.memberCounts.get() as {
      members: number;
      tastes: number;
      requests: number;
    };
  }

  /** Closes the connection; the object must not be used afterwards. Safe to call twice. */
  close(): void {
    if (this.database.open) this.database.close();
  }
}

/**
 * Opens (and creates, and migrates) the database at `path`; `:memory:` gives a private in-memory
 * one. With `readonly` the file must exist and be fully migrated, and nothing is written: that
 * is how the retrain worker reads while the bot writes. Throws an Error with a clear message
 * when the file cannot be opened.
 */
export function openStorage(path: string, options: OpenStorageOptions = {}): Storage {
  if (typeof path !== 'string' || path.length === 0) {
    throw new TypeError('openStorage needs a database path (or ":memory:").');
  }
  const inMemory = path === ':memory:';
  const file = inMemory ? path : resolve(path);

  if (options.readonly) {
    if (inMemory) throw new Error('A read-only database cannot be in memory: give a file path.');
    if (!existsSync(file)) {
      throw new Error(`Database ${file} does not exist (a read-only open never creates one).`);
    }
    const database = connect(file, { readonly: true, fileMustExist: true });
    try {
      const missing = readMigrations().filter((m) => !appliedVersions(database).has(m.version));
      if (missing.length > 0) {
        throw new Error(
          `Database ${file} is not up to date (migration ${missing[0].version} missing): ` +
            'open it once for writing, e.g. start the bot, before reading it read-only.',
        );
      }
    } catch (error) {
      database.close();
      throw error;
    }
    return new Storage(path, database, true);
  }

  if (!inMemory) mkdirSync(dirname(file), { recursive: true });
  const database = connect(file, {});
  try {
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    migrate(database);
  } catch (error) {
    database.close();
    throw error;
  }
  return new Storage(path, database, false);
}

function connect(file: string, options: Database.Options): Database.Database {
  let database: Database.Database;
  try {
    database = new Database(file, options);
  } catch (error) {
    throw new Error(`Cannot open database ${file}: ${(error as Error).message}`);
  }
  try {
    database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    database.pragma('foreign_keys = ON');
    // Reading the schema fails here, with a clear message, when the file is not SQLite.
    database.prepare('SELECT COUNT(*) FROM sqlite_master').get();
  } catch (error) {
    database.close();
    throw new Error(`Cannot open database ${file}: ${(error as Error).message}`);
  }
  return database;
}

function requireText(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`${what} must be a non-empty string.`);
  }
}
