/**
 * Serving latency: model load, similar top-10, autocomplete and fold-in + recommend, at the
 * Last.fm catalogue size (17,632 artists x 128 components) and at a 360K-shaped one (160,000 x
 * 32). Factors are random sparse non-negative values (latency does not depend on their meaning);
 * names are the Last.fm ones when the dataset is present, else made-up ones, so that the search
 * index sees realistic keys.
 *
 * Run: `npx tsx bench/serving.ts [--queries N] [--model FILE]` (FILE: a trained model to measure
 * too). Prints a markdown table of medians and p99s, in CPU time and wall-clock time.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { lookupKey } from '../src/model/lookupKey.ts';
import { readModel, writeModel } from '../src/model/modelFile.ts';
import { Recommender } from '../src/model/recommender.ts';
import type { ModelArtist, ModelData } from '../src/model/types.ts';
import { seededRandom } from '../src/model/random.ts';

const DATASET_ARTISTS = fileURLToPath(
  new URL('../../shared/datasets/lastfm-hetrec2011/artists.dat', import.meta.url),
);

/** What to measure. */
export interface ServingBenchOptions {
  /** Queries per measured operation (default 300). */
  queries?: number;
  /** A trained model file to measure as well, first. */
  modelPath?: string;
  /** Shapes of synthetic models (default 17,632 x 128 and 160,000 x 32). */
  shapes?: { artists: number; components: number }[];
  /** artists.dat to take real names from, if it exists. */
  namesFile?: string;
}

/** Latency figures of one model, in milliseconds. */
export interface ServingBenchRow {
  model: string;
  fileMegabytes: number;
  readModel: Summary;
  loadWithIndex: Summary;
  similar: Summary;
  autocomplete: Summary;
  recommend: Summary;
}

/** Wall-clock and CPU-time statistics of one operation, ms. CPU time is what the operation
 * costs on a free core; wall time includes waiting for a busy machine. */
interface Summary {
  median: number;
  p99: number;
  cpuMedian: number;
  cpuP99: number;
}

interface Timing {
  wall: number;
  cpu: number;
}

