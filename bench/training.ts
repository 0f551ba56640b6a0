/**
 * Training benchmark on the Last.fm HetRec 2011 play counts: our factorize against scikit-learn's
 * NMF (solver 'cd', run by bench/sklearn_nmf.py under /usr/bin/python3).
 *
 * Both start from the same point (a seeded uniform start scaled like scikit-learn's 'random'
 * init, handed to scikit-learn as init='custom') and minimise the same objective with the same
 * penalties (ours are absolute; the Python script converts them into scikit-learn's scaled
 * alpha_W and alpha_H). scikit-learn runs to its own stopping rule; we report how long our
 * trainer takes to come within 0.01% of the objective scikit-learn ended at, besides our own run
 * to convergence (relative change < 1e-5).
 *
 * A second table times training the served model: the implicit solver (src/model/implicitNmf.ts)
 * with DEFAULT_PARAMETERS on the same data, filtered and weighted as trainModel does, on 1 and 2
 * threads. scikit-learn has no counterpart for that objective (confidence-weighted, every cell
 * counted, W, H >= 0), so those rows stand alone.
 *
 * Run: npx tsx bench/training.ts [--data DIR] [--repeats 3] [--threads N] [--seed 42]
 *        [--inner-passes ARTIST,USER] [--no-sklearn] [--implicit-only]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCsr, rowCounts, selectRows, nonzeros } from '../src/model/sparse.ts';
import type { SparseMatrix } from '../src/model/sparse.ts';
import { applyWeighting } from '../src/model/weighting.ts';
import { factorize } from '../src/model/nmf.ts';
import { factorizeImplicit } from '../src/model/implicitNmf.ts';
import { readHetrec } from '../src/import/hetrec.ts';
import { DEFAULT_PARAMETERS, filterListening, implicitOptionsOf } from '../src/model/train.ts';
import { seededRandom } from '../src/model/random.ts';
import type { NmfPenalties } from '../src/model/nmf.ts';
import type { Weighting } from '../src/model/types.ts';

export interface TrainingCase {
  name: string;
  components: number;
  /** Artists with fewer listeners are dropped before weighting. */
  minListeners: number;
}

export interface BenchTrainingOptions {
  /** Folder holding user_artists.dat. */
  data: string;
  cases: TrainingCase[];
  weighting: Weighting;
  penalties: NmfPenalties;
  /** Our runs per case; the median is reported. */
  repeats: number;
  /** Our stopping rule. */
  tolerance: number;
  maxIterations: number;
  /** Run scikit-learn too (installs python3-sklearn with apt-get when missing). */
  sklearn: boolean;
  seed: number;
  threads?: number;
  /** Inner coordinate passes per row for our trainer (NmfOptions.innerPasses); default 1 each. */
  innerPasses?: { artist: number; user: number };
  /** Skip the Frobenius cases and scikit-learn: only the served model's table. */
  implicitOnly?: boolean;
}

export interface TrainingRow {
  name: string;
  artists: number;
  users: number;
  nonzeros: number;
  components: number;
  /** Median seconds of our run to convergence, its iterations and objective. */
  oursSeconds: number;
  /** Median CPU seconds (all threads) of that run: robust to a busy machine. */
  oursCpuSeconds: number;
  oursIterations: number;
  oursObjective: number;
  /** Median seconds to come within 0.01% of scikit-learn's final objective; null if never. */
  oursSecondsToSklearn: number | null;
  sklearnSeconds: number | null;
  sklearnIterations: number | null;
  sklearnObjective: number | null;
  /** sklearnSeconds / oursSecondsToSklearn. */
  speedup: number | null;
}

/** One thread count of the served model's training. */
export interface ServedTrainingRow {
  threads: number;
  artists: number;
  users: number;
  nonzeros: number;
  components: number;
  /** Medians over the repeats: wall seconds of the factorization, CPU seconds (all threads). */
  seconds: number;
  cpuSeconds: number;
  iterations: number;
  objective: number;
}

/** Relative margin within which our objective counts as scikit-learn's. */
const REACH_SLACK = 1e-4;

export const DEFAULT_CASES: TrainingCase[] = [
  { name: 'k=128, artists with >= 2 listeners', components: 128, minListeners: 2 },
  { name: 'k=64, all artists', components: 64, minListeners: 1 },
];

