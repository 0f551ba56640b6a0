/**
 * The Discord transport: a discord.js `Client` whose `interactionCreate` events become
 * transport-neutral requests for the dispatcher, and whose replies go back through
 * reply / deferReply / editReply / update / respond. Every message sent carries
 * `allowedMentions: { parse: [] }` (also the client default), so nothing the bot echoes can ping.
 *
 * Discord drops an interaction not acknowledged within 3 s. Three guards, cheapest first:
 * - a command or component that arrives already old (its snowflake time more than
 *   `DEFER_IF_OLDER_THAN_MS` ago), or while the event loop is backed up (no timer tick for
 *   `BACKLOG_AFTER_MS`), is deferred on arrival, and its handler runs only once Discord has
 *   taken the deferral, so queued work cannot push the acknowledgement past the window;
 * - a handler that asks (`context.defer()`) is deferred before its slow work;
 * - anything still running after `DEFER_AFTER_MS` is deferred by a timer.
 * Autocomplete cannot be deferred: it is answered at once, or dropped unanswered when it reaches
 * the handler older than Discord's window (Discord would refuse the answer; in an overload burst
 * such keystrokes are half the queued work).
 */
import { performance } from 'node:perf_hooks';
import {
  Client, Events, GatewayIntentBits, MessageFlags, Options, PermissionFlagsBits,
} from 'discord.js';
import type {
  AutocompleteInteraction, ChatInputCommandInteraction, Interaction, MessageComponentInteraction,
  User,
} from 'discord.js';
import type { Logger } from 'pino';
import type { Dispatcher } from '../interactions/dispatcher.ts';
import type { Reply } from '../interactions/reply.ts';
import type { InteractionRequest, RequestOptions } from '../interactions/request.ts';
import { recordOptions } from '../interactions/request.ts';

/** No mention of any kind is ever resolved into a ping. */
export const NO_MENTIONS = { parse: [] as [] };

/** Discord refuses the first answer to an interaction after this long. */
export const ANSWER_WINDOW_MS = 3000;

/** Discord drops an interaction not acknowledged within 3 s: defer well before that. */
export const DEFER_AFTER_MS = 2000;

/** An interaction that has already waited this long when it reaches us is deferred at once. */
export const DEFER_IF_OLDER_THAN_MS = 1500;

/** The event loop counts as backed up when its timers have not run for this long. */
export const BACKLOG_AFTER_MS = 1000;

/**
 * Turns for work that may wait: one waiter is let go per event-loop turn (setImmediate), so
 * between two of them the loop reads the gateway and the REST answers, and fresh interactions
 * (autocomplete above all, which cannot be deferred) are not stuck behind a queue of deferred
 * ones. O(1) per turn.
 */
export class TurnQueue {
  readonly #waiting: (() => void)[] = [];
  #head = 0;
  #scheduled = false;

  /** Resolves when it is the caller's turn: after every earlier caller's, one per loop turn. */
  turn(): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.#schedule();
    });
  }

  /** Callers still waiting. */
  get waiting(): number {
    return this.#waiting.length - this.#head;
  }

  #schedule(): void {
    if (this.#scheduled || this.waiting === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      const next = this.#waiting[this.#head++];
      if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
        this.#waiting.splice(0, this.#head);
        this.#head = 0;
      }
      next?.();
      this.#schedule();
    });
  }
}

/**
 * Watches the event loop with one unref'd interval timer: when the timer has not run for a
 * while, the loop is busy with queued work (a burst of interactions, a model swap) and a new
 * interaction would wait behind it. O(1) per check.
 */
export class EventLoopWatch {
  #lastTick = performance.now();
  readonly #timer: NodeJS.Timeout;

