/**
 * Load through the whole stack: the real bot logged in to the Discord stand-in, answering
 * `/similar` and autocomplete interactions from many members at once. Latency is measured inside
 * the stand-in from dispatching INTERACTION_CREATE to the answer arriving, so it covers the
 * gateway frame, discord.js, the dispatcher, the model, the request-log write and the REST call.
 *
 * The stand-in runs in a child process (bench/loadDriver.ts, driven over IPC), so the figures
 * are the bot's: the CPU column is this process alone, and the stand-in has the other core.
 * Tests may keep it in-process (`standIn: 'in-process'`), which is faster to start.
 *
 * Rows, one per mode (see bench/loadDriver.ts): `members` (each member sends its interactions
 * one after another, all members at once: the requirement's burst), `burst` (all dispatched at
 * once: a stress row) and, on request, `paced` (interactions sent at a steady rate, one row per
 * rate asked for: how much a bot sustains with a low p99). Each row counts lost replies, duplicated
 * replies, replies later than Discord's 3 s window, defers, and request-log rows (exactly one per
 * `/similar` expected).
 *
 * Run: `npx tsx bench/load.ts [--similar N] [--autocomplete N] [--members N] [--rate N[,N...]]
 * [--modes members,burst,paced] [--model FILE] [--in-process] [--during-retrain]
 * [--profile DIR]`. The model is models/default.nmf when present, else the tiny test model.
 * `--during-retrain` adds the same rows measured while a full retrain of the Last.fm data runs
 * (load starts once its worker trains). `--profile` writes a CPU profile of the bot's process
 * per measured run. Prints a markdown table.
 */

import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { startBot } from '../src/bot.ts';
import type { RunningBot } from '../src/bot.ts';
import { parseConfig } from '../src/config.ts';
import { deployCommands } from '../src/deployCommands.ts';
import { importHetrec } from '../src/import/importHetrec.ts';
import { DEFAULT_MODEL_PATH } from '../src/model/modelPaths.ts';
import { Recommender } from '../src/model/recommender.ts';
import { runRetrain } from '../src/retrain/retrainRun.ts';
import { openStorage } from '../src/storage/storage.ts';
import type { Storage } from '../src/storage/storage.ts';
import { FakeDiscord } from '../test/support/fakeDiscord.ts';
import { seededRandom } from '../test/support/e2eHarness.ts';
import { tinyModel } from '../test/support/tinyModel.ts';
import { driveLoad, LOAD_APPLICATION_ID, LOAD_TOKEN } from './loadDriver.ts';
import type { DriveRequest, DriveResult, LoadMode, PlannedInteraction } from './loadDriver.ts';

export type { LoadMode } from './loadDriver.ts';

/** The Last.fm HetRec folder, beside the repository (only the `--during-retrain` row reads it). */
const HETREC_FOLDER = fileURLToPath(
  new URL('../../shared/datasets/lastfm-hetrec2011', import.meta.url));

/** What to send. */
export interface LoadBenchOptions {
  /** `/similar` interactions per run (default 1,000). */
  similar?: number;
  /** Autocomplete interactions per run (default 1,000). */
  autocomplete?: number;
  /** Distinct members sending them (default 100). */
  members?: number;
  /** One row per mode, in this order (default: members, burst). */
  modes?: LoadMode[];
  /** Interactions a second in paced mode (default 100). */
  ratePerSecond?: number;
  /** Several paced rates: one paced row each (wins over `ratePerSecond`). */
  ratesPerSecond?: number[];
  /** A model file; default models/default.nmf if present, else the tiny test model. */
  modelPath?: string;
  /** A model already loaded (tests); wins over `modelPath`. */
  recommender?: Recommender;
  /** The model's name in the table when `recommender` is given (default 'given model'). */
  modelLabel?: string;
  /** Where the stand-in runs (default 'process': a child process). */
  standIn?: 'process' | 'in-process';
  /**
   * Work to run in the bot's process while each measured run is under way (a retrain, say); the
   * run waits for it. Its name goes into the table's `during` column.
   */
  during?: () => Promise<void>;
  duringLabel?: string;
  /**
   * With `during`: the measured run starts only when this resolves (asked right after `during`
   * starts), e.g. once a retrain's worker is training. Default: at once.
   */
  loadStartsWhen?: () => Promise<void>;
  /** How long to wait for one answer before counting it lost (default 120 s). */
  timeoutMs?: number;
  seed?: number;
  /**
   * A folder to write a V8 CPU profile of the bot's process during each measured run
   * (`<mode>-<during>.cpuprofile`, readable in Chrome DevTools or `bench/profileSummary.ts`).
   */
  profileDirectory?: string;
}

