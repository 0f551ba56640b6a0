/**
 * `npm run cli -- recommend --artists "A:2,B" [--top N] [--json] [--model FILE]`: personal picks
 * for a taste given on the command line; and `recommend --input FILE` for many users at once
 * (JSON lines), FILE being `userID artistID weight` rows like Last.fm's user_artists.dat.
 */
import { readFileSync } from 'node:fs';
import type { Recommendation, Recommender } from '../model/recommender.ts';
import type { CliCommand } from './command.ts';
import { parseCommandLine, UsageError } from './command.ts';
import { loadModelForCli } from './loadModel.ts';
import { notFoundMessage, parseTop } from './similar.ts';

const USAGE = `Usage:
  npm run cli -- recommend --artists "Artist[:weight],Artist[:weight],..." [--top N] [--json]
                           [--model FILE]
  npm run cli -- recommend --input FILE [--top N] [--model FILE]

Personal picks for a taste: the taste is folded in against the model's artist factors, every
other artist is scored, and each pick names the taste artist it most resembles.

--artists: names separated by commas, each with an optional ":weight" (a positive number,
default 1). A comma or colon that belongs to a name is escaped with a backslash, e.g.
  --artists "Crosby\\, Stills\\, Nash & Young:3,Radiohead"
Names are matched like /similar (case, accents and punctuation do not matter); an unknown name
prints the closest matches and exits with 1.

--input: rows "userID artistID weight" separated by tabs or spaces (a header line is allowed),
artist ids being the dataset's ids. One JSON line per user, in order of first appearance:
{"user": <userID>, "artists": [<artistID>, ...]}. Rows naming artists outside the model are
skipped (counted in one warning on stderr).

Options:
  --top N         how many picks (default 10, at most 1000)
  --json          print JSON instead of a list (--artists only)
  --model FILE    model file (default: $MODEL_PATH, else the newest retrained model,
                   else models/default.nmf)`;

/** One entry of --artists: a typed name and its weight. */
export interface TypedTasteEntry {
  name: string;
  weight: number;
}

export const recommendCommand: CliCommand = {
  name: 'recommend',
  summary: 'Personal picks for a list of artists (or for each user in a file)',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseOptions(argv);
    if (positionals.length > 0) {
      throw new UsageError(`unexpected "${positionals[0]}": pass artists with --artists "A,B"`);
    }
    const top = parseTop(values.top);
    if ((values.artists === undefined) === (values.input === undefined)) {
      throw new UsageError('pass exactly one of --artists "A:weight,B" or --input FILE');
    }

    if (values.input !== undefined) {
      const rows = readInteractions(values.input);
      const { recommender } = loadModelForCli(values.model);
      printForUsers(recommender, rows, top);
      return 0;
    }

    const typed = parseArtistList(values.artists!);
    const { recommender } = loadModelForCli(values.model);
    const taste: { artistKey: string; weight: number }[] = [];
    for (const { name, weight } of typed) {
      const resolution = recommender.resolve(name);
      if (resolution.artist === undefined) {
        console.error(notFoundMessage(name, resolution.suggestions));
        return 1;
      }
      taste.push({ artistKey: resolution.artist.key, weight });
    }
    const picks = recommender.recommend(taste, top);
    if (values.json) {
      console.log(
        JSON.stringify(
          picks.map((pick) => ({
            id: pick.artist.id,
            name: pick.artist.name,
            score: Math.round(pick.score * 1e6) / 1e6,
            because: pick.because.name,
          })),
        ),
      );
    } else {
      console.log(formatList(picks));
    }
    return 0;
  },
};

/**
 * Splits `A:2,B\, C:1` into entries. A backslash makes the next character part of the name; an
 * unescaped comma ends an entry; text after the last unescaped colon is the weight and must be a
 * positive number. Throws UsageError on an empty name or a bad weight. O(length).
 */
