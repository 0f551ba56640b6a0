/**
 * Load through the whole stack: the real bot logged in to the Discord stand-in
 * (test/support/fakeDiscord.ts), answering `/similar` and autocomplete interactions from many
 * members at once. Latency is measured from the moment the stand-in dispatches
 * INTERACTION_CREATE to the moment the bot's answer reaches it, so it covers the gateway frame,
 * discord.js, the dispatcher, the model, the request-log write and the REST callback.
 *
 * Two ways of sending, one row each:
 * - burst: every interaction dispatched at once (1,000 `/similar` + 1,000 autocomplete from 100
 *   members by default). Gives throughput; latency there is mostly time spent queued.
 * - paced: the same mix sent at a steady rate (default 100 a second), the way a busy server
 *   talks to a bot. Latency there is the service time a member feels; the target is p99 < 50 ms.
 *
 * It also counts lost replies (no answer within the timeout), duplicated replies (more than one
 * callback for one interaction) and request-log rows (exactly one per `/similar` expected).
 *
 * Run: `npx tsx bench/load.ts [--similar N] [--autocomplete N] [--members N] [--rate N]
 * [--modes burst,paced] [--model FILE]`. The model is models/default.nmf when present, else the
 * tiny test model. Prints a markdown table.
 *
 * The stand-in runs in the same process as the bot, so its own work (HTTP parsing, JSON,
 * bookkeeping) is counted in the CPU column and competes with the bot for the event loop.
 * TODO: run the stand-in in a worker thread when these figures need to isolate the bot.
 */

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_MODEL_PATH } from '../src/model/modelPaths.ts';
import { Recommender } from '../src/model/recommender.ts';
import { openStorage } from '../src/storage/storage.ts';
import { makeUser } from '../test/support/fakeDiscord.ts';
import type { FakeDiscord, FakeUser, InteractionExchange } from '../test/support/fakeDiscord.ts';
import { seededRandom, startBotUnderTest } from '../test/support/e2eHarness.ts';
import { tinyModel } from '../test/support/tinyModel.ts';

/** What to send. */
export interface LoadBenchOptions {
  /** `/similar` interactions per run (default 1,000). */
  similar?: number;
  /** Autocomplete interactions per run (default 1,000). */
  autocomplete?: number;
  /** Distinct members sending them (default 100). */
  members?: number;
  /** 'burst': all at once; 'paced': `ratePerSecond` (default: both, one row each). */
  modes?: ('burst' | 'paced')[];
  /** Interactions a second in paced mode (default 100). */
  ratePerSecond?: number;
  /** A model file; default models/default.nmf if present, else the tiny test model. */
  modelPath?: string;
  /** A model already loaded (tests); wins over `modelPath`. */
  recommender?: Recommender;
  /**
   * Work to run while each measured run is under way (a retrain, say); the run waits for it.
   * Its name goes into the table's `during` column.
   */
  during?: () => Promise<void>;
  duringLabel?: string;
  /** How long to wait for one answer before counting it lost (default 120 s). */
  timeoutMs?: number;
  seed?: number;
}

/** Median and 99th percentile, in milliseconds. */
export interface LatencySummary {
  count: number;
  median: number;
  p99: number;
  max: number;
}

/** The figures of one run. */
export interface LoadBenchRow {
  mode: 'burst' | 'paced';
  during: string;
  model: string;
  artists: number;
  members: number;
  interactions: number;
  seconds: number;
  throughput: number;
  similar: LatencySummary;
  autocomplete: LatencySummary;
  /** Process CPU time (bot and stand-in together) per interaction: steadier than wall time. */
  cpuMsPerInteraction: number;
  lost: number;
  /** Answered more than 3 s after dispatch: Discord would have dropped the interaction. */
  late: number;
  duplicated: number;
  /** Replies Discord would refuse, failed callbacks, limit violations. */
  refused: number;
  requestRows: number;
  expectedRequestRows: number;
}