/** Median, 99th percentile and maximum, in milliseconds. */
export interface LatencySummary {
  count: number;
  median: number;
  p99: number;
  max: number;
}

/** The figures of one run. */
export interface LoadBenchRow {
  mode: LoadMode;
  /** Interactions a second sent, in paced mode. */
  rate?: number;
  during: string;
  model: string;
  artists: number;
  members: number;
  interactions: number;
  seconds: number;
  throughput: number;
  similar: LatencySummary;
  autocomplete: LatencySummary;
  /** Both kinds together. */
  all: LatencySummary;
  /** The bot process's CPU time per interaction (with the stand-in in a child, the bot alone). */
  cpuMsPerInteraction: number;
  /** The stand-in's CPU time per interaction. */
  standInCpuMsPerInteraction: number;
  lost: number;
  /** Acknowledged more than 3 s after dispatch: Discord would have dropped the interaction. */
  late: number;
  /** Acknowledged with a defer ("thinking…") before the answer. */
  deferred: number;
  duplicated: number;
  /** Replies Discord would refuse, failed callbacks, limit violations. */
  refused: number;
  requestRows: number;
  expectedRequestRows: number;
}

/** The stand-in as the benchmark sees it, wherever it runs. */
interface StandIn {
  restUrl: string;
  guildId: string | null;
  waitForIdentify(): Promise<void>;
  drive(request: DriveRequest): Promise<DriveResult>;
  stop(): Promise<void>;
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
        : (options.modelLabel ?? 'given model')
      : modelPath.split('/').slice(-2).join('/');

  // A real database file, so the request-log writes cost what they cost in production.
  const folder = mkdtempSync(join(tmpdir(), 'bench-load-'));
  const storage = openStorage(join(folder, 'bot.sqlite'));
  const standIn =
    options.standIn === 'in-process' ? await inProcessStandIn() : await childStandIn();
  let bot: RunningBot | undefined;

  const rows: LoadBenchRow[] = [];
  try {
    bot = await startBotAgainst(standIn, recommender, storage);
    const rates = options.ratesPerSecond ?? [options.ratePerSecond ?? 100];
    for (const mode of options.modes ?? ['members', 'burst']) {
      for (const rate of mode === 'paced' ? rates : [undefined]) {
        const before = storage.memberCounts().requests;
        const row = await run(standIn, recommender, mode,
          rate === undefined ? options : { ...options, ratePerSecond: rate });
        row.model = model;
        row.requestRows = storage.memberCounts().requests - before;
        if (rate !== undefined) row.rate = rate;
        rows.push(row);
      }
    }
  } finally {
    await bot?.stop();
    await standIn.stop();
    storage.close();
    rmSync(folder, { recursive: true, force: true });
  }
  return rows;
}

/** Starts the real bot against the stand-in and registers its commands. */
async function startBotAgainst(standIn: StandIn, recommender: Recommender, storage: Storage)
  : Promise<RunningBot> {
  const config = parseConfig({
    DISCORD_TOKEN: LOAD_TOKEN,
    DISCORD_CLIENT_ID: LOAD_APPLICATION_ID,
    DISCORD_GUILD_ID: standIn.guildId ?? undefined,
    DISCORD_API_URL: standIn.restUrl,
    DATABASE_PATH: ':memory:',
    MODEL_PATH: 'unused-by-the-load-bench.nmf',
    LOG_LEVEL: 'warn',
    COMMAND_COOLDOWN_SECONDS: '0',
  });
  // Warnings and errors go to stderr: a load run should print none.
  const logger = pino({ level: 'warn' }, process.stderr);
  const bot = await startBot({ config, recommender, storage, logger });
  try {
    await standIn.waitForIdentify();
    await deployCommands(config);
  } catch (error) {
    await bot.stop();
    throw error;
  }
  return bot;
}

