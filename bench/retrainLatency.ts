/**
 * `/similar` latency in the bot process while a full Last.fm retrain runs in the child process.
 * Requests go through the bot's own `Dispatcher` (command handler, artist lookup, request log
 * write), one at a time with a fixed pause between them, first with nothing else running
 * ("idle"), then for as long as a retrain runs. Samples during the retrain are split by phase:
 * while the worker trains, and while the parent checks and swaps the new model in (that part runs
 * on the bot's own event loop).
 *
 * Run: `npx tsx bench/retrainLatency.ts [--database FILE] [--model FILE] [--idle N]
 * [--pause MS]`. Without --database the HetRec folder is imported into a temporary database;
 * without --model the first retrain's model is served. Prints a markdown table.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';

import { COMMANDS } from '../src/commands/index.ts';
import { Dispatcher } from '../src/interactions/dispatcher.ts';
import type { InteractionRequest } from '../src/interactions/request.ts';
import { recordOptions } from '../src/interactions/request.ts';
import { ServingModel } from '../src/interactions/servingModel.ts';
import { importHetrec } from '../src/import/importHetrec.ts';
import { DEFAULT_MODEL_PATH } from '../src/model/modelPaths.ts';
import { Recommender } from '../src/model/recommender.ts';
import { createRetrainer } from '../src/retrain/retrainer.ts';
import { runRetrain } from '../src/retrain/retrainRun.ts';
import { runRetrainWorker } from '../src/retrain/runWorker.ts';
import { openStorage } from '../src/storage/storage.ts';

const DATASET = fileURLToPath(new URL('../../shared/datasets/lastfm-hetrec2011', import.meta.url));

/** What to measure. */
export interface RetrainLatencyOptions {
  /** A bot database with listening data; default: HetRec imported into a temporary one. */
  databasePath?: string;
  /** The model to serve; default models/default.nmf if present, else a first retrain's model. */
  modelPath?: string;
  /** Requests measured idle (default 400). */
  idleRequests?: number;
  /** Pause between two requests, in milliseconds (default 10). */
  pauseMs?: number;
}

/** Latency of one phase, in milliseconds. */
export interface LatencyRow {
  phase: string;
  requests: number;
  median: number;
  p99: number;
  max: number;
}

/** Everything measured. */
export interface RetrainLatencyResult {
  rows: LatencyRow[];
  retrainSeconds: number;
  retrainMessage: string;
  artists: number;
}

/**
 * Measures `/similar` latency idle and during one retrain (see the top of the file). Takes as
 * long as the retrain (about a minute per 60 iterations of the full data on one core).
 */
