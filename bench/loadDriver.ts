/**
 * The sending side of the load benchmark: drives the Discord stand-in (test/support/fakeDiscord.ts)
 * through a plan of `/similar` and autocomplete interactions and measures, inside the stand-in,
 * the time from dispatching INTERACTION_CREATE to the answer arriving.
 *
 * Three ways of sending:
 * - members: every member sends its own interactions one after another, the next as soon as the
 *   previous one is answered, all members at once (closed loop: as many in flight as members).
 * - burst: every interaction dispatched at once (open loop, a stress test: latency is queueing).
 * - paced: dispatched at a steady rate, whatever the bot's speed (open loop).
 *
 * Run as a child process (`fork` with IPC) it hosts the stand-in itself, so the bot process
 * measured by bench/load.ts does none of the stand-in's work; `driveLoad` also runs in-process.
 *
 * Child protocol (messages over the IPC channel):
 *   child -> parent  { type: 'ready', restUrl, guildId }
 *   parent -> child  { id, type: 'identify' | 'run' | 'stop', run?: DriveRequest }
 *   child -> parent  { id, ok: true, result? } or { id, ok: false, error }
 */

import { pathToFileURL } from 'node:url';
import { FakeDiscord, makeUser } from '../test/support/fakeDiscord.ts';
import type { FakeUser, InteractionExchange } from '../test/support/fakeDiscord.ts';

/** The bot's token and application id the stand-in accepts (those of the e2e harness). */
export const LOAD_TOKEN = 'e2e-test-token.not-a-real-one';
export const LOAD_APPLICATION_ID = '1300000000000000001';

/** How interactions are sent; see the file comment. */
export type LoadMode = 'members' | 'burst' | 'paced';

/** One interaction to send. */
export interface PlannedInteraction {
  kind: 'similar' | 'autocomplete';
  /** Index of the member sending it. */
  member: number;
  /** The artist option's value (a full name, or the start of one for autocomplete). */
  text: string;
}

/** What one measured run sends. */
export interface DriveRequest {
  mode: LoadMode;
  /** In 'members' mode, each member's interactions are sent in their order in the plan. */
  plan: PlannedInteraction[];
  /** Member names; member `i` is `makeUser(memberNames[i])`. */
  memberNames: string[];
  /** Interactions a second in 'paced' mode. */
  ratePerSecond: number;
  /** How long to wait for one answer before counting it lost. */
  timeoutMs: number;
}

/** What the stand-in saw of one run. */
export interface DriveResult {
  /** Milliseconds from dispatch to the visible answer, per kind, answered ones only. */
  latencies: { similar: number[]; autocomplete: number[] };
  /** Milliseconds from dispatch to the first callback (the acknowledgement), answered ones. */
  acknowledgements: number[];
  seconds: number;
  lost: number;
  /** First callback more than 3 s after dispatch: Discord would have dropped the interaction. */
  late: number;
  /** Interactions the bot acknowledged with a defer before answering. */
  deferred: number;
  duplicated: number;
  /** Replies Discord would refuse, failed callbacks, limit violations. */
  refused: number;
  /** CPU milliseconds the stand-in itself spent (its process, when it runs in a child). */
  standInCpuMs: number;
}

/** Discord's window for acknowledging an interaction. */
export const ACKNOWLEDGE_WINDOW_MS = 3000;

/**
 * Sends `request.plan` through `discord` and waits for every answer (or its timeout).
 * Cost: the stand-in's work per interaction (JSON, HTTP), plus O(n log n) bookkeeping.
 */
