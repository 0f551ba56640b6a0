/**
 * The shape of one slash command: its definition (the JSON Discord registers and the console
 * parses), its handler, its autocomplete and its component handler. Commands see only the
 * transport-neutral request and context, never discord.js objects.
 */
import type { RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js';
import type { Logger } from 'pino';
import type { ModelArtist } from '../model/types.ts';
import type { Recommender } from '../model/recommender.ts';
import type { Storage } from '../storage/storage.ts';
import type { AutocompleteChoice, Reply } from './reply.ts';
import type { InteractionRequest } from './request.ts';
import type { RetrainControl } from './retrainControl.ts';
import type { ServingModel } from './servingModel.ts';

/** Everything a handler may use while answering one interaction. */
export interface CommandContext {
  request: InteractionRequest;
  /** The serving model, read once when the interaction started. */
  recommender: Recommender;
  servingModel: ServingModel;
  storage: Storage;
  retrain?: RetrainControl;
  logger: Logger;
  now(): Date;
  /**
   * Call before work that may take long (Discord wants an answer within 3 s): the transport
   * acknowledges the interaction and the reply is sent when the handler returns. Idempotent;
   * a no-op in the console. Decide `ephemeral` replies before deferring: after it, a private
   * reply costs the transport a delete and a follow-up.
   */
  defer(): Promise<void>;
  /**
   * Writes a request-log row for a command that named an artist (`artist` undefined when the
   * name did not resolve). Never throws: a failed write is logged and the reply goes on.
   */
  logArtistRequest(command: string, artist: ModelArtist | undefined, query: string): void;
}

/** A component interaction addressed to this command: `custom_id` = `name:action:arg:arg`. */
export interface ComponentTarget {
  action: string;
  args: string[];
  values: string[];
}

/** One slash command. */
export interface BotCommand {
  definition: RESTPostAPIChatInputApplicationCommandsJSONBody;
  execute(context: CommandContext): Reply | Promise<Reply>;
  autocomplete?(context: CommandContext): AutocompleteChoice[];
  handleComponent?(context: CommandContext, target: ComponentTarget): Reply | Promise<Reply>;
}

/** Builds a custom id `command:action:args...` (the dispatcher routes on `command`). */
export function customId(command: string, action: string, ...args: (string | number)[]): string {
  return [command, action, ...args.map(String)].join(':');
}
