/**
 * `npm run cli -- train [options]`: trains a model from the database (default) or straight from
 * a dataset folder, shows progress, prints a summary and writes the model file atomically.
 */
import { existsSync } from 'node:fs';
import cliProgress from 'cli-progress';

import { readHetrec } from '../import/hetrec.ts';
import type { ParsedImport } from '../import/runImport.ts';
import { parseTriples } from '../import/triples.ts';
import { buildCsr } from '../model/sparse.ts';
import { ImportFileError } from '../import/summary.ts';
import { writeModel } from '../model/modelFile.ts';
import type { NmfProgress } from '../model/nmf.ts';
import {
  DEFAULT_PARAMETERS,
  FROBENIUS_PARAMETERS,
  SOLVERS,
  trainModel,
} from '../model/train.ts';
import type { ListeningData, ModelData, TrainingParameters, Weighting } from '../model/types.ts';
import { WEIGHTINGS } from '../model/weighting.ts';
import { openStorage, DEFAULT_DATABASE_PATH } from '../storage/storage.ts';
import { readListeningData } from '../storage/listeningData.ts';
import type { CliCommand } from './command.ts';
import { parseCommandLine, UsageError } from './command.ts';

const DEFAULT_OUT = 'models/default.nmf';
const FORMATS = ['hetrec', 'triples'] as const;

const USAGE = `Usage: npm run cli -- train [options]

Trains the NMF model and writes it (atomically) to --out.

Data (one of):
  --database FILE        the bot's SQLite database (default ${DEFAULT_DATABASE_PATH})
  --data PATH --format hetrec|triples
                         a dataset read directly: the HetRec 2011 Last.fm folder, or a
                         user,artist,count CSV/TSV file

Options (defaults are the evaluated settings of the solver):
  --solver S             implicit (confidence-weighted, the default) or frobenius (HALS on
                         the weighted counts, with its own evaluated settings)
  --components K         number of components (default ${DEFAULT_PARAMETERS.components})
  --iterations N         at most N iterations (default ${DEFAULT_PARAMETERS.maxIterations})
  --seed S               random seed of the initial factors (default ${DEFAULT_PARAMETERS.seed})
  --weighting W          ${WEIGHTINGS.join('|')} (default ${DEFAULT_PARAMETERS.weighting})
  --min-listeners N      leave out artists with fewer listeners
                         (default ${DEFAULT_PARAMETERS.minListeners})
  --threads N            worker threads (default: the trainer's choice)
  --out FILE             where to write the model (default ${DEFAULT_OUT})`;

export const trainCommand: CliCommand = {
  name: 'train',
  summary: 'Train the NMF model from the database or a dataset folder',
  usage: USAGE,
  async run(argv) {
    const { values } = parseOptions(argv);
    const base = solverDefaults(values.solver);
    const parameters: TrainingParameters = {
      ...base,
      components: wholeNumber('--components', values.components, base.components, 1),
      maxIterations: wholeNumber('--iterations', values.iterations, base.maxIterations, 1),
      seed: wholeNumber('--seed', values.seed, base.seed, 0),
      minListeners: wholeNumber('--min-listeners', values['min-listeners'],
        base.minListeners, 1),
      weighting: weightingOption(values.weighting, base.weighting),
    };
    const threads = values.threads === undefined
      ? undefined
      : wholeNumber('--threads', values.threads, 1, 1);
    const out = values.out ?? DEFAULT_OUT;

    // Read the data.
    const data = await readData(values);
    console.error(
      `Read ${data.artists.length} artists, ${data.users.length} users from ${data.source}.`,
    );

    // Train, with progress on stderr.
    const progress = iterationProgress(parameters.maxIterations);
    let model: ModelData;
    try {
      model = await trainModel(data, parameters, { onIteration: progress.update, threads });
    } catch (error) {
      if (error instanceof RangeError) throw new UsageError(error.message);
      throw error;
    } finally {
      progress.stop();
    }

    await writeModel(out, model);
    console.log(summary(model, out));
    return 0;
  },
};

type Options = ReturnType<typeof parseOptions>['values'];

