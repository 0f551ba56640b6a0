/**
 * A small bot database for retrain tests, built in code: 32 artists in 4 clusters of 8, and
 * 240 imported listeners (60 per cluster) who each play 5 artists of their own cluster (50 to
 * 500 plays) and, one time in three, one artist of another cluster (20 plays). Members are
 * added by the tests through the bot's own `Storage`.
 *
 * `ARTIST_A` (cluster 0) and `ARTIST_B` (cluster 2) start out dissimilar; tests make members add
 * both and expect the retrained model to bring them together.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';

import { lookupKey } from '../../src/model/lookupKey.ts';
import type { RetrainSettings } from '../../src/retrain/retrainRun.ts';
import { openStorage } from '../../src/storage/storage.ts';
import { seededRandom } from '../../src/model/random.ts';

export const CLUSTERS = 4;
export const ARTISTS_PER_CLUSTER = 8;
export const LISTENERS_PER_CLUSTER = 60;

/** Display name of artist `index` of `cluster`. */
export function artistName(cluster: number, index: number): string {
  return `${['Aurora', 'Basalt', 'Cobalt', 'Dune'][cluster]} Ensemble ${index + 1}`;
}

export const ARTIST_A = artistName(0, 0);
export const ARTIST_B = artistName(2, 0);

/** A temporary folder with `bot.sqlite` and `models/`; `remove()` deletes it all. */
export interface RetrainFixture {
  directory: string;
  databasePath: string;
  modelDirectory: string;
  remove(): void;
}

/**
 * Creates the database described above (or an empty, migrated one with `empty`). Deterministic.
 * Takes ~50 ms.
 */
export function createRetrainFixture(options: { empty?: boolean } = {}): RetrainFixture {
  const directory = mkdtempSync(join(tmpdir(), 'retrain-fixture-'));
  const databasePath = join(directory, 'bot.sqlite');
  const storage = openStorage(databasePath);
  try {
    if (!options.empty) fillListeningData(storage.database);
  } finally {
    storage.close();
  }
  return {
    directory,
    databasePath,
    modelDirectory: join(directory, 'models'),
    remove: () => rmSync(directory, { recursive: true, force: true }),
  };
}

/** A real pino logger whose JSON lines are kept for assertions. */
export function recordingLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) {
        if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

/**
 * Settings for a fast run on the fixture: 4 components, every artist kept, top-5 hit check, and
 * no penalties (the defaults are tuned to the HetRec scale and collapse a dataset this small).
 */
export function fixtureSettings(fixture: RetrainFixture, logger: pino.Logger) {
  return {
    databasePath: fixture.databasePath,
    modelDirectory: fixture.modelDirectory,
    logger,
    hitRank: 5,
    heldOutCases: 100,
    job: {
      parameters: { components: 4, maxIterations: 200, l1Artist: 0, l2Artist: 0, l1User: 0, l2User: 0 },
      minListeners: 1,
      seed: 7,
    },
  } satisfies RetrainSettings;
}

/** The file names in the fixture's model folder, sorted. */
export function modelFiles(fixture: RetrainFixture): string[] {
  return readdirSync(fixture.modelDirectory).sort();
}

/** Adds `count` members (ids from `firstId`) who each add A, B and one artist of cluster 1 or 3. */
export function addMembersWhoLikeAandB(databasePath: string, count: number, firstId = 1000): void {
  const storage = openStorage(databasePath);
  try {
    for (let member = 0; member < count; member++) {
      const userId = String(firstId + member);
      const extra = artistName(member % 2 === 0 ? 1 : 3, member % 8);
      for (const name of [ARTIST_A, ARTIST_B, extra]) {
        storage.addTaste(userId, { key: lookupKey(name), name }, 1);
      }
    }
  } finally {
    storage.close();
  }
}

type Database = ReturnType<typeof openStorage>['database'];

function fillListeningData(database: Database): void {
  const random = seededRandom(2011);
  const now = new Date(0).toISOString();
  const addArtist = database.prepare(
    'INSERT INTO artists (id, name, key, url, created_at) VALUES (?, ?, ?, NULL, ?)',
  );
  const addListener = database.prepare(
    "INSERT INTO listeners (id, source, external_id) VALUES (?, 'fixture', ?)",
  );
  const addPlays = database.prepare(
    "INSERT INTO interactions (listener_id, artist_id, weight, source) VALUES (?, ?, ?, 'fixture')",
  );
  const idOf = (cluster: number, index: number) => 1 + cluster * ARTISTS_PER_CLUSTER + index;

  database.transaction(() => {
    for (let cluster = 0; cluster < CLUSTERS; cluster++) {
      for (let index = 0; index < ARTISTS_PER_CLUSTER; index++) {
        const name = artistName(cluster, index);
        addArtist.run(idOf(cluster, index), name, lookupKey(name), now);
      }
    }

    let listener = 0;
    for (let cluster = 0; cluster < CLUSTERS; cluster++) {
      for (let member = 0; member < LISTENERS_PER_CLUSTER; member++) {
        listener++;
        addListener.run(listener, `listener-${listener}`);
        const order = shuffled(ARTISTS_PER_CLUSTER, random);
        for (const index of order.slice(0, 5)) {
          addPlays.run(listener, idOf(cluster, index), 50 + Math.floor(450 * random()));
        }
        if (random() < 1 / 3) {
          const other = (cluster + 1 + Math.floor(random() * (CLUSTERS - 1))) % CLUSTERS;
          addPlays.run(listener, idOf(other, Math.floor(random() * ARTISTS_PER_CLUSTER)), 20);
        }
      }
    }
  })();
}

/** 0 .. count - 1 in a random order (Fisher-Yates). */
function shuffled(count: number, random: () => number): number[] {
  const order = [...Array(count).keys()];
  for (let index = count - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [order[index], order[other]] = [order[other], order[index]];
  }
  return order;
}