/** The stand-in in this process (tests: quick to start, but it shares the event loop). */
async function inProcessStandIn(): Promise<StandIn> {
  const discord = await FakeDiscord.start({
    token: LOAD_TOKEN,
    applicationId: LOAD_APPLICATION_ID,
  });
  return {
    restUrl: discord.restUrl,
    guildId: discord.defaultGuildId,
    waitForIdentify: () => discord.waitForIdentify(),
    drive: (request) => driveLoad(discord, request),
    stop: () => discord.stop(),
  };
}

/** The stand-in in a child process running bench/loadDriver.ts, driven over IPC. */
async function childStandIn(): Promise<StandIn> {
  const script = fileURLToPath(new URL('./loadDriver.ts', import.meta.url));
  const child: ChildProcess = fork(script, [], {
    execArgv: ['--import', import.meta.resolve('tsx')],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });

  // Requests and their answers, matched by id; a child that dies fails every pending one.
  const pending = new Map<number, { resolve(value: any): void; reject(error: Error): void }>();
  let nextId = 1;
  let ready: (value: { restUrl: string; guildId: string | null }) => void;
  let failed: (error: Error) => void;
  const started = new Promise<{ restUrl: string; guildId: string | null }>((resolve, reject) => {
    ready = resolve;
    failed = reject;
  });
  child.on('message', (message: any) => {
    if (message.type === 'ready') {
      ready({ restUrl: message.restUrl, guildId: message.guildId });
      return;
    }
    const waiting = pending.get(message.id);
    pending.delete(message.id);
    if (message.ok) waiting?.resolve(message.result);
    else waiting?.reject(new Error(`load stand-in: ${message.error}`));
  });
  child.on('exit', (code) => {
    const error = new Error(`load stand-in exited (code ${code})`);
    failed(error);
    for (const waiting of pending.values()) waiting.reject(error);
    pending.clear();
  });
  const ask = (type: string, body: Record<string, unknown> = {}): Promise<any> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ id, type, ...body });
    });

  const { restUrl, guildId } = await started;
  return {
    restUrl,
    guildId,
    waitForIdentify: () => ask('identify'),
    drive: (request) => ask('run', { run: request }),
    async stop() {
      if (child.exitCode !== null || !child.connected) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await ask('stop').catch(() => undefined);
      child.disconnect();
      await exited;
    },
  };
}