export function parseArtistList(text: string): TypedTasteEntry[] {
  const entries: TypedTasteEntry[] = [];
  let name = '';
  let weightText: string | undefined;
  const finish = () => {
    const trimmed = name.trim();
    if (trimmed.length === 0) {
      if (weightText === undefined && entries.length > 0) return;
      throw new UsageError(`--artists has an entry with no name in "${text}"`);
    }
    let weight = 1;
    if (weightText !== undefined) {
      weight = Number(weightText.trim());
      if (weightText.trim() === '' || !Number.isFinite(weight) || weight <= 0) {
        throw new UsageError(
          `weight "${weightText}" for "${trimmed}" is not a positive number ` +
            '(escape a colon that belongs to the name as \\:)',
        );
      }
    }
    entries.push({ name: trimmed, weight });
    name = '';
    weightText = undefined;
  };

  for (let i = 0; i < text.length; i++) {
    const character = text[i];
    if (character === '\\' && i + 1 < text.length) {
      const next = text[++i];
      if (weightText === undefined) name += next;
      else weightText += next;
    } else if (character === ',') {
      finish();
    } else if (character === ':') {
      // A later colon moves the earlier "weight" back into the name.
      if (weightText !== undefined) name += `:${weightText}`;
      weightText = '';
    } else if (weightText === undefined) {
      name += character;
    } else {
      weightText += character;
    }
  }
  finish();
  return entries;
}

/** One `userID artistID weight` row. */
interface InteractionRow {
  user: string;
  artistId: number;
  weight: number;
}

/** Reads `userID artistID weight` rows; a non-numeric first line is a header. */
function readInteractions(path: string): InteractionRow[] {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`${path}: cannot read (${(error as NodeJS.ErrnoException).code})`);
  }
  const rows: InteractionRow[] = [];
  const lines = content.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line.length === 0) continue;
    const fields = line.split(/[\t ]+/);
    const artistId = Number(fields[1]);
    const weight = fields.length > 2 ? Number(fields[2]) : 1;
    if (
      fields.length < 2 ||
      fields.length > 3 ||
      !Number.isFinite(artistId) ||
      !Number.isFinite(weight)
    ) {
      if (rows.length === 0 && index === lines.findIndex((l) => l.trim().length > 0)) continue;
      throw new UsageError(
        `${path}:${index + 1}: expected "userID artistID weight", got "${line.slice(0, 60)}"`,
      );
    }
    rows.push({ user: fields[0], artistId, weight });
  }
  return rows;
}

function printForUsers(recommender: Recommender, rows: InteractionRow[], top: number): void {
  const tasteOfUser = new Map<string, { artistKey: string; weight: number }[]>();
  let unknown = 0;
  for (const { user, artistId, weight } of rows) {
    let taste = tasteOfUser.get(user);
    if (taste === undefined) tasteOfUser.set(user, (taste = []));
    const artist = recommender.artistById(artistId);
    if (artist === undefined) unknown++;
    else taste.push({ artistKey: artist.key, weight });
  }
  if (unknown > 0) {
    console.error(`warning: ${unknown} of ${rows.length} rows name artists outside the model`);
  }

  const out: string[] = [];
  for (const [user, taste] of tasteOfUser) {
    const picks = recommender.recommend(taste, top);
    const userId = /^\d+$/.test(user) ? Number(user) : user;
    out.push(JSON.stringify({ user: userId, artists: picks.map((pick) => pick.artist.id) }));
    if (out.length >= 1000) {
      process.stdout.write(`${out.join('\n')}\n`);
      out.length = 0;
    }
  }
  if (out.length > 0) process.stdout.write(`${out.join('\n')}\n`);
}

function formatList(picks: Recommendation[]): string {
  if (picks.length === 0) return 'No picks: none of these artists carries weight in this model.';
  const width = Math.min(40, Math.max(...picks.map((pick) => pick.artist.name.length)));
  return picks
    .map(
      (pick, position) =>
        `${String(position + 1).padStart(3)}. ` +
        `${pick.artist.name.padEnd(width)}  because you like ${pick.because.name}`,
    )
    .join('\n');
}

function parseOptions(argv: string[]) {
  return parseCommandLine({
    args: argv,
    allowPositionals: true,
    options: {
      artists: { type: 'string' },
      input: { type: 'string' },
      top: { type: 'string' },
      json: { type: 'boolean', default: false },
      model: { type: 'string' },
    },
  });
}
