/**
 * Routes a transport-neutral request to its command: applies the per-member cooldown, reads the
 * serving model once, catches every exception (the member gets a short apology with an error id,
 * the log gets the stack under that id), and clamps every reply to Discord's limits.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ModelArtist } from '../model/types.ts';
import type { Storage } from '../storage/storage.ts';
import type { BotCommand, CommandContext } from './command.ts';
import { Cooldowns } from './cooldown.ts';
import { clampChoices, clampReply } from './limits.ts';
import type { AutocompleteChoice, Reply } from './reply.ts';
import type { InteractionRequest } from './request.ts';
import type { RetrainControl } from './retrainControl.ts';
import type { ServingModel } from './servingModel.ts';

/** What the dispatcher needs. */
export interface DispatcherOptions {
  commands: BotCommand[];
  servingModel: ServingModel;
  storage: Storage;
  retrain?: RetrainControl;
  logger: Logger;
  /** Seconds between two commands of one member; 0 disables. */
  cooldownSeconds: number;
  /** Clock, replaceable in tests. */
  now?: () => Date;
}

/** Callbacks a transport offers so a slow handler can be deferred in time. */
export interface DispatchHooks {
  /** Acknowledges the interaction now; the reply follows later (Discord's "thinking…"). */
  defer?(): Promise<void>;
}

/** A short id a member can quote and an operator can grep for. */
export function newErrorId(): string {
  return `E${randomBytes(4).toString('hex').toUpperCase()}`;
}

/** Routes requests to commands. */
export class Dispatcher {
  readonly #commands = new Map<string, BotCommand>();
  readonly #options: DispatcherOptions;
  readonly #cooldowns: Cooldowns;
  readonly #now: () => Date;

  constructor(options: DispatcherOptions) {
    this.#options = options;
    for (const command of options.commands) this.#commands.set(command.definition.name, command);
    this.#cooldowns = new Cooldowns(options.cooldownSeconds);
    this.#now = options.now ?? (() => new Date());
  }

  /** The registered commands, in registration order. */
  get commands(): BotCommand[] {
    return [...this.#commands.values()];
  }

  /** The command named `name`, if any. */
  command(name: string): BotCommand | undefined {
    return this.#commands.get(name);
  }

  /**
   * Answers a command or component request. Never rejects: failures become an ephemeral
   * apology with an error id. The reply is already clamped to Discord's limits.
   */
  async handle(request: InteractionRequest, hooks: DispatchHooks = {}): Promise<Reply> {
    const started = performance.now();
    const command = this.#commands.get(request.commandName);
    if (command === undefined) {
      return clampReply({ content: `I don't know the command \`${request.commandName}\`.`,
        ephemeral: true });
    }

    // Cooldown: slash commands only; buttons and menus page and confirm, and stay snappy.
    if (request.kind === 'command') {
      const wait = this.#cooldowns.take(request.userId, this.#now().getTime());
      if (wait > 0) {
        const seconds = Math.max(1, Math.ceil(wait / 1000));
        const unit = seconds === 1 ? 'second' : 'seconds';
        return clampReply({ content: `Easy there: try again in ${seconds} ${unit}.`,
          ephemeral: true });
      }
    }

    const context = this.#context(request, hooks);
    try {
      let reply: Reply;
      if (request.kind === 'component') {
        if (command.handleComponent === undefined) throw new Error('command has no components');
        const [, action = '', ...args] = (request.customId ?? '').split(':');
        reply = await command.handleComponent(context, { action, args,
          values: request.values ?? [] });
      } else {
        reply = await command.execute(context);
      }
      // A line per request only at debug level; its fields are not even built otherwise.
      if (context.logger.isLevelEnabled('debug')) {
        context.logger.debug({ command: describe(request), userId: request.userId,
          milliseconds: Math.round(performance.now() - started) }, 'answered');
      }
      return clampReply(reply);
    } catch (error) {
      const errorId = newErrorId();
      context.logger.error({ err: error, errorId, command: describe(request),
        userId: request.userId }, 'command failed');
      return clampReply({
        content: `Sorry, something went wrong on my side. If it keeps happening, give the bot's ` +
          `operator this error id: \`${errorId}\`.`,
        ephemeral: true,
      });
    }
  }

  /** Answers an autocomplete request: at most 25 choices, [] on any failure. No cooldown. */
  autocomplete(request: InteractionRequest): AutocompleteChoice[] {
    const command = this.#commands.get(request.commandName);
    if (command?.autocomplete === undefined) return [];
    const context = this.#context(request);
    try {
      return clampChoices(command.autocomplete(context));
    } catch (error) {
      context.logger.error({ err: error, errorId: newErrorId(), command: describe(request) },
        'autocomplete failed');
      return [];
    }
  }

  #context(request: InteractionRequest, hooks: DispatchHooks = {}): CommandContext {
    const { servingModel, storage, retrain } = this.#options;
    const logger = this.#options.logger;
    const now = this.#now;
    return {
      request,
      recommender: servingModel.current,
      servingModel,
      storage,
      ...(retrain === undefined ? {} : { retrain }),
      logger,
      now,
      defer: async () => {
        if (hooks.defer !== undefined) await hooks.defer();
      },
      logArtistRequest(command: string, artist: ModelArtist | undefined, query: string) {
        try {
          storage.logRequest({
            at: now(),
            guildId: request.guildId,
            channelId: request.channelId,
            userId: request.userId,
            command,
            artistKey: artist?.key ?? null,
            artistName: artist?.name ?? null,
            query,
          });
        } catch (error) {
          logger.error({ err: error, command }, 'request log write failed');
        }
      },
    };
  }
}

function describe(request: InteractionRequest): string {
  if (request.kind === 'component') return `${request.customId ?? request.commandName}`;
  const sub = request.subcommand === undefined ? '' : ` ${request.subcommand}`;
  return `/${request.commandName}${sub}`;
}