/** One measured run (after a short warm-up through the same paths). */
async function run(standIn: StandIn, recommender: Recommender, mode: LoadMode,
  options: LoadBenchOptions): Promise<LoadBenchRow> {
  const memberCount = options.members ?? 100;
  const memberNames = Array.from({ length: memberCount }, (_, i) => `load-${i}`);
  const plan = makePlan(recommender, options.similar ?? 1000, options.autocomplete ?? 1000,
    memberCount, options.seed ?? 7);
  const request = (items: PlannedInteraction[], sendMode: LoadMode): DriveRequest => ({
    mode: sendMode,
    plan: items,
    memberNames,
    ratePerSecond: options.ratePerSecond ?? 100,
    timeoutMs: options.timeoutMs ?? 120_000,
  });

  // Warm up every path (JIT, statement cache, sockets) before measuring.
  const warmUp = plan.slice(0, 20);
  await standIn.drive(request(warmUp, 'members'));

  const during = options.during?.();
  during?.catch(() => undefined); // Reported by Promise.all below, not as unhandled.
  if (during !== undefined) await options.loadStartsWhen?.();
  // The bot's CPU while the load runs (not while `during` finishes alone afterwards).
  const profiler = options.profileDirectory === undefined ? undefined : await startProfiler();
  const cpuBefore = process.cpuUsage();
  let cpu = cpuBefore;
  const driving = standIn.drive(request(plan, mode)).then((result) => {
    cpu = process.cpuUsage(cpuBefore);
    return result;
  });
  const [result] = await Promise.all([driving, during]);
  if (profiler !== undefined) {
    const label = options.during === undefined ? 'idle' : 'during';
    const rate = mode === 'paced' ? `-${options.ratePerSecond ?? 100}` : '';
    await profiler.stop(join(options.profileDirectory!, `${mode}${rate}-${label}.cpuprofile`));
  }

  const interactions = plan.length;
  const similarRows = (items: PlannedInteraction[]) =>
    items.filter((item) => item.kind === 'similar').length;
  return {
    mode,
    during: options.during === undefined ? 'idle' : (options.duringLabel ?? 'during hook'),
    model: '',
    artists: recommender.data.artists.length,
    members: memberCount,
    interactions,
    seconds: result.seconds,
    throughput: interactions / result.seconds,
    similar: summarise(result.latencies.similar),
    autocomplete: summarise(result.latencies.autocomplete),
    all: summarise([...result.latencies.similar, ...result.latencies.autocomplete]),
    cpuMsPerInteraction: (cpu.user + cpu.system) / 1000 / interactions,
    standInCpuMsPerInteraction: result.standInCpuMs / interactions,
    lost: result.lost,
    late: result.late,
    deferred: result.deferred,
    duplicated: result.duplicated,
    refused: result.refused,
    requestRows: 0,
    expectedRequestRows: similarRows(plan) + similarRows(warmUp),
  };
}

