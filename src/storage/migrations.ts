/**
 * Schema migrations: numbered `.sql` files in db/migrations/ (`001_initial.sql`, ...), applied in
 * order, each in its own transaction, and recorded in `schema_migrations`. A migration that has
 * been released is never edited; a change is a new file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type Database from 'better-sqlite3';

/** The folder holding the migration files. */
export const MIGRATIONS_DIRECTORY = fileURLToPath(new URL('../../db/migrations/', import.meta.url));

/** One migration file. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const MIGRATION_FILE = /^(\d+)_([\w-]+)\.sql$/;

/** The migration files of a folder, by version. Throws on two files with one version. */
export function readMigrations(directory = MIGRATIONS_DIRECTORY): Migration[] {
  const migrations: Migration[] = [];
  for (const file of readdirSync(directory).sort()) {
    const match = MIGRATION_FILE.exec(file);
    if (match === null) continue;
    migrations.push({
      version: Number(match[1]),
      name: match[2],
      sql: readFileSync(join(directory, file), 'utf8'),
    });
  }
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i].version === migrations[i - 1].version) {
      throw new Error(`Two migrations share version ${migrations[i].version} in ${directory}`);
    }
  }
  return migrations;
}

/** Versions recorded as applied; empty for a fresh database. */
export function appliedVersions(database: Database.Database): Set<number> {
  const table = database
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get();
  if (table === undefined) return new Set();
  const rows = database.prepare('SELECT version FROM schema_migrations').all() as {
    version: number;
  }[];
  return new Set(rows.map((row) => row.version));
}

/**
 * Applies every migration not yet recorded, each in an IMMEDIATE transaction so that two
 * processes opening the same new file do not both apply it. Returns the versions applied.
 * Throws when the database has a version this code does not know (made by newer code).
 */
export function migrate(database: Database.Database, migrations = readMigrations()): number[] {
  database.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`);

  const known = new Set(migrations.map((migration) => migration.version));
  const unknown = [...appliedVersions(database)].filter((version) => !known.has(version));
  if (unknown.length > 0) {
    throw new Error(
      `The database has migration ${Math.max(...unknown)}, which this version of the bot does ` +
        'not know: it was written by a newer version.',
    );
  }

  const record = database.prepare(
    'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
  );
  const applied: number[] = [];
  for (const migration of migrations) {
    const apply = database.transaction(() => {
      // Checked again inside the lock: another process may have just applied it.
      if (appliedVersions(database).has(migration.version)) return false;
      database.exec(migration.sql);
      record.run(migration.version, migration.name, new Date().toISOString());
      return true;
    });
    if (apply.immediate()) applied.push(migration.version);
  }
  return applied;
}