  constructor(intervalMs = 50) {
    this.#timer = setInterval(() => {
      this.#lastTick = performance.now();
    }, intervalMs);
    this.#timer.unref();
  }

  /** Milliseconds since the timer last ran (about 0 to `intervalMs` when the loop is free). */
  get stalledMs(): number {
    return performance.now() - this.#lastTick;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** When to defer an interaction on arrival; every field has a default. */
export interface EarlyDeferOptions {
  /** Default `DEFER_IF_OLDER_THAN_MS`. */
  olderThanMs?: number;
  /** Default `BACKLOG_AFTER_MS`. */
  backlogAfterMs?: number;
  /** Default: none (only the interaction's age counts). */
  watch?: { stalledMs: number };
  /** Epoch milliseconds now; replaceable in tests. */
  now?: () => number;
  /** Where early-deferred work waits for its turn (default: one queue for the process). */
  turns?: TurnQueue;
}

/**
 * Why an interaction should be deferred before its handler runs: 'old' (it was created more
 * than `olderThanMs` ago, by its snowflake), 'backlog' (the event loop is stalled), or undefined
 * to answer it normally. An interaction without a creation time counts as new. O(1).
 */
export function earlyDeferReason(interaction: { createdTimestamp?: number },
  options: EarlyDeferOptions = {}): 'old' | 'backlog' | undefined {
  const now = options.now?.() ?? Date.now();
  const created = interaction.createdTimestamp;
  if (typeof created === 'number' && Number.isFinite(created) &&
    now - created > (options.olderThanMs ?? DEFER_IF_OLDER_THAN_MS)) {
    return 'old';
  }
  if (options.watch !== undefined &&
    options.watch.stalledMs > (options.backlogAfterMs ?? BACKLOG_AFTER_MS)) {
    return 'backlog';
  }
  return undefined;
}

/**
 * Requests a second that discord.js lets through its own global limiter. Its default, 50, is
 * Discord's global limit for bot-token routes, but discord.js counts interaction edits and
 * follow-ups too, which Discord exempts (they are limited per interaction token): with the
 * default, 400 deferred answers in a burst queue for 8 s inside the bot. A real global 429 from
 * Discord is still honoured, and the bot makes almost no bot-token calls at run time.
 */
export const REST_REQUESTS_PER_SECOND = 1000;

/** Members and users kept in discord.js' caches (the bot's own always stays). */
export const MEMBER_CACHE_SIZE = 1000;

/**
 * A discord.js client configured for the bot; `apiUrl` points REST (and the gateway lookup).
 *
 * Only the Guilds intent (interactions need none; it resolves `interaction.guild`). The bot
 * reads no messages, reactions, presences, voice, threads, emojis or stickers: those caches hold
 * nothing, and the member and user caches are bounded (least recently added out first), so
 * memory stays flat however many members ask. The caches discord.js documents as unsafe to limit
 * (guilds, channels, roles, permission overwrites) keep their defaults.
 */
export function createDiscordClient(apiUrl?: string): Client {
  const keepSelf = { maxSize: MEMBER_CACHE_SIZE,
    keepOverLimit: (entry: { id: string; client: Client }) => entry.id === entry.client.user?.id };
  return new Client({
    intents: [GatewayIntentBits.Guilds],
    allowedMentions: NO_MENTIONS,
    jsonTransformer: snakeCaseJson,
    makeCache: Options.cacheWithLimits({
      ...Options.DefaultMakeCacheSettings,
      MessageManager: 0,
      DMMessageManager: 0,
      GuildMessageManager: 0,
      ReactionManager: 0,
      ReactionUserManager: 0,
      PresenceManager: 0,
      VoiceStateManager: 0,
      ThreadMemberManager: 0,
      StageInstanceManager: 0,
      GuildScheduledEventManager: 0,
      GuildInviteManager: 0,
      GuildBanManager: 0,
      GuildEmojiManager: 0,
      GuildStickerManager: 0,
      BaseGuildEmojiManager: 0,
      AutoModerationRuleManager: 0,
      GuildMemberManager: keepSelf,
      UserManager: keepSelf,
    }),
    rest: {
      globalRequestsPerSecond: REST_REQUESTS_PER_SECOND,
      ...(apiUrl === undefined ? {} : { api: apiUrl }),
    },
  });
}

/** discord.js' own transformer (camelCase keys to snake_case, recursively). */
const discordJsTransformer = Options.createDefault().jsonTransformer as (value: unknown) => unknown;

/** A key lodash's snakeCase leaves as it is: lower-case words joined by single underscores. */
const SNAKE_CASE_KEY = /^[a-z]+(?:_[a-z]+)*$/;

/**
 * The client's `jsonTransformer`: the same result as discord.js' default (which snake-cases every
 * key of every outgoing object, autocomplete choices included), but an object whose keys are
 * already snake_case, as everything the bot builds is, is copied without running lodash's
 * snakeCase on each key; anything else goes to the default. O(size of `value`).
 */
export function snakeCaseJson(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(snakeCaseJson);
  if (Object.getPrototypeOf(value) !== Object.prototype) return discordJsTransformer(value);

  const copy: Record<string, unknown> = {};
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const field = (value as Record<string, unknown>)[key];
    // discord.js resolves a string `emoji`; leave that case to it.
    if (!SNAKE_CASE_KEY.test(key) || (key === 'emoji' && typeof field === 'string')) {
      return discordJsTransformer(value);
    }
    copy[key] = snakeCaseJson(field);
  }
  return copy;
}

