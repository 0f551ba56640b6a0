/**
 * Scale benchmark: a seeded synthetic matrix shaped like Last.fm 360K (about 160,000 artists x
 * 360,000 users, 17.5 million plays, each user's top ~50 artists), factorized at k = 32 for a few
 * iterations. Reports seconds per iteration (median) and peak memory.
 *
 * The generator plants structure: artists have power-law popularity (weight (rank + 1)^-0.8) and
 * belong to one of `clusters` taste clusters; each user has a home and a second cluster and draws
 * 70% of their artists from home, 15% from the second, 15% from everyone, by popularity. It
 * writes straight into CSR typed arrays: no object per stored value.
 *
 * Run: npx tsx bench/synthetic.ts [--scale 1] [--iterations 5] [--components 32] [--threads N]
 */
import { fileURLToPath } from 'node:url';
import { transposeCsr } from '../src/model/sparse.ts';
import type { SparseMatrix } from '../src/model/sparse.ts';
import { applyWeighting } from '../src/model/weighting.ts';
import { factorize } from '../src/model/nmf.ts';

export interface SyntheticShape {
  artists: number;
  users: number;
  /** Artists per user: most users have exactly this many, as in the 360K dataset. */
  artistsPerUser: number;
  clusters: number;
  seed: number;
}

export interface BenchSyntheticOptions {
  /** Fraction of the full 360K shape: 0.1 gives 16,000 artists x 36,000 users. */
  scale: number;
  components: number;
  iterations: number;
  threads?: number;
  seed: number;
}

export interface SyntheticRow {
  artists: number;
  users: number;
  nonzeros: number;
  components: number;
  threads: number | 'default';
  generateSeconds: number;
  /** Median over the iterations after the first. */
  secondsPerIteration: number;
  /** CPU seconds of all threads per iteration: what a busy machine cannot inflate. */
  cpuSecondsPerIteration: number;
  /** Largest resident set size seen, in MB (process.resourceUsage().maxRSS). */
  peakMegabytes: number;
}

const FULL_SHAPE = { artists: 160_000, users: 360_000, artistsPerUser: 50, clusters: 200 };

/**
 * A seeded artists x users play-count matrix with power-law popularity and planted clusters.
 * O(nnz log(artists)) time; memory two CSR copies (user-major while drawing, then the transpose).
 */
export function syntheticListening(shape: SyntheticShape): SparseMatrix {
  const { artists, users, artistsPerUser, clusters, seed } = shape;
  const random = xorshift32(seed);

  // Popularity by artist id (id 0 most popular); artist a belongs to cluster a mod clusters.
  const globalCumulative = new Float64Array(artists);
  const clusterMembers: Int32Array[] = [];
  const clusterCumulative: Float64Array[] = [];
  let running = 0;
  for (let a = 0; a < artists; a++) {
    running += Math.pow(a + 1, -0.8);
    globalCumulative[a] = running;
  }
  for (let c = 0; c < clusters; c++) {
    const size = Math.ceil((artists - c) / clusters);
    const members = new Int32Array(size);
    const cumulative = new Float64Array(size);
    let total = 0;
    for (let m = 0; m < size; m++) {
      members[m] = c + m * clusters;
      total += Math.pow(members[m] + 1, -0.8);
      cumulative[m] = total;
    }
    clusterMembers.push(members);
    clusterCumulative.push(cumulative);
  }

  // Users as rows first: 94% have the full list, the rest 1..artistsPerUser.
  const limit = Math.min(artistsPerUser, artists);
  const rowPointers = new Int32Array(users + 1);
  for (let u = 0; u < users; u++) {
    const count = random() < 0.94 ? limit : 1 + Math.floor(random() * limit);
    rowPointers[u + 1] = rowPointers[u] + count;
  }
  const columnIndices = new Int32Array(rowPointers[users]);
  const values = new Float32Array(rowPointers[users]);
  const lastUser = new Int32Array(artists).fill(-1);

  for (let u = 0; u < users; u++) {
    const home = Math.floor(random() * clusters);
    const second = Math.floor(random() * clusters);
    const start = rowPointers[u];
    const end = rowPointers[u + 1];
    for (let p = start; p < end; p++) {
      let artist = -1;
      for (let attempt = 0; attempt < 50 && (artist < 0 || lastUser[artist] === u); attempt++) {
        const draw = random();
        const source = draw < 0.7 ? home : draw < 0.85 ? second : -1;
        artist =
          source < 0
            ? sample(globalCumulative, random())
            : clusterMembers[source][sample(clusterCumulative[source], random())];
      }
      // A user whose draws keep colliding takes the next unused artist id.
      while (lastUser[artist] === u) artist = (artist + 1) % artists;
      lastUser[artist] = u;
      columnIndices[p] = artist;
      // Heavy-tailed play counts: 1 + floor(e^(3 + 1.5 z)), z from a sum of uniforms.
      const z = (random() + random() + random() + random() - 2) * Math.sqrt(3);
      values[p] = 1 + Math.floor(Math.exp(3 + 1.5 * z));
    }
    sortRowByColumn(columnIndices, values, start, end);
  }

  const byUser: SparseMatrix = {
    rows: users,
    columns: artists,
    rowPointers,
    columnIndices,
    values,
  };
  return transposeCsr(byUser);
}

