/** `import --format hetrec|spotify-csv|triples PATH [--database FILE] [--force] [--quiet]`. */

import { importHetrec } from '../import/importHetrec.ts';
import type { ImportOptions } from '../import/runImport.ts';
import { importSpotifyCsv } from '../import/spotifyCsv.ts';
import type { ImportSummary } from '../import/summary.ts';
import { formatSummary, ImportFileError } from '../import/summary.ts';
import { importTriples } from '../import/triples.ts';
import type { Storage } from '../storage/storage.ts';
import { DEFAULT_DATABASE_PATH, openStorage } from '../storage/storage.ts';
import type { CliCommand } from './command.ts';
import { parseCommandLine, UsageError } from './command.ts';

const IMPORTERS: Record<
  string,
  (storage: Storage, path: string, options: ImportOptions) => Promise<ImportSummary>
> = {
  hetrec: importHetrec,
  'spotify-csv': importSpotifyCsv,
  triples: importTriples,
};

const USAGE = `Usage: npm run cli -- import --format FORMAT PATH [--database FILE] [--force]
                                   [--quiet]

Imports listening data into the bot's database. Importing the same file again changes nothing;
a changed file at the same path replaces what it wrote before.

Formats:
  hetrec        the HetRec 2011 Last.fm folder (artists.dat, user_artists.dat, tags.dat, ...)
  spotify-csv   a Spotify playlists CSV: "user_id", "artistname", "trackname", "playlistname"
  triples       user,artist,count as CSV or TSV, header optional

Options:
  --format, -f FORMAT   one of the formats above (required)
  --database FILE       the SQLite file (default: $DATABASE_PATH, else db/bot.sqlite)
  --force               read and write the file even if this content was imported before
  --quiet               no progress on stderr`;

export const importCommand: CliCommand = {
  name: 'import',
  summary: 'Import listening data (HetRec folder, Spotify playlists CSV, user/artist/count)',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseCommandLine({
      args: argv,
      allowPositionals: true,
      options: {
        format: { type: 'string', short: 'f' },
        database: { type: 'string' },
        force: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
      },
    }, USAGE);
    const format = values.format;
    if (format === undefined || !(format in IMPORTERS)) {
      throw new UsageError(
        `--format must be one of ${Object.keys(IMPORTERS).join(', ')}` +
          (format === undefined ? '' : ` (not "${format}")`),
      );
    }
    if (positionals.length !== 1) {
      throw new UsageError(
        `give exactly one PATH to import (got ${positionals.length})\n\n${USAGE}`,
      );
    }

    const databasePath = values.database ?? process.env.DATABASE_PATH ?? DEFAULT_DATABASE_PATH;
    let storage: Storage;
    try {
      storage = openStorage(databasePath);
    } catch (error) {
      console.error(`import: ${(error as Error).message}`);
      return 1;
    }
    try {
      const summary = await IMPORTERS[format](storage, positionals[0], {
        force: values.force,
        quiet: values.quiet,
      });
      console.log(formatSummary(summary));
      console.log(`  database: ${storage.path}`);
      return 0;
    } catch (error) {
      if (error instanceof ImportFileError) {
        console.error(`import: ${error.message}`);
        return 1;
      }
      console.error(`import failed, nothing was written: ${(error as Error).message}`);
      return 1;
    } finally {
      storage.close();
    }
  },
};
