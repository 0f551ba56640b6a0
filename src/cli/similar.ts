/**
 * `npm run cli -- similar "Artist" [--top N] [--json] [--model FILE]`: the artists most similar
 * to one artist; and `similar --ids-file FILE` for many dataset ids at once (JSON lines).
 */
import { readFileSync } from 'node:fs';
import type { Recommender, SimilarArtist } from '../model/recommender.ts';
import type { ModelArtist } from '../model/types.ts';
import type { CliCommand } from './command.ts';
import { parseCommandLine, UsageError } from './command.ts';
import { loadModelForCli } from './loadModel.ts';

const USAGE = `Usage:
  npm run cli -- similar "Artist name" [--top N] [--json] [--model FILE]
  npm run cli -- similar --ids-file FILE [--top N] [--model FILE]

The artists most similar to one artist: cosine in the model's similarity embedding, shrunk
towards zero for artists with few listeners. A misspelt or unknown name prints the closest
matches and exits with 1.

With --ids-file, FILE holds one artist id per line (the dataset's ids, as in artists.dat); one
JSON line is printed per id: {"artist": <id>, "similar": [<id>, ...]}. Unknown ids get
"similar": [] and a warning on stderr.

Options:
  --top N          how many artists (default 10, at most 1000)
  --json           print JSON instead of a table
  --ids-file FILE  many artists by id, JSON lines out
  --model FILE     model file (default: $MODEL_PATH, else the newest retrained model,
                   else models/default.nmf)`;

export const similarCommand: CliCommand = {
  name: 'similar',
  summary: 'The artists most similar to an artist (or to each id in a file)',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseOptions(argv);
    const top = parseTop(values.top);
    const name = positionals.join(' ').trim();
    const idsFile = values['ids-file'];
    if (idsFile !== undefined && name.length > 0) {
      throw new UsageError('give either an artist name or --ids-file, not both');
    }
    if (idsFile === undefined && name.length === 0) {
      throw new UsageError('name an artist, e.g. similar "Radiohead" (or pass --ids-file FILE)');
    }
    const ids = idsFile === undefined ? undefined : readIds(idsFile);
    const { recommender } = loadModelForCli(values.model);

    if (ids !== undefined) {
      printSimilarById(recommender, ids, top);
      return 0;
    }

    const resolution = recommender.resolve(name);
    if (resolution.artist === undefined) {
      console.error(notFoundMessage(name, resolution.suggestions));
      return 1;
    }
    const similar = recommender.similarArtists(resolution.artist, top);
    if (values.json) {
      console.log(
        JSON.stringify({
          artist: describe(resolution.artist),
          similar: similar.map((entry) => ({
            ...describe(entry.artist),
            similarity: round(entry.similarity),
            score: round(entry.score),
          })),
        }),
      );
    } else {
      console.log(formatTable(resolution.artist, similar));
    }
    return 0;
  },
};

/** "No artist named X in the model. Did you mean: A, B?" */
export function notFoundMessage(name: string, suggestions: ModelArtist[]): string {
  const shown = name.length > 80 ? `${name.slice(0, 77)}...` : name;
  const closest =
    suggestions.length > 0
      ? ` Did you mean: ${suggestions.map((artist) => artist.name).join(', ')}?`
      : '';
  return `No artist named "${shown}" in the model.${closest}`;
}

/** The --top value as an integer in 1..1000; default 10. */
export function parseTop(text: string | undefined): number {
  if (text === undefined) return 10;
  const top = Number(text);
  if (!Number.isInteger(top) || top < 1 || top > 1000) {
    throw new UsageError(`--top must be a whole number from 1 to 1000, got "${text}"`);
  }
  return top;
}

function parseOptions(argv: string[]) {
  return parseCommandLine({
    args: argv,
    allowPositionals: true,
    options: {
      top: { type: 'string' },
      json: { type: 'boolean', default: false },
      model: { type: 'string' },
      'ids-file': { type: 'string' },
    },
  });
}

/** Lines of FILE, blank lines skipped; each kept with its line number. */
function readIds(path: string): { line: number; text: string }[] {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`${path}: cannot read (${(error as NodeJS.ErrnoException).code})`);
  }
  return content
    .split(/\r?\n/)
    .map((text, index) => ({ line: index + 1, text: text.trim() }))
    .filter((entry) => entry.text.length > 0);
}

function printSimilarById(
  recommender: Recommender,
  ids: { line: number; text: string }[],
  top: number,
): void {
  const lines: string[] = [];
  for (const { line, text } of ids) {
    const id = Number(text);
    const artist = Number.isFinite(id) ? recommender.artistById(id) : undefined;
    if (artist === undefined) {
      console.error(`warning: line ${line}: no artist with id "${text}" in the model`);
    }
    const similar = artist === undefined ? [] : recommender.similarArtists(artist, top);
    lines.push(
      JSON.stringify({
        artist: Number.isFinite(id) ? id : text,
        similar: similar.map((entry) => entry.artist.id),
      }),
    );
  }
  if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
}

function formatTable(artist: ModelArtist, similar: SimilarArtist[]): string {
  if (similar.length === 0) return `No artists similar to ${artist.name} in this model.`;
  const width = Math.min(40, Math.max(...similar.map((entry) => entry.artist.name.length)));
  const rows = similar.map(
    (entry, position) =>
      `${String(position + 1).padStart(3)}. ${entry.artist.name.padEnd(width)}  ` +
      `similarity ${entry.similarity.toFixed(3)}  listeners ${entry.artist.listeners}`,
  );
  return [`Artists similar to ${artist.name}:`, ...rows].join('\n');
}

function describe(artist: ModelArtist) {
  return { id: artist.id, name: artist.name, listeners: artist.listeners };
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