const DEFAULTS: BenchTrainingOptions = {
  data: fileURLToPath(new URL('../../shared/datasets/lastfm-hetrec2011', import.meta.url)),
  cases: DEFAULT_CASES,
  weighting: 'bm25',
  penalties: { l1Artist: 0, l2Artist: 0, l1User: 0, l2User: 0 },
  repeats: 3,
  tolerance: 1e-5,
  maxIterations: 500,
  sklearn: true,
  seed: 42,
};

/**
 * Runs every case: scikit-learn once (if enabled), then ours `repeats` times. Returns one row per
 * case. Costs minutes: scikit-learn at k = 128 is the slow part.
 */
export async function benchTraining(
  options: Partial<BenchTrainingOptions> = {},
): Promise<TrainingRow[]> {
  const settings = { ...DEFAULTS, ...options };
  const counts = readUserArtists(join(settings.data, 'user_artists.dat'));
  const python = settings.sklearn ? ensureSklearn() : null;
  const rows: TrainingRow[] = [];

  for (const trainingCase of settings.cases) {
    const kept = keepArtists(counts, trainingCase.minListeners);
    const matrix = applyWeighting(kept, settings.weighting);
    const k = trainingCase.components;

    const start = startingPoint(matrix, k, settings.seed);
    const sklearn = python ? runSklearn(matrix, k, settings, start) : null;

    // Our own stopping rule, `repeats` times.
    const runs: { seconds: number; cpuSeconds: number; iterations: number; objective: number }[] =
      [];
    for (let repeat = 0; repeat < settings.repeats; repeat++) {
      const cpuBefore = cpuSeconds();
      const result = await factorize(matrix, {
        ...trainingOptions(settings, k, settings.tolerance),
        initial: start,
      });
      const { seconds, iterations, objective } = result;
      runs.push({ seconds, cpuSeconds: cpuSeconds() - cpuBefore, iterations, objective });
    }

    // Time to scikit-learn's final objective (within REACH_SLACK), stopped as soon as it is
    // reached; a run that converges to 1e-7 first gives up.
    const reaches: (number | null)[] = [];
    for (let repeat = 0; sklearn && repeat < settings.repeats; repeat++) {
      let reach: number | null = null;
      await factorize(matrix, {
        ...trainingOptions(settings, k, 1e-7),
        initial: start,
        maxIterations: settings.maxIterations * 4,
        onIteration: (progress) => {
          if (progress.objective > sklearn.objective * (1 + REACH_SLACK)) return true;
          reach = progress.seconds;
          return false;
        },
      });
      reaches.push(reach);
    }
    const toSklearn =
      reaches.length > 0 && reaches.every((seconds) => seconds !== null)
        ? median(reaches as number[])
        : null;
    rows.push({
      name: trainingCase.name,
      artists: matrix.rows,
      users: matrix.columns,
      nonzeros: nonzeros(matrix),
      components: k,
      oursSeconds: median(runs.map((run) => run.seconds)),
      oursCpuSeconds: median(runs.map((run) => run.cpuSeconds)),
      oursIterations: runs[0].iterations,
      oursObjective: runs[0].objective,
      oursSecondsToSklearn: toSklearn,
      sklearnSeconds: sklearn?.seconds ?? null,
      sklearnIterations: sklearn?.iterations ?? null,
      sklearnObjective: sklearn?.objective ?? null,
      speedup: sklearn && toSklearn ? sklearn.seconds / toSklearn : null,
    });
  }
  return rows;
}

/**
 * Trains the served model's factorization (DEFAULT_PARAMETERS, implicit solver) on the HetRec
 * data read as `npm run cli -- train --data` reads it, `repeats` times on each thread count.
 * Costs about (8 + 5) s per repeat on a 2-core machine.
 */