function displayName(user: User): string {
  return user.globalName ?? user.username;
}

function commandOptions(interaction: ChatInputCommandInteraction | AutocompleteInteraction)
  : RequestOptions {
  return {
    getString: (name) => {
      const value = interaction.options.get(name)?.value;
      return value === undefined || value === null ? null : String(value);
    },
    getInteger: (name) => {
      const value = interaction.options.get(name)?.value;
      return typeof value === 'number' && Number.isInteger(value) ? value : null;
    },
    getUser: (name) => {
      if (!interaction.isChatInputCommand()) return null;
      const user = interaction.options.getUser(name);
      return user === null ? null : { id: user.id, name: displayName(user) };
    },
    getFocused: () => {
      if (!interaction.isAutocomplete()) return null;
      const focused = interaction.options.getFocused(true);
      return { name: focused.name, value: String(focused.value) };
    },
  };
}

/** The neutral request for a discord.js interaction, or undefined for kinds the bot ignores. */
export function toRequest(interaction: Interaction): InteractionRequest | undefined {
  const base = {
    userId: interaction.user.id,
    userName: displayName(interaction.user),
    guildId: interaction.guildId,
    channelId: interaction.channelId,
    memberCanManageGuild: interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ===
      true,
  };
  if (interaction.isChatInputCommand() || interaction.isAutocomplete()) {
    const subcommand = interaction.options.getSubcommand(false);
    return {
      ...base,
      kind: interaction.isAutocomplete() ? 'autocomplete' : 'command',
      commandName: interaction.commandName,
      ...(subcommand === null ? {} : { subcommand }),
      options: commandOptions(interaction),
    };
  }
  if (interaction.isButton() || interaction.isStringSelectMenu()) {
    return {
      ...base,
      kind: 'component',
      commandName: interaction.customId.split(':')[0] ?? '',
      customId: interaction.customId,
      ...(interaction.isStringSelectMenu() ? { values: interaction.values } : {}),
      options: recordOptions({}),
    };
  }
  return undefined;
}

/**
 * Whether a REST call died on a keep-alive connection that Discord (or anything in between) had
 * already closed: undici's "other side closed". It happens when the event loop was too busy to
 * notice the close before reusing the socket.
 */
export function isClosedConnectionError(error: unknown): boolean {
  return error instanceof Error && (error as { code?: unknown }).code === 'UND_ERR_SOCKET';
}

/**
 * Runs `call` (a callback, an edit or a delete: calls Discord will not apply twice; never a
 * follow-up, which would post twice), once more when it failed on a closed connection.
 */
export async function retryOnClosedConnection<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!isClosedConnectionError(error)) throw error;
    return call();
  }
}

function payload(reply: Reply) {
  return {
    ...(reply.content === undefined ? {} : { content: reply.content }),
    ...(reply.embeds === undefined ? {} : { embeds: reply.embeds }),
    ...(reply.components === undefined ? {} : { components: reply.components }),
    allowedMentions: NO_MENTIONS,
  };
}

async function answerCommand(interaction: ChatInputCommandInteraction, reply: Reply,
  deferred: boolean): Promise<void> {
  if (!deferred) {
    const options = reply.ephemeral === true
      ? { ...payload(reply), flags: MessageFlags.Ephemeral as const }
      : payload(reply);
    await retryOnClosedConnection(() => interaction.reply(options));
  } else if (reply.ephemeral === true) {
    // The deferral was public: replace it with a private follow-up.
    await retryOnClosedConnection(() => interaction.deleteReply()).catch(() => undefined);
    await interaction.followUp({ ...payload(reply), flags: MessageFlags.Ephemeral });
  } else {
    await retryOnClosedConnection(() => interaction.editReply(payload(reply)));
  }
}