/** Starts V8's sampling CPU profiler on this process; `stop` writes the profile to `file`. */
async function startProfiler(): Promise<{ stop(file: string): Promise<void> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = await session.post('Profiler.stop');
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

/**
 * The interactions of one run, shuffled: `similar` full names and `autocomplete` prefixes of 1-6
 * characters, popular artists more often (as in a real server), spread evenly over members.
 */
export function makePlan(recommender: Recommender, similar: number, autocomplete: number,
  members: number, seed: number): PlannedInteraction[] {
  const random = seededRandom(seed);
  const byListeners = [...recommender.data.artists].sort((a, b) => b.listeners - a.listeners);
  const pickArtist = () => byListeners[Math.floor(byListeners.length * random() ** 3)];

  const plan: PlannedInteraction[] = [];
  for (let i = 0; i < similar; i++) {
    plan.push({ kind: 'similar', member: i % members, text: pickArtist().name });
  }
  for (let i = 0; i < autocomplete; i++) {
    const name = pickArtist().name;
    const typed = name.slice(0, 1 + Math.floor(random() * Math.min(6, name.length)));
    plan.push({ kind: 'autocomplete', member: i % members, text: typed });
  }
  for (let i = plan.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [plan[i], plan[j]] = [plan[j], plan[i]];
  }
  return plan;
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

/**
 * A `during` hook that runs one full retrain (the bot's own code path: worker child process,
 * held-out check, promotion) on the Last.fm data imported into a temporary database, and a
 * `loadStartsWhen` that resolves once the worker is training. Call `cleanUp` when done.
 */
export async function retrainHook(recommender: Recommender): Promise<{
  during: () => Promise<void>; loadStartsWhen: () => Promise<void>; cleanUp(): void;
}> {
  const folder = mkdtempSync(join(tmpdir(), 'bench-load-retrain-'));
  const databasePath = join(folder, 'listening.sqlite');
  const importing = openStorage(databasePath);
  try {
    await importHetrec(importing, HETREC_FOLDER, { quiet: true });
  } finally {
    importing.close();
  }

  let training: Promise<void> = Promise.resolve();
  return {
    during: async () => {
      let started!: () => void;
      training = new Promise((resolve) => (started = resolve));
      const outcome = await runRetrain({
        databasePath,
        modelDirectory: join(folder, 'models'),
        logger: pino({ level: 'silent' }),
        onProgress: (progress) => {
          if (progress.stage === 'training') started();
        },
      }, recommender, 'load bench');
      started();
      if (!outcome.ok) throw new Error(`the retrain failed: ${outcome.message}`);
    },
    loadStartsWhen: () => training,
    cleanUp: () => rmSync(folder, { recursive: true, force: true }),
  };
}

/** The rows as a markdown table. */
export function formatLoadTable(rows: LoadBenchRow[]): string {
  const ms = (value: number) => (Number.isNaN(value) ? '-' : value.toFixed(1));
  const pair = (summary: LatencySummary) => `${ms(summary.median)} / ${ms(summary.p99)}`;
  const lines = [
    '| mode | during | model (artists) | interactions / members | seconds | interactions/s | ' +
      'bot CPU ms / interaction | stand-in CPU ms / interaction | all median / p99 ms | ' +
      '/similar median / p99 ms | ' +
      'autocomplete median / p99 ms | max ms | lost | late > 3 s | deferred | duplicated | ' +
      'refused | request rows (expected) |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ' +
      '---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.mode}${row.rate === undefined ? '' : `, ${row.rate}/s`} | ${row.during} | ${row.model} (${row.artists.toLocaleString('en-US')}) | ` +
        `${row.interactions} / ${row.members} | ${row.seconds.toFixed(2)} | ` +
        `${row.throughput.toFixed(0)} | ${row.cpuMsPerInteraction.toFixed(2)} | ` +
        `${row.standInCpuMsPerInteraction.toFixed(2)} | ` +
        `${pair(row.all)} | ${pair(row.similar)} | ${pair(row.autocomplete)} | ` +
        `${ms(row.all.max)} | ${row.lost} | ${row.late} | ${row.deferred} | ` +
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
      'in-process': { type: 'boolean' },
      'during-retrain': { type: 'boolean' },
      profile: { type: 'string' },
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
  const rates = values.rate?.split(',').map((text) => number(text.trim(), 'rate')!);
  if (similar !== undefined) options.similar = similar;
  if (autocomplete !== undefined) options.autocomplete = autocomplete;
  if (members !== undefined) options.members = members;
  if (rates !== undefined) options.ratesPerSecond = rates;
  if (values['in-process'] === true) options.standIn = 'in-process';
  if (values.profile !== undefined) options.profileDirectory = values.profile;
  if (values.modes !== undefined) {
    const modes = values.modes.split(',').map((mode) => mode.trim());
    const known = ['members', 'burst', 'paced'];
    if (modes.length === 0 || modes.some((mode) => !known.includes(mode))) {
      process.stderr.write(`--modes takes members, burst and paced, comma-separated, not ` +
        `"${values.modes}"\n`);
      process.exit(2);
    }
    options.modes = modes as LoadMode[];
  }
  if (values.model !== undefined) {
    if (!existsSync(values.model)) {
      process.stderr.write(`No model file at ${values.model}\n`);
      process.exit(2);
    }
    options.modelPath = values.model;
  }
  // Idle rows, then (on request) the same rows while a retrain trains in its worker.
  const rows = await benchLoad(options);
  if (values['during-retrain'] === true) {
    const path =
      options.modelPath ?? (existsSync(DEFAULT_MODEL_PATH) ? DEFAULT_MODEL_PATH : undefined);
    const recommender = path === undefined ? new Recommender(tinyModel()) : Recommender.load(path);
    const modelLabel = path === undefined ? 'tiny test model' : path.split('/').slice(-2).join('/');
    const hook = await retrainHook(recommender);
    try {
      rows.push(...await benchLoad({ ...options, recommender, modelLabel, during: hook.during,
        loadStartsWhen: hook.loadStartsWhen, duringLabel: 'retrain (worker training)' }));
    } finally {
      hook.cleanUp();
    }
  }
  process.stdout.write(`${formatLoadTable(rows)}\n`);
}