/** Runs every mode against one bot and stand-in; one row per mode. */
export async function benchLoad(options: LoadBenchOptions = {}): Promise<LoadBenchRow[]> {
  const modelPath =
    options.recommender !== undefined
      ? undefined
      : (options.modelPath ?? (existsSync(DEFAULT_MODEL_PATH) ? DEFAULT_MODEL_PATH : undefined));
  const recommender =
    options.recommender ??
    (modelPath === undefined ? new Recommender(tinyModel()) : Recommender.load(modelPath));
  const model =
    modelPath === undefined
      ? options.recommender === undefined
        ? 'tiny test model'
        : 'given model'
      : modelPath.split('/').slice(-2).join('/');

  // A real database file, so the request-log writes cost what they cost in production.
  const folder = mkdtempSync(join(tmpdir(), 'bench-load-'));
  const storage = openStorage(join(folder, 'bot.sqlite'));
  const harness = await startBotUnderTest({ recommender, storage, logLevel: 'warn' });

  const rows: LoadBenchRow[] = [];
  try {
    for (const mode of options.modes ?? ['burst', 'paced']) {
      const before = harness.storage.memberCounts().requests;
      const row = await run(harness.discord, recommender, mode, options);
      row.model = model;
      row.requestRows = harness.storage.memberCounts().requests - before;
      rows.push(row);
    }
  } finally {
    await harness.stop();
    storage.close();
    rmSync(folder, { recursive: true, force: true });
  }
  return rows;
}