export async function measureRetrainLatency(
  options: RetrainLatencyOptions = {},
): Promise<RetrainLatencyResult> {
  const folder = mkdtempSync(join(tmpdir(), 'retrain-latency-'));
  const logger = pino({ level: 'silent' });
  try {
    // The database: the one given, or HetRec imported into a temporary file.
    const databasePath = options.databasePath ?? join(folder, 'bot.sqlite');
    if (options.databasePath === undefined) {
      const importing = openStorage(databasePath);
      await importHetrec(importing, DATASET, { quiet: true });
      importing.close();
    }
    const modelDirectory = join(folder, 'models');

    // The model served while measuring.
    const modelPath = options.modelPath ??
      (existsSync(DEFAULT_MODEL_PATH) ? DEFAULT_MODEL_PATH : undefined);
    let recommender: Recommender;
    if (modelPath !== undefined) {
      recommender = Recommender.load(modelPath);
    } else {
      const first = await runRetrain({ databasePath, modelDirectory, logger }, undefined, 'bench');
      if (first.recommender === undefined) throw new Error(`first retrain failed: ${first.message}`);
      recommender = first.recommender;
    }
    const servingModel = new ServingModel(recommender);

    // The bot's dispatcher over a writable connection (every /similar logs a request).
    const storage = openStorage(databasePath);
    const dispatcher = new Dispatcher({
      commands: COMMANDS, servingModel, storage, logger, cooldownSeconds: 0,
    });
    // The 500 most-listened artists that the lookup finds by their own name.
    const names = [...recommender.data.artists]
      .sort((a, b) => b.listeners - a.listeners)
      .filter((artist) => recommender.resolve(artist.name).artist?.id === artist.id)
      .slice(0, 500)
      .map((artist) => artist.name);
    let next = 0;
    const pauseMs = options.pauseMs ?? 10;
    const similarOnce = async (): Promise<number> => {
      const request = similarRequest(names[next++ % names.length]);
      const started = performance.now();
      const reply = await dispatcher.handle(request);
      const elapsed = performance.now() - started;
      if (reply.embeds === undefined) throw new Error(`unexpected reply: ${reply.content}`);
      return elapsed;
    };

    // Idle.
    for (let warm = 0; warm < 50; warm++) await similarOnce();
    const idle: number[] = [];
    for (let index = 0; index < (options.idleRequests ?? 400); index++) {
      idle.push(await similarOnce());
      await sleep(pauseMs);
    }

    // During a retrain: until the worker exits, then until the run has finished.
    let workerDone = false;
    const retrainer = createRetrainer({
      databasePath, modelDirectory, logger, servingModel,
      runWorker: async (job, workerOptions) => {
        const outcome = await runRetrainWorker(job, workerOptions);
        workerDone = true;
        return outcome;
      },
    });
    const started = performance.now();
    let finished = false;
    const run = retrainer.runNow('bench').finally(() => {
      finished = true;
    });
    const training: number[] = [];
    const checking: number[] = [];
    while (!finished) {
      const phase = workerDone ? checking : training;
      phase.push(await similarOnce());
      await sleep(pauseMs);
    }
    const outcome = await run;
    const retrainSeconds = (performance.now() - started) / 1000;
    storage.close();

    return {
      rows: [
        summarise('idle', idle),
        summarise('retrain: worker training', training),
        summarise('retrain: check and swap in the bot process', checking),
      ],
      retrainSeconds,
      retrainMessage: outcome.message,
      artists: recommender.artistCount,
    };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** A `/similar artist:<name>` request from a console member. */
function similarRequest(name: string): InteractionRequest {
  return {
    kind: 'command', commandName: 'similar', options: recordOptions({ artist: name }),
    userId: 'bench', userName: 'bench', guildId: null, channelId: null,
    memberCanManageGuild: false,
  };
}

function summarise(phase: string, samples: number[]): LatencyRow {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (quantile: number) =>
    sorted.length === 0
      ? Number.NaN
      : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * quantile))];
  return { phase, requests: sorted.length, median: at(0.5), p99: at(0.99), max: at(1) };
}

/** The result as a markdown table plus one line about the retrain. */
export function formatLatencyTable(result: RetrainLatencyResult): string {
  const lines = [
    `/similar latency through the Dispatcher, ${result.artists} artists served (ms):`,
    '',
    '| phase | requests | median | p99 | max |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...result.rows.map((row) =>
      `| ${row.phase} | ${row.requests} | ${row.median.toFixed(2)} | ${row.p99.toFixed(2)} | ` +
        `${row.max.toFixed(2)} |`),
    '',
    `Retrain: ${result.retrainSeconds.toFixed(0)} s. ${result.retrainMessage}`,
  ];
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      database: { type: 'string' },
      model: { type: 'string' },
      idle: { type: 'string' },
      pause: { type: 'string' },
    },
  });
  const result = await measureRetrainLatency({
    databasePath: values.database,
    modelPath: values.model,
    idleRequests: values.idle === undefined ? undefined : Number(values.idle),
    pauseMs: values.pause === undefined ? undefined : Number(values.pause),
  });
  console.log(formatLatencyTable(result));
}