async function answerComponent(interaction: MessageComponentInteraction, reply: Reply,
  deferred: boolean): Promise<void> {
  const options = reply.ephemeral === true
    ? { ...payload(reply), flags: MessageFlags.Ephemeral as const }
    : payload(reply);
  if (reply.update === true) {
    if (deferred) await retryOnClosedConnection(() => interaction.editReply(payload(reply)));
    else await retryOnClosedConnection(() => interaction.update(payload(reply)));
  } else if (deferred) {
    await interaction.followUp(options);
  } else {
    await retryOnClosedConnection(() => interaction.reply(options));
  }
}

/** How `handleInteraction` decides to defer; see the file comment. */
export interface DeferPolicy extends EarlyDeferOptions {
  /** Defer anything still running after this long (default `DEFER_AFTER_MS`). */
  afterMs?: number;
}

/**
 * Answers one interaction through the dispatcher: defers on arrival when the interaction is old
 * or the loop is backed up (see `earlyDeferReason`), when the handler asks (before slow work),
 * or after `policy.afterMs` for anything still running; logs (never throws) when Discord
 * refuses. A number as `policy` is the timer's delay (older callers).
 */
export async function handleInteraction(interaction: Interaction, dispatcher: Dispatcher,
  logger: Logger, policy: DeferPolicy | number = {}): Promise<void> {
  const request = toRequest(interaction);
  if (request === undefined) return;
  const options: DeferPolicy = typeof policy === 'number' ? { afterMs: policy } : policy;

  try {
    if (interaction.isAutocomplete()) {
      const age = (options.now?.() ?? Date.now()) - interaction.createdTimestamp;
      if (age > ANSWER_WINDOW_MS) {
        logger.debug({ ageMs: age, command: request.commandName }, 'autocomplete too old: dropped');
        return;
      }
      const choices = dispatcher.autocomplete(request);
      await retryOnClosedConnection(() => interaction.respond(choices));
      return;
    }
    if (!interaction.isChatInputCommand() && !interaction.isMessageComponent()) return;

    let deferral: Promise<unknown> | undefined;
    const defer = (): Promise<void> => {
      deferral ??= retryOnClosedConnection(() => interaction.isChatInputCommand()
        ? interaction.deferReply() : interaction.deferUpdate());
      return deferral.then(() => undefined);
    };

    // Late already: acknowledge now, and do this handler's work only once Discord has the
    // acknowledgement (so queued work cannot push it past the 3 s window), one per loop turn.
    const early = earlyDeferReason(interaction, options);
    if (early !== undefined) {
      logger.debug({ reason: early, command: request.commandName }, 'deferred on arrival');
      await defer();
      await (options.turns ?? processTurns).turn();
    }

    const timer = setTimeout(() => {
      defer().catch((error: unknown) => logger.warn({ err: error }, 'deferring failed'));
    }, options.afterMs ?? DEFER_AFTER_MS);

    let reply: Reply;
    try {
      reply = await dispatcher.handle(request, { defer });
    } finally {
      clearTimeout(timer);
    }
    if (deferral !== undefined) await deferral;

    if (interaction.isChatInputCommand()) {
      await answerCommand(interaction, reply, deferral !== undefined);
    } else if (interaction.isMessageComponent()) {
      await answerComponent(interaction, reply, deferral !== undefined);
    }
  } catch (error) {
    logger.warn({ err: error, kind: request.kind, command: request.commandName },
      'could not answer an interaction');
  }
}

/** One watch for the whole process: its timer is unref'd, so it never keeps the process alive. */
let processWatch: EventLoopWatch | undefined;
/** One queue of turns for the whole process. */
const processTurns = new TurnQueue();

/** Routes every interaction of `client` through `dispatcher`, deferring early when late. */
export function attachDispatcher(client: Client, dispatcher: Dispatcher, logger: Logger,
  policy: DeferPolicy = {}): void {
  const options = { ...policy, watch: policy.watch ?? (processWatch ??= new EventLoopWatch()) };
  client.on(Events.InteractionCreate, (interaction) => {
    void handleInteraction(interaction, dispatcher, logger, options);
  });
}