function parseOptions(argv: string[]) {
  return parseCommandLine({
    args: argv,
    options: {
      components: { type: 'string' },
      iterations: { type: 'string' },
      seed: { type: 'string' },
      weighting: { type: 'string' },
      solver: { type: 'string' },
      'min-listeners': { type: 'string' },
      threads: { type: 'string' },
      out: { type: 'string' },
      database: { type: 'string' },
      data: { type: 'string' },
      format: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
}

async function readData(values: Options): Promise<ListeningData> {
  if (values.data !== undefined) {
    if (values.database !== undefined) throw new UsageError('give --data or --database, not both');
    const format = values.format ?? 'hetrec';
    if (!(FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got "${format}"`);
    }
    try {
      return format === 'hetrec'
        ? await readHetrec(values.data)
        : triplesListening(await parseTriples(values.data), values.data);
    } catch (error) {
      if (error instanceof ImportFileError) throw new UsageError(error.message);
      throw error;
    }
  }

  const path = values.database ?? DEFAULT_DATABASE_PATH;
  if (!existsSync(path)) {
    throw new UsageError(
      `no database at ${path}: import data first (npm run cli -- import ...) or pass --data`,
    );
  }
  let storage;
  try {
    storage = openStorage(path, { readonly: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  try {
    return readListeningData(storage);
  } finally {
    storage.close();
  }
}

/** Parsed triples as listening data: artists in first-seen order, users in first-seen order. */
function triplesListening(parsed: ParsedImport, path: string): ListeningData {
  const rowOfKey = new Map<string, number>();
  const artists = parsed.artists.map((artist, row) => {
    rowOfKey.set(artist.key, row);
    return { id: row + 1, name: artist.name, key: artist.key, tags: [], url: artist.url ?? null };
  });
  const columnOfUser = new Map<string, number>();
  const rows: number[] = [];
  const columns: number[] = [];
  const weights: number[] = [];
  for (const interaction of parsed.interactions) {
    const row = rowOfKey.get(interaction.artistKey);
    if (row === undefined) continue;
    let column = columnOfUser.get(interaction.userId);
    if (column === undefined) {
      column = columnOfUser.size;
      columnOfUser.set(interaction.userId, column);
    }
    rows.push(row);
    columns.push(column);
    weights.push(interaction.weight);
  }
  return {
    artists,
    users: [...columnOfUser.keys()],
    counts: buildCsr(artists.length, columnOfUser.size, rows, columns, weights),
    source: `triples:${path}`,
  };
}

function wholeNumber(name: string, text: string | undefined, fallback: number, minimum: number) {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < minimum) {
    throw new UsageError(`${name} must be a whole number >= ${minimum}, got "${text}"`);
  }
  return value;
}

/** The defaults of the chosen solver: DEFAULT_PARAMETERS, or FROBENIUS_PARAMETERS. */
function solverDefaults(text: string | undefined): TrainingParameters {
  if (text === undefined) return DEFAULT_PARAMETERS;
  if (!(SOLVERS as readonly string[]).includes(text)) {
    throw new UsageError(`--solver must be one of ${SOLVERS.join(', ')}, got "${text}"`);
  }
  return text === DEFAULT_PARAMETERS.solver ? DEFAULT_PARAMETERS : FROBENIUS_PARAMETERS;
}

function weightingOption(text: string | undefined, fallback: Weighting): Weighting {
  if (text === undefined) return fallback;
  if (!(WEIGHTINGS as readonly string[]).includes(text)) {
    throw new UsageError(`--weighting must be one of ${WEIGHTINGS.join(', ')}, got "${text}"`);
  }
  return text as Weighting;
}

/** A cli-progress bar on a terminal, else a plain line every 10 iterations. */
function iterationProgress(maxIterations: number) {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: 'Training [{bar}] {value}/{total} iterations | objective {objective} | {eta}s left',
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(maxIterations, 0, { objective: '-' });
    return {
      update: (progress: NmfProgress) =>
        bar.update(progress.iteration, { objective: progress.objective.toPrecision(6) }),
      stop: () => bar.stop(),
    };
  }
  return {
    update: (progress: NmfProgress) => {
      if (progress.iteration % 10 !== 0 && progress.iteration !== 1) return;
      console.error(
        `iteration ${progress.iteration}/${maxIterations}: objective ` +
          `${progress.objective.toPrecision(6)}, ` +
          `change ${progress.relativeChange.toExponential(2)}, ` +
          `${progress.seconds.toFixed(1)} s`,
      );
    },
    stop: () => undefined,
  };
}

function summary(model: ModelData, out: string): string {
  const { meta } = model;
  const p = meta.parameters;
  return [
    `Wrote ${out}`,
    `  data        ${meta.data.artists} artists x ${meta.data.users} users, ` +
      `${meta.data.nonzeros} nonzeros (${meta.data.source})`,
    `  parameters  ${p.solver ?? 'frobenius'}` +
      `${p.confidence === undefined ? '' : ` (confidence ${p.confidence})`}, ` +
      `k=${p.components}, ${p.weighting}, seed ${p.seed}, min listeners ` +
      `${p.minListeners}, penalties W l1=${p.l1Artist} l2=${p.l2Artist}, ` +
      `H l1=${p.l1User} l2=${p.l2User}`,
    `  fold-in     l1=${meta.foldIn.l1} l2=${meta.foldIn.l2}`,
    `  training    ${meta.iterations} iterations, objective ${meta.objective.toPrecision(6)}, ` +
      `${meta.trainingSeconds.toFixed(1)} s`,
  ].join('\n');
}