/**
 * Generates the matrix at `scale` of the 360K shape, applies log1p, and runs `iterations`
 * iterations at k = `components`. Returns seconds per iteration and peak memory.
 */
export async function benchSynthetic(
  options: Partial<BenchSyntheticOptions> = {},
): Promise<SyntheticRow> {
  const settings: BenchSyntheticOptions = {
    scale: 1,
    components: 32,
    iterations: 5,
    seed: 7,
    ...options,
  };
  const started = performance.now();
  const counts = syntheticListening({
    artists: Math.round(FULL_SHAPE.artists * settings.scale),
    users: Math.round(FULL_SHAPE.users * settings.scale),
    artistsPerUser: FULL_SHAPE.artistsPerUser,
    clusters: Math.max(2, Math.round(FULL_SHAPE.clusters * Math.sqrt(settings.scale))),
    seed: settings.seed,
  });
  const matrix = applyWeighting(counts, 'log1p');
  const generateSeconds = (performance.now() - started) / 1000;

  const stamps: number[] = [0];
  const cpuStamps: number[] = [cpuSeconds()];
  await factorize(matrix, {
    components: settings.components,
    maxIterations: settings.iterations,
    tolerance: 0,
    seed: settings.seed,
    l1Artist: 0,
    l2Artist: 0,
    l1User: 0,
    l2User: 0,
    threads: settings.threads,
    onIteration: (progress) => {
      stamps.push(progress.seconds);
      cpuStamps.push(cpuSeconds());
    },
  });

  // The first interval includes setup (transpose, shared copies, workers): leave it out.
  const intervals = stamps.slice(2).map((seconds, i) => seconds - stamps[i + 1]);
  const cpuIntervals = cpuStamps.slice(2).map((seconds, i) => seconds - cpuStamps[i + 1]);
  return {
    artists: matrix.rows,
    users: matrix.columns,
    nonzeros: matrix.rowPointers[matrix.rows],
    components: settings.components,
    threads: settings.threads ?? 'default',
    generateSeconds,
    secondsPerIteration: median(intervals.length > 0 ? intervals : [stamps[1]]),
    cpuSecondsPerIteration: median(
      cpuIntervals.length > 0 ? cpuIntervals : [cpuStamps[1] - cpuStamps[0]],
    ),
    peakMegabytes: process.resourceUsage().maxRSS / 1024,
  };
}

/** Index of the first cumulative weight above u * total. O(log n). */
function sample(cumulative: Float64Array, u: number): number {
  const target = u * cumulative[cumulative.length - 1];
  let low = 0;
  let high = cumulative.length - 1;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (cumulative[middle] > target) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** Insertion sort of one short row by column, carrying the values along. */
function sortRowByColumn(columns: Int32Array, values: Float32Array, start: number, end: number) {
  for (let i = start + 1; i < end; i++) {
    const column = columns[i];
    const value = values[i];
    let j = i - 1;
    while (j >= start && columns[j] > column) {
      columns[j + 1] = columns[j];
      values[j + 1] = values[j];
      j--;
    }
    columns[j + 1] = column;
    values[j + 1] = value;
  }
}

/** xorshift32: seeded uniforms in [0, 1). */
function xorshift32(seed: number): () => number {
  let state = seed >>> 0 || 0x9e3779b9;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
}

/** User + system CPU seconds of the whole process, worker threads included. */
function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function parseArguments(argv: string[]): Partial<BenchSyntheticOptions> {
  const options: Partial<BenchSyntheticOptions> = {};
  const names = {
    '--scale': 'scale',
    '--iterations': 'iterations',
    '--components': 'components',
    '--threads': 'threads',
    '--seed': 'seed',
  } as const;
  for (let i = 0; i < argv.length; i += 2) {
    const name = names[argv[i] as keyof typeof names];
    const value = Number(argv[i + 1]);
    if (!name || !Number.isFinite(value) || value <= 0) {
      console.error(
        `Bad argument ${argv[i]} ${argv[i + 1] ?? ''}: use ${Object.keys(names).join(', ')}`,
      );
      process.exit(1);
    }
    options[name] = value;
  }
  return options;
}

/** The row as a markdown table. */
export function syntheticTable(row: SyntheticRow): string {
  return [
    '| artists x users (nnz) | k | threads | generate s | s / iteration | CPU s / iteration ' +
      '| peak MB |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    `| ${row.artists} x ${row.users} (${row.nonzeros}) | ${row.components} | ${row.threads} ` +
      `| ${row.generateSeconds.toFixed(1)} | ${row.secondsPerIteration.toFixed(2)} ` +
      `| ${row.cpuSecondsPerIteration.toFixed(2)} | ${row.peakMegabytes.toFixed(0)} |`,
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(syntheticTable(await benchSynthetic(parseArguments(process.argv.slice(2)))));
}