export async function benchServedTraining(
  data: string,
  repeats: number,
  threadCounts: number[] = [1, 2],
): Promise<ServedTrainingRow[]> {
  const parameters = DEFAULT_PARAMETERS;
  const listening = await readHetrec(data);
  const filtered = filterListening(listening, parameters.minListeners);
  const matrix = applyWeighting(filtered.counts, parameters.weighting);
  const rows: ServedTrainingRow[] = [];
  for (const threads of threadCounts) {
    const runs: { seconds: number; cpuSeconds: number; iterations: number; objective: number }[] =
      [];
    for (let repeat = 0; repeat < repeats; repeat++) {
      const cpuBefore = cpuSeconds();
      const result = await factorizeImplicit(matrix, implicitOptionsOf(parameters, { threads }));
      runs.push({
        seconds: result.seconds,
        cpuSeconds: cpuSeconds() - cpuBefore,
        iterations: result.iterations,
        objective: result.objective,
      });
    }
    rows.push({
      threads,
      artists: matrix.rows,
      users: matrix.columns,
      nonzeros: nonzeros(matrix),
      components: parameters.components,
      seconds: median(runs.map((run) => run.seconds)),
      cpuSeconds: median(runs.map((run) => run.cpuSeconds)),
      iterations: runs[0].iterations,
      objective: runs[0].objective,
    });
  }
  return rows;
}

/** The served model's rows as a markdown table. */
export function servedTrainingTable(rows: ServedTrainingRow[]): string {
  const lines = [
    '| served model (implicit, k, 25 iterations max) | artists x users (nnz) | threads ' +
      '| s (CPU s) | iterations | objective |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const row of rows) {
    lines.push(
      `| DEFAULT_PARAMETERS, k=${row.components} | ${row.artists} x ${row.users} ` +
        `(${row.nonzeros}) | ${row.threads} | ${row.seconds.toFixed(2)} ` +
        `(${row.cpuSeconds.toFixed(2)}) | ${row.iterations} | ${row.objective.toFixed(1)} |`,
    );
  }
  return lines.join('\n');
}

/**
 * The shared start: uniform [0, 1) scaled by sqrt(mean(X) / k), as scikit-learn's 'random' init,
 * from a seeded generator so both trainers get the very same numbers.
 */
function startingPoint(matrix: SparseMatrix, k: number, seed: number) {
  let total = 0;
  for (const value of matrix.values) total += value;
  const scale = Math.sqrt(total / (matrix.rows * matrix.columns) / k);
  const random = seededRandom(seed);
  const artistFactors = new Float32Array(matrix.rows * k).map(() => scale * random());
  const userFactors = new Float32Array(matrix.columns * k).map(() => scale * random());
  return { artistFactors, userFactors };
}

function trainingOptions(settings: BenchTrainingOptions, k: number, tolerance: number) {
  return {
    components: k,
    maxIterations: settings.maxIterations,
    tolerance,
    seed: settings.seed,
    ...settings.penalties,
    threads: settings.threads,
    innerPasses: settings.innerPasses,
  };
}

/** User + system CPU seconds of the whole process, worker threads included. */
function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/** The rows as a markdown table. */
export function trainingTable(rows: TrainingRow[]): string {
  const format = (x: number | null, digits = 2) => (x === null ? 'n/a' : x.toFixed(digits));
  const lines = [
    '| case | artists x users (nnz) | ours: s to sklearn objective | sklearn s (iter) | speed-up ' +
      '| ours: s to converge (CPU s, iter) | objective ours / sklearn |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const row of rows) {
    const speedup = row.speedup === null ? 'n/a' : `${row.speedup.toFixed(1)}x`;
    lines.push(
      `| ${row.name} | ${row.artists} x ${row.users} (${row.nonzeros}) ` +
        `| ${format(row.oursSecondsToSklearn)} ` +
        `| ${format(row.sklearnSeconds)} (${row.sklearnIterations ?? 'n/a'}) | ${speedup} ` +
        `| ${format(row.oursSeconds)} (${format(row.oursCpuSeconds)}, ${row.oursIterations}) ` +
        `| ${format(row.oursObjective, 1)} / ${format(row.sklearnObjective, 1)} |`,
    );
  }
  return lines.join('\n');
}

/** user_artists.dat as an artists x users count matrix (tab-separated, header, CRLF). */
function readUserArtists(path: string): SparseMatrix {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  const artistRow = new Map<number, number>();
  const userColumn = new Map<number, number>();
  const rows: number[] = [];
  const columns: number[] = [];
  const values: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i] === '') continue;
    const [user, artist, weight] = lines[i].split('\t').map(Number);
    if (!artistRow.has(artist)) artistRow.set(artist, artistRow.size);
    if (!userColumn.has(user)) userColumn.set(user, userColumn.size);
    rows.push(artistRow.get(artist)!);
    columns.push(userColumn.get(user)!);
    values.push(weight);
  }
  return buildCsr(artistRow.size, userColumn.size, rows, columns, values);
}

