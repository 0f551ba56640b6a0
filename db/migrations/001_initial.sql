-- The bot's database: the artist catalogue, imported listening data, members' tastes and the
-- log of requests. Times are ISO 8601 text in UTC.

-- One row per artist, whatever spelling it was seen under: `key` is lookupKey(name).
CREATE TABLE artists (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  key TEXT NOT NULL UNIQUE,
  url TEXT,
  created_at TEXT NOT NULL
);

-- An artist's most-applied tags and how often each was applied.
CREATE TABLE artist_tags (
  artist_id INTEGER NOT NULL REFERENCES artists (id) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  count INTEGER NOT NULL CHECK (count > 0),
  PRIMARY KEY (artist_id, tag)
) WITHOUT ROWID;

-- How a data source's own artist ids (HetRec `artistID`) map to artists.id.
CREATE TABLE artist_sources (
  source TEXT NOT NULL,
  external_id TEXT NOT NULL,
  artist_id INTEGER NOT NULL REFERENCES artists (id) ON DELETE CASCADE,
  PRIMARY KEY (source, external_id)
) WITHOUT ROWID;
CREATE INDEX artist_sources_by_artist ON artist_sources (artist_id);

-- Imported listeners: `source` is the namespace of their ids (`hetrec`, `spotify`, `triples`).
CREATE TABLE listeners (
  id INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  external_id TEXT NOT NULL,
  UNIQUE (source, external_id)
);

-- Listening weights. `source` names the import that wrote the row (`spotify-csv:/abs/path`),
-- so re-importing a file replaces exactly its own rows; weights are summed over sources.
CREATE TABLE interactions (
  listener_id INTEGER NOT NULL REFERENCES listeners (id) ON DELETE CASCADE,
  artist_id INTEGER NOT NULL REFERENCES artists (id) ON DELETE CASCADE,
  weight REAL NOT NULL CHECK (weight > 0),
  source TEXT NOT NULL,
  PRIMARY KEY (listener_id, artist_id, source)
) WITHOUT ROWID;
CREATE INDEX interactions_by_artist ON interactions (artist_id);
CREATE INDEX interactions_by_source ON interactions (source);

-- One row per imported file (or HetRec folder), with what was read from it.
CREATE TABLE imports (
  id INTEGER PRIMARY KEY,
  format TEXT NOT NULL,
  path TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  rows_read INTEGER NOT NULL,
  rows_kept INTEGER NOT NULL,
  rows_rejected INTEGER NOT NULL,
  artists INTEGER NOT NULL,
  listeners INTEGER NOT NULL,
  imported_at TEXT NOT NULL,
  UNIQUE (format, path)
);
CREATE INDEX imports_by_sha256 ON imports (sha256);

-- Discord members' taste profiles: `user_id` is opaque text (a snowflake, `console:<name>`).
CREATE TABLE tastes (
  user_id TEXT NOT NULL,
  artist_key TEXT NOT NULL,
  artist_name TEXT NOT NULL,
  weight REAL NOT NULL CHECK (weight > 0 AND weight <= 1000),
  added_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (user_id, artist_key)
) WITHOUT ROWID;
CREATE INDEX tastes_by_artist_key ON tastes (artist_key);

-- Every command a member ran, with the artist it was about when there was one.
CREATE TABLE requests (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  guild_id TEXT,
  channel_id TEXT,
  user_id TEXT NOT NULL,
  command TEXT NOT NULL,
  artist_key TEXT,
  artist_name TEXT,
  query TEXT NOT NULL
);
CREATE INDEX requests_by_user ON requests (user_id);
CREATE INDEX requests_by_artist_key ON requests (artist_key);
