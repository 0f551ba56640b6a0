/**
 * `npm run cli -- evaluate --data PATH [--seeds 1,2] [--json]` (also `npm run eval -- ...`):
 * the offline evaluation of src/eval/ on the HetRec Last.fm folder. Prints a markdown table.
 */
import { existsSync, statSync } from 'node:fs';

import { readHetrec } from '../import/hetrec.ts';
import { ImportFileError } from '../import/summary.ts';
import {
  DEFAULT_PARAMETERS,
  defaultFoldIn,
  FROBENIUS_PARAMETERS,
  SOLVERS,
} from '../model/train.ts';
import {
  itemKnnMethod,
  originalPipelineMethod,
  popularityMethod,
  projectMethod,
} from '../eval/methods.ts';
import { evaluateMethods, formatResultsTable } from '../eval/protocol.ts';
import type { MethodScore } from '../eval/protocol.ts';
import type { CliCommand } from './command.ts';
import { parseCommandLine, UsageError } from './command.ts';

const LIST_LENGTH = 10;

const USAGE = `Usage: npm run cli -- evaluate --data PATH [--seeds 1,2] [--json] [--skip-original]
         [--solver implicit|frobenius] [--components K] [--iterations N]

Offline evaluation on the HetRec 2011 Last.fm folder: for every user with at least 5
artists a random 20% (at least one) is held out, each method is trained on the rest and
recommends ${LIST_LENGTH} artists per user; Recall@${LIST_LENGTH}, nDCG@${LIST_LENGTH} and catalogue
coverage, mean over the seeds.

Methods: popularity; item-kNN (log1p cosine); the original pipeline (user-max, NMF k=60 with
scikit-learn's effective penalties, cosine of artist factors); this project's model with its
default settings, recommending as the bot does (fold-in blended with neighbours).

Options:
  --data PATH        the hetrec2011-lastfm-2k folder (required)
  --seeds LIST       comma-separated split seeds (default 1,2)
  --json             print the results as JSON instead of a table
  --skip-original    leave out the original pipeline (the slowest baseline)
  --solver S         this project's solver with its evaluated settings: implicit (default)
                     or frobenius (HALS on BM25 weights)
  --components K     override this project's k (default ${DEFAULT_PARAMETERS.components})
  --iterations N     override this project's iteration cap
                     (default ${DEFAULT_PARAMETERS.maxIterations})`;

export const evaluateCommand: CliCommand = {
  name: 'evaluate',
  summary: 'Compare recommenders on held-out Last.fm listening (Recall@10, nDCG@10)',
  usage: USAGE,
  async run(argv) {
    const { values } = parseOptions(argv);
    const folder = values.data;
    if (folder === undefined) throw new UsageError('--data PATH is required (the Last.fm folder)');
    if (!existsSync(folder) || !statSync(folder).isDirectory()) {
      throw new UsageError(`${folder} is not a folder: pass the hetrec2011-lastfm-2k folder`);
    }
    const seeds = parseSeeds(values.seeds ?? '1,2');

    let data;
    try {
      data = await readHetrec(folder);
    } catch (error) {
      if (error instanceof ImportFileError) throw new UsageError(error.message);
      throw error;
    }
    console.error(
      `Read ${data.artists.length} artists, ${data.users.length} users from ${folder}; ` +
        `seeds ${seeds.join(', ')}.`,
    );

    const base = solverDefaults(values.solver);
    const parameters = {
      ...base,
      components: wholeNumber('--components', values.components, base.components),
      maxIterations: wholeNumber('--iterations', values.iterations, base.maxIterations),
    };
    const foldIn = defaultFoldIn(parameters);
    const methods = [
      popularityMethod,
      itemKnnMethod,
      ...(values['skip-original'] ? [] : [originalPipelineMethod(parameters.seed)]),
      projectMethod(
        `this project (${parameters.solver} NMF, ${parameters.weighting}, ` +
          `k=${parameters.components}, fold-in + neighbours)`,
        parameters,
        foldIn,
      ),
    ];
    const onResult = (result: MethodScore & { seed: number }) =>
      console.error(
        `  seed ${result.seed}  ${result.method}: Recall@${LIST_LENGTH} ` +
          `${result.recall.toFixed(4)}, nDCG@${LIST_LENGTH} ${result.ndcg.toFixed(4)}, ` +
          `train ${result.trainSeconds.toFixed(1)} s, rank ${result.rankSeconds.toFixed(1)} s`,
      );
    let results: MethodScore[];
    try {
      results = await evaluateMethods(data, methods, { seeds, listLength: LIST_LENGTH, onResult });
    } catch (error) {
      // Too little data for a method's k, or nothing left after filtering.
      if (error instanceof RangeError) throw new UsageError(`cannot evaluate: ${error.message}`);
      throw error;
    }

    if (values.json) {
      console.log(JSON.stringify({ seeds, listLength: LIST_LENGTH, parameters,
        foldIn, results }, null, 2));
    } else {
      console.log(formatResultsTable(results, LIST_LENGTH));
    }
    return 0;
  },
};

function parseOptions(argv: string[]) {
  return parseCommandLine({
    args: argv,
    options: {
      data: { type: 'string' },
      seeds: { type: 'string' },
      json: { type: 'boolean' },
      'skip-original': { type: 'boolean' },
      components: { type: 'string' },
      iterations: { type: 'string' },
      solver: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
}

function wholeNumber(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) {
    throw new UsageError(`${name} must be a whole number >= 1, got "${text}"`);
  }
  return Number(text);
}

/** The evaluated settings of the chosen solver: DEFAULT_PARAMETERS, or FROBENIUS_PARAMETERS. */
function solverDefaults(text: string | undefined) {
  if (text === undefined) return DEFAULT_PARAMETERS;
  if (!(SOLVERS as readonly string[]).includes(text)) {
    throw new UsageError(`--solver must be one of ${SOLVERS.join(', ')}, got "${text}"`);
  }
  return text === DEFAULT_PARAMETERS.solver ? DEFAULT_PARAMETERS : FROBENIUS_PARAMETERS;
}

function parseSeeds(text: string): number[] {
  const seeds = text.split(',').map((part) => part.trim());
  if (seeds.length === 0 || seeds.some((seed) => !/^-?\d+$/.test(seed))) {
    throw new UsageError(`--seeds takes whole numbers separated by commas, got "${text}"`);
  }
  return seeds.map(Number);
}