function keepArtists(counts: SparseMatrix, minListeners: number): SparseMatrix {
  const listeners = rowCounts(counts);
  const keep: number[] = [];
  for (let artist = 0; artist < counts.rows; artist++) {
    if (listeners[artist] >= minListeners) keep.push(artist);
  }
  return selectRows(counts, keep);
}

/** Checks for scikit-learn under /usr/bin/python3, installing Debian's package if missing. */
function ensureSklearn(): string | null {
  const python = '/usr/bin/python3';
  const probe = () => spawnSync(python, ['-c', 'import sklearn'], { stdio: 'ignore' }).status === 0;
  if (probe()) return python;
  console.error('scikit-learn missing: apt-get install -y python3-sklearn ...');
  // apt's chatter goes to stderr so that stdout stays the table.
  spawnSync('sh', ['-c', 'apt-get update && apt-get install -y python3-sklearn'], {
    stdio: ['ignore', 2, 2],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (probe()) return python;
  console.error('scikit-learn is still unavailable: its columns will read n/a.');
  return null;
}

function runSklearn(
  matrix: SparseMatrix,
  k: number,
  settings: BenchTrainingOptions,
  start: { artistFactors: Float32Array; userFactors: Float32Array },
): { seconds: number; objective: number; iterations: number } | null {
  const folder = mkdtempSync(join(tmpdir(), 'nmf-bench-'));
  try {
    const prefix = join(folder, 'matrix');
    writeFileSync(`${prefix}.indptr`, bytes(matrix.rowPointers));
    writeFileSync(`${prefix}.indices`, bytes(matrix.columnIndices));
    writeFileSync(`${prefix}.data`, bytes(matrix.values));
    writeFileSync(`${prefix}.w0`, bytes(start.artistFactors));
    writeFileSync(`${prefix}.h0`, bytes(start.userFactors));

    // Let numpy pick its own BLAS kernels: drop this machine's OpenBLAS overrides for this run.
    const env = { ...process.env };
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
    const { l1Artist, l2Artist, l1User, l2User } = settings.penalties;
    const script = fileURLToPath(new URL('./sklearn_nmf.py', import.meta.url));
    const run = spawnSync(
      '/usr/bin/python3',
      [
        script,
        prefix,
        String(matrix.rows),
        String(matrix.columns),
        String(k),
        String(settings.seed),
        String(settings.maxIterations),
        '1e-4',
        String(l1Artist),
        String(l2Artist),
        String(l1User),
        String(l2User),
      ],
      { env, encoding: 'utf8', maxBuffer: 1 << 20 },
    );
    if (run.status !== 0) {
      console.error(`scikit-learn run failed: ${run.stderr.trim().split('\n').pop()}`);
      return null;
    }
    return JSON.parse(run.stdout.trim().split('\n').pop()!);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

function bytes(array: Int32Array | Float32Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function parseArguments(argv: string[]): Partial<BenchTrainingOptions> {
  const options: Partial<BenchTrainingOptions> = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--data') options.data = argv[++i];
    else if (argv[i] === '--repeats') options.repeats = Number(argv[++i]);
    else if (argv[i] === '--no-sklearn') options.sklearn = false;
    else if (argv[i] === '--threads') options.threads = Number(argv[++i]);
    else if (argv[i] === '--seed') options.seed = Number(argv[++i]);
    else if (argv[i] === '--inner-passes') {
      const [artist, user] = argv[++i].split(',').map(Number);
      options.innerPasses = { artist, user: user ?? artist };
    }
    else if (argv[i] === '--implicit-only') options.implicitOnly = true;
    else {
      console.error(
        `Unknown argument ${argv[i]}: use --data DIR, --repeats N, --threads N, --seed N, ` +
          '--inner-passes ARTIST,USER, --no-sklearn, --implicit-only',
      );
      process.exit(1);
    }
  }
  return options;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const options = parseArguments(process.argv.slice(2));
  if (!options.implicitOnly) console.log(trainingTable(await benchTraining(options)));
  const served = await benchServedTraining(
    options.data ?? DEFAULTS.data,
    options.repeats ?? DEFAULTS.repeats,
  );
  console.log(`\n${servedTrainingTable(served)}`);
}