/** One measured run. */
async function run(
  discord: FakeDiscord,
  recommender: Recommender,
  mode: 'burst' | 'paced',
  options: LoadBenchOptions,
): Promise<LoadBenchRow> {
  const similarCount = options.similar ?? 1000;
  const autocompleteCount = options.autocomplete ?? 1000;
  const memberCount = options.members ?? 100;
  const rate = options.ratePerSecond ?? 100;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const random = seededRandom(options.seed ?? 7);
  const members: FakeUser[] = Array.from({ length: memberCount }, (_, i) => makeUser(`load-${i}`));

  // Popular artists come up more often, as they do in a real server.
  const artists = recommender.data.artists;
  const byListeners = [...artists].sort((a, b) => b.listeners - a.listeners);
  const pickArtist = () => byListeners[Math.floor(byListeners.length * random() ** 3)];

  // The plan: similar and autocomplete interleaved at random.
  type Planned = { kind: 'similar' | 'autocomplete'; user: FakeUser; text: string };
  const plan: Planned[] = [];
  for (let i = 0; i < similarCount; i++) {
    plan.push({ kind: 'similar', user: members[i % memberCount], text: pickArtist().name });
  }
  for (let i = 0; i < autocompleteCount; i++) {
    const name = pickArtist().name;
    const typed = name.slice(0, 1 + Math.floor(random() * Math.min(6, name.length)));
    plan.push({ kind: 'autocomplete', user: members[i % memberCount], text: typed });
  }
  for (let i = plan.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [plan[i], plan[j]] = [plan[j], plan[i]];
  }

  // Warm up every path (JIT, statement cache, sockets) before measuring.
  for (const item of plan.slice(0, 20)) await send(discord, item, timeoutMs).catch(() => undefined);

  const sent: { kind: Planned['kind']; exchange: Promise<InteractionExchange> }[] = [];
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const sending = (async () => {
    for (const [index, item] of plan.entries()) {
      if (mode === 'paced') {
        const due = started + (index * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      sent.push({ kind: item.kind, exchange: send(discord, item, timeoutMs) });
    }
  })();
  await Promise.all([sending, options.during?.()]);
  const settled = await Promise.allSettled(sent.map((entry) => entry.exchange));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);

  // Give stray second answers a moment to arrive before counting duplicates.
  await new Promise((resolve) => setTimeout(resolve, 100));
  const latencies = { similar: [] as number[], autocomplete: [] as number[] };
  let lost = 0;
  let late = 0;
  let duplicated = 0;
  let refused = 0;
  settled.forEach((outcome, index) => {
    if (outcome.status === 'rejected') {
      lost += 1;
      return;
    }
    const exchange = outcome.value;
    const callbacks = exchange.responses.filter((response) => response.kind === 'callback');
    if (callbacks.length > 1) duplicated += 1;
    if ((callbacks[0]?.elapsedMs ?? Infinity) > 3000) late += 1;
    refused += exchange.responses.filter((response) => response.status >= 400).length;
    latencies[sent[index].kind].push(exchange.settledMs!);
  });

  return {
    mode,
    during: options.during === undefined ? 'idle' : (options.duringLabel ?? 'during hook'),
    model: '',
    artists: artists.length,
    members: memberCount,
    interactions: plan.length,
    seconds,
    throughput: plan.length / seconds,
    similar: summarise(latencies.similar),
    autocomplete: summarise(latencies.autocomplete),
    cpuMsPerInteraction: (cpu.user + cpu.system) / 1000 / plan.length,
    lost,
    late,
    duplicated,
    refused,
    requestRows: 0,
    expectedRequestRows:
      similarCount + plan.slice(0, 20).filter((item) => item.kind === 'similar').length,
  };
}

/** Sends one planned interaction; resolves when it is answered. */
function send(
  discord: FakeDiscord,
  item: { kind: 'similar' | 'autocomplete'; user: FakeUser; text: string },
  timeoutMs: number,
): Promise<InteractionExchange> {
  const options = [{ name: 'artist', type: 3, value: item.text }];
  return item.kind === 'similar'
    ? discord.sendCommand({ name: 'similar', options, user: item.user, timeoutMs })
    : discord.sendAutocomplete({
        name: 'similar',
        options,
        focused: 'artist',
        user: item.user,
        timeoutMs,
      });
}

/** Median, p99 and max of `values` (nearest rank). O(n log n). */
export function summarise(values: number[]): LatencySummary {
  if (values.length === 0) return { count: 0, median: NaN, p99: NaN, max: NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return {
    count: sorted.length,
    median: rank(0.5),
    p99: rank(0.99),
    max: sorted[sorted.length - 1],
  };
}

/** The rows as a markdown table. */
export function formatLoadTable(rows: LoadBenchRow[]): string {
  const ms = (value: number) => (Number.isNaN(value) ? '-' : value.toFixed(1));
  const lines = [
    '| mode | during | model (artists) | interactions / members | seconds | interactions/s | ' +
      'CPU ms / interaction | /similar median / p99 ms | autocomplete median / p99 ms | lost | ' +
      'late > 3 s | duplicated | refused | request rows (expected) |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.mode} | ${row.during} | ${row.model} (${row.artists.toLocaleString('en-US')}) | ` +
        `${row.interactions} / ${row.members} | ${row.seconds.toFixed(2)} | ${row.throughput.toFixed(0)} | ` +
        `${row.cpuMsPerInteraction.toFixed(2)} | ${ms(row.similar.median)} / ${ms(row.similar.p99)} | ` +
        `${ms(row.autocomplete.median)} / ${ms(row.autocomplete.p99)} | ${row.lost} | ${row.late} | ` +
        `${row.duplicated} | ${row.refused} | ${row.requestRows} (${row.expectedRequestRows}) |`,
    );
  }
  return lines.join('\n');
}

const isEntryPoint =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntryPoint) {
  const { values } = parseArgs({
    options: {
      similar: { type: 'string' },
      autocomplete: { type: 'string' },
      members: { type: 'string' },
      rate: { type: 'string' },
      model: { type: 'string' },
      modes: { type: 'string' },
    },
  });
  const number = (text: string | undefined, name: string): number | undefined => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) {
      process.stderr.write(`--${name} must be a whole number above 0, not "${text}"\n`);
      process.exit(2);
    }
    return value;
  };
  const options: LoadBenchOptions = {};
  const similar = number(values.similar, 'similar');
  const autocomplete = number(values.autocomplete, 'autocomplete');
  const members = number(values.members, 'members');
  const rate = number(values.rate, 'rate');
  if (similar !== undefined) options.similar = similar;
  if (autocomplete !== undefined) options.autocomplete = autocomplete;
  if (members !== undefined) options.members = members;
  if (rate !== undefined) options.ratePerSecond = rate;
  if (values.modes !== undefined) {
    const modes = values.modes.split(',').map((mode) => mode.trim());
    if (modes.length === 0 || modes.some((mode) => mode !== 'burst' && mode !== 'paced')) {
      process.stderr.write(`--modes takes burst, paced or burst,paced, not "${values.modes}"\n`);
      process.exit(2);
    }
    options.modes = modes as ('burst' | 'paced')[];
  }
  if (values.model !== undefined) {
    if (!existsSync(values.model)) {
      process.stderr.write(`No model file at ${values.model}\n`);
      process.exit(2);
    }
    options.modelPath = values.model;
  }
  const rows = await benchLoad(options);
  process.stdout.write(`${formatLoadTable(rows)}\n`);
}