export async function driveLoad(discord: FakeDiscord, request: DriveRequest): Promise<DriveResult> {
  const members: FakeUser[] = request.memberNames.map((name) => makeUser(name));
  const outcomes: { kind: PlannedInteraction['kind']; exchange?: InteractionExchange }[] = [];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();

  const sendOne = async (item: PlannedInteraction): Promise<void> => {
    const outcome: (typeof outcomes)[number] = { kind: item.kind };
    outcomes.push(outcome);
    try {
      outcome.exchange = await send(discord, item, members[item.member], request.timeoutMs);
    } catch {
      // Lost: no answer within the timeout; counted below.
    }
  };

  // Send the plan the way the mode says.
  if (request.mode === 'members') {
    const queues = members.map(() => [] as PlannedInteraction[]);
    for (const item of request.plan) queues[item.member].push(item);
    await Promise.all(queues.map(async (queue) => {
      for (const item of queue) await sendOne(item);
    }));
  } else {
    const pending: Promise<void>[] = [];
    for (const [index, item] of request.plan.entries()) {
      if (request.mode === 'paced') {
        const wait = started + (index * 1000) / request.ratePerSecond - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      pending.push(sendOne(item));
    }
    await Promise.all(pending);
  }
  const seconds = (performance.now() - started) / 1000;

  // Give stray second answers a moment to arrive before counting duplicates.
  await new Promise((resolve) => setTimeout(resolve, 100));
  const cpu = process.cpuUsage(cpuBefore);

  const result: DriveResult = {
    latencies: { similar: [], autocomplete: [] },
    acknowledgements: [],
    seconds,
    lost: 0,
    late: 0,
    deferred: 0,
    duplicated: 0,
    refused: 0,
    standInCpuMs: (cpu.user + cpu.system) / 1000,
  };
  for (const { kind, exchange } of outcomes) {
    if (exchange === undefined) {
      result.lost += 1;
      continue;
    }
    const callbacks = exchange.responses.filter((response) => response.kind === 'callback');
    const acknowledged = callbacks[0]?.elapsedMs ?? Infinity;
    if (callbacks.length > 1) result.duplicated += 1;
    if (acknowledged > ACKNOWLEDGE_WINDOW_MS) result.late += 1;
    if (callbacks[0]?.callbackType === 5) result.deferred += 1;
    result.refused += exchange.responses.filter((response) => response.status >= 400).length;
    result.latencies[kind].push(exchange.settledMs!);
    result.acknowledgements.push(acknowledged);
  }
  return result;
}

/** Sends one planned interaction; resolves when it is answered, rejects on timeout. */
function send(discord: FakeDiscord, item: PlannedInteraction, user: FakeUser,
  timeoutMs: number): Promise<InteractionExchange> {
  const options = [{ name: 'artist', type: 3, value: item.text }];
  return item.kind === 'similar'
    ? discord.sendCommand({ name: 'similar', options, user, timeoutMs })
    : discord.sendAutocomplete({ name: 'similar', options, focused: 'artist', user, timeoutMs });
}

/** Hosts the stand-in in this (child) process and answers the parent's requests over IPC. */
async function serveOverIpc(): Promise<void> {
  const discord = await FakeDiscord.start({
    token: LOAD_TOKEN,
    applicationId: LOAD_APPLICATION_ID,
  });
  const reply = (message: unknown) => {
    if (process.connected) process.send!(message);
  };
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= discord.stop());

  process.on('message', (message: { id: number; type: string; run?: DriveRequest }) => {
    const answer = async (): Promise<unknown> => {
      if (message.type === 'identify') return discord.waitForIdentify();
      if (message.type === 'run') return driveLoad(discord, message.run!);
      if (message.type === 'stop') return stop();
      throw new Error(`unknown request ${message.type}`);
    };
    answer().then(
      (result) => reply({ id: message.id, ok: true, result }),
      (error: Error) => reply({ id: message.id, ok: false, error: error.message }),
    );
  });

  // The parent going away (or closing the channel after 'stop') ends the stand-in.
  process.on('disconnect', () => void stop().finally(() => process.exit(0)));
  reply({ type: 'ready', restUrl: discord.restUrl, guildId: discord.defaultGuildId });
}

const isEntryPoint =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntryPoint && process.send !== undefined) await serveOverIpc();