/** Measures every shape; returns one row per model. Takes ~30 s on one core. */
export async function benchServing(options: ServingBenchOptions = {}): Promise<ServingBenchRow[]> {
  const queries = options.queries ?? 300;
  const shapes = options.shapes ?? [
    { artists: 17_632, components: 128 },
    { artists: 160_000, components: 32 },
  ];
  const names = readNames(options.namesFile ?? DATASET_ARTISTS);
  const dir = mkdtempSync(join(tmpdir(), 'bench-serving-'));
  const rows: ServingBenchRow[] = [];
  try {
    if (options.modelPath !== undefined) {
      rows.push(measure(`${options.modelPath} (trained)`, options.modelPath, queries));
    }
    for (const [index, shape] of shapes.entries()) {
      const path = join(dir, `synthetic-${shape.artists}x${shape.components}.nmf`);
      await writeModel(path, syntheticModel(shape.artists, shape.components, names, 17 + index));
      const label = `synthetic ${shape.artists.toLocaleString('en')} x ${shape.components}`;
      rows.push(measure(label, path, queries));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/** The rows as a markdown table: CPU-time median / p99, wall-clock median in brackets. */
export function formatServingTable(rows: ServingBenchRow[]): string {
  const ms = (value: number) => value.toFixed(value < 10 ? 2 : 0);
  const cell = (s: Summary) => `${ms(s.cpuMedian)} / ${ms(s.cpuP99)} (${ms(s.median)})`;
  const lines = [
    '| model | file MB | readModel | load + index | similar top-10 | autocomplete (25) | ' +
      'fold-in + recommend top-10 |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.model} | ${row.fileMegabytes.toFixed(1)} | ${cell(row.readModel)} | ` +
        `${cell(row.loadWithIndex)} | ${cell(row.similar)} | ${cell(row.autocomplete)} | ` +
        `${cell(row.recommend)} |`,
    );
  }
  lines.push('', 'Milliseconds: CPU-time median / p99 (wall-clock median).');
  return lines.join('\n');
}

function measure(label: string, path: string, queries: number): ServingBenchRow {
  // Load: a few reads (the page cache is warm after the first).
  const readModelTimes: Timing[] = [];
  for (let i = 0; i < 5; i++) readModelTimes.push(time(() => readModel(path)));
  const loadTimes: Timing[] = [];
  let recommender: Recommender | undefined;
  for (let i = 0; i < 3; i++) loadTimes.push(time(() => (recommender = Recommender.load(path))));
  const served = recommender!;
  const artists = served.data.artists;
  const random = seededRandom(99);
  const pick = () => artists[Math.floor(random() * artists.length)];

  // Warm up the JIT on every path before timing.
  for (let i = 0; i < 20; i++) {
    served.similarArtists(pick(), 10);
    served.autocomplete(pick().name.slice(0, 3));
    served.recommend([{ artistKey: pick().key, weight: 1 }], 10);
  }

  const similar = summarise(
    repeat(queries, () => {
      const artist = pick();
      return time(() => served.similarArtists(artist, 10));
    }),
  );

  const typed = Array.from({ length: queries }, () => autocompleteQuery(pick().name, random));
  const autocomplete = summarise(typed.map((query) => time(() => served.autocomplete(query, 25))));

  const recommend = summarise(
    repeat(queries, () => {
      const size = 1 + Math.floor(random() * 20);
      const taste = Array.from({ length: size }, () => ({
        artistKey: pick().key,
        weight: 1 + Math.floor(random() * 50),
      }));
      return time(() => served.recommend(taste, 10));
    }),
  );

  return {
    model: label,
    fileMegabytes: statSync(path).size / 1024 ** 2,
    readModel: summarise(readModelTimes),
    loadWithIndex: summarise(loadTimes),
    similar,
    autocomplete,
    recommend,
  };
}

/** What a member might have typed: a prefix, a later word's prefix, or a name with a typo. */
function autocompleteQuery(name: string, random: () => number): string {
  const kind = random();
  if (kind < 0.4) return name.slice(0, 1 + Math.floor(random() * 6));
  if (kind < 0.55) {
    const words = name.split(' ');
    return words[words.length - 1].slice(0, 4);
  }
  if (kind < 0.9 && name.length > 4) {
    const at = 1 + Math.floor(random() * (name.length - 2));
    return random() < 0.5
      ? name.slice(0, at) + name.slice(at + 1)
      : name.slice(0, at) + name[at + 1] + name[at] + name.slice(at + 2);
  }
  return name;
}

/**
 * A model with `n` artists, names from `names` (suffixed to stay unique when n is larger),
 * Zipf-like listener counts, W with ~60% zeros, its Gram, and unit-row embedding.
 */
export function syntheticModel(n: number, k: number, names: string[], seed: number): ModelData {
  const random = seededRandom(seed);
  const artists: ModelArtist[] = [];
  const keys = new Set<string>();
  for (let i = 0; artists.length < n; i++) {
    const base = names[i % names.length];
    const round = Math.floor(i / names.length);
    const name = round === 0 ? base : `${base} ${round + 1}`;
    const key = lookupKey(name);
    if (key.length === 0 || keys.has(key)) continue;
    keys.add(key);
    artists.push({
      id: 1 + artists.length,
      name,
      key,
      listeners: Math.max(1, Math.floor(1500 / (1 + artists.length) ** 0.8 + random() * 3)),
      tags: [],
      url: null,
    });
  }

  const artistFactors = new Float32Array(n * k);
  for (let i = 0; i < artistFactors.length; i++) {
    artistFactors[i] = random() < 0.6 ? 0 : random() ** 2;
  }
  const artistGram = new Float64Array(k * k);
  const similarityEmbedding = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    const row = i * k;
    let norm = 0;
    for (let a = 0; a < k; a++) {
      const value = artistFactors[row + a];
      if (value === 0) continue;
      norm += value * value;
      for (let b = 0; b < k; b++) artistGram[a * k + b] += value * artistFactors[row + b];
    }
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let a = 0; a < k; a++) similarityEmbedding[row + a] = artistFactors[row + a] * scale;
  }

  return {
    meta: {
      formatVersion: 1,
      createdAt: new Date().toISOString(),
      parameters: {
        components: k,
        weighting: 'log1p',
        seed,
        maxIterations: 0,
        tolerance: 0,
        l1Artist: 0,
        l2Artist: 0,
        l1User: 0,
        l2User: 0,
        minListeners: 1,
      },
      data: { source: 'synthetic:bench', artists: n, users: 0, nonzeros: 0 },
      objective: 0,
      iterations: 0,
      trainingSeconds: 0,
      foldIn: { l1: 0, l2: 0.1 },
    },
    artists,
    components: k,
    artistFactors,
    artistGram,
    similarityEmbedding,
  };
}

/** Artist names from a HetRec artists.dat, else 17,632 made-up names. */
export function readNames(path: string): string[] {
  if (existsSync(path)) {
    const names = readFileSync(path, 'utf8')
      .split(/\r?\n/)
      .slice(1)
      .map((line) => line.split('\t')[1])
      .filter((name): name is string => name !== undefined && name.length > 0);
    if (names.length > 0) return names;
  }
  const syllables = ['ka', 'ne', 'ro', 'mi', 'sa', 'to', 'lu', 'ver', 'dan', 'gol', 'bri', 'zen'];
  const random = seededRandom(5);
  return Array.from({ length: 17_632 }, () => {
    const words = 1 + Math.floor(random() * 3);
    return Array.from({ length: words }, () => {
      const parts = 2 + Math.floor(random() * 3);
      return Array.from({ length: parts }, () => syllables[Math.floor(random() * 12)]).join('');
    }).join(' ');
  });
}

function time(action: () => unknown): Timing {
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  action();
  const wall = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  return { wall, cpu: (cpu.user + cpu.system) / 1000 };
}

function repeat(times: number, action: () => Timing): Timing[] {
  return Array.from({ length: times }, action);
}

function summarise(timings: Timing[]): Summary {
  const wall = timings.map((t) => t.wall).sort((a, b) => a - b);
  const cpu = timings.map((t) => t.cpu).sort((a, b) => a - b);
  const at = (sorted: number[], q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
  return {
    median: at(wall, 0.5),
    p99: at(wall, 0.99),
    cpuMedian: at(cpu, 0.5),
    cpuP99: at(cpu, 0.99),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: { queries: { type: 'string' }, model: { type: 'string' } },
  });
  const rows = await benchServing({
    queries: values.queries === undefined ? undefined : Number(values.queries),
    modelPath: values.model,
  });
  console.log(formatServingTable(rows));
}
