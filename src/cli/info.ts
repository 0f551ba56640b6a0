/**
 * `npm run cli -- info [--model FILE] [--json]`: what a model file holds and how fast it loads.
 */
import { statSync } from 'node:fs';
import type { CliCommand } from './command.ts';
import { parseCommandLine, UsageError } from './command.ts';
import { loadModelForCli } from './loadModel.ts';
import type { TrainingParameters } from '../model/types.ts';
import type { Recommender } from '../model/recommender.ts';

const USAGE = `Usage: npm run cli -- info [--model FILE] [--json]

What a model file holds: format version, when it was written, training parameters, the data it
was trained on, final objective and iterations, artists and components, size on disk and the
time it took to load (read, check, build the search index).

Options:
  --json          print JSON instead of text
  --model FILE    model file (default: $MODEL_PATH, else the newest retrained model,
                   else models/default.nmf)`;

export const infoCommand: CliCommand = {
  name: 'info',
  summary: 'What a model file holds (parameters, data, size, load time)',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseOptions(argv);
    if (positionals.length > 0) throw new UsageError(`unexpected "${positionals[0]}"`);
    const { recommender, path, loadMilliseconds } = loadModelForCli(values.model);
    const meta = recommender.meta;
    const bytes = statSync(path).size;
    const mostListened = recommender.autocomplete('', 5).map((artist) => artist.name);

    if (values.json) {
      console.log(
        JSON.stringify(
          {
            path,
            bytes,
            loadMilliseconds: Math.round(loadMilliseconds * 10) / 10,
            artists: recommender.artistCount,
            components: recommender.data.components,
            mostListened,
            meta,
          },
          null,
          2,
        ),
      );
      return 0;
    }

    const p = meta.parameters;
    const lines = [
      `Model file      ${path}`,
      `Format version  ${meta.formatVersion}`,
      `Created         ${meta.createdAt}`,
      `Size on disk    ${formatBytes(bytes)}`,
      `Load time       ${loadMilliseconds.toFixed(1)} ms (read, checksum, search index)`,
      `Artists         ${recommender.artistCount}`,
      `Components      ${recommender.data.components}`,
      `Data            ${meta.data.source}: ${meta.data.artists} artists, ${meta.data.users} ` +
        `users, ${meta.data.nonzeros} listening counts`,
      `Solver          ${solverLine(p)}`,
      `Parameters      weighting ${p.weighting}, seed ${p.seed}, at most ${p.maxIterations} ` +
        `iterations, tolerance ${p.tolerance}, min listeners ${p.minListeners}`,
      `Penalties       artists l1 ${p.l1Artist} l2 ${p.l2Artist}; users l1 ${p.l1User} ` +
        `l2 ${p.l2User}; fold-in l1 ${meta.foldIn.l1} l2 ${meta.foldIn.l2}`,
      `Training        objective ${meta.objective}, ${meta.iterations} iterations, ` +
        `${meta.trainingSeconds.toFixed(1)} s`,
      `Most listened   ${mostListened.join(', ')}`,
      `Similar lists   ${neighbourLine(recommender)}`,
    ];
    console.log(lines.join('\n'));
    return 0;
  },
};

/** The objective a model was trained on, as `info` names it. */
function solverLine(parameters: TrainingParameters): string {
  if (parameters.solver === 'implicit') {
    return `implicit (played / not played, confidence 1 + ${parameters.confidence ?? 1} x ` +
      'weighted count)';
  }
  return 'frobenius (squared error on the weighted counts)';
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

function parseOptions(argv: string[]) {
  return parseCommandLine({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      model: { type: 'string' },
    },
  });
}

/** How many `/similar` lists the file stores, and how long each is. */
function neighbourLine(recommender: Recommender): string {
  const lists = recommender.data.neighbourLists;
  if (lists === undefined) return 'none stored: ranked when asked';
  return `stored for the ${lists.artists.length} most listened artists, ${lists.width} each`;
}
