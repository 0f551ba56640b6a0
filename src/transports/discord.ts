/**
 * The Discord transport: a discord.js `Client` whose `interactionCreate` events become
 * transport-neutral requests for the dispatcher, and whose replies go back through
 * reply / deferReply / editReply / update / respond. Every message sent carries
 * `allowedMentions: { parse: [] }` (also the client default), so nothing the bot echoes can ping.
 */
import { Client, Events, GatewayIntentBits, MessageFlags, PermissionFlagsBits } from 'discord.js';
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

/** Discord drops an interaction not acknowledged within 3 s: defer well before that. */
export const DEFER_AFTER_MS = 2000;

/** A discord.js client configured for the bot; `apiUrl` points REST (and the gateway lookup). */
export function createDiscordClient(apiUrl?: string): Client {
  return new Client({
    intents: [GatewayIntentBits.Guilds],
    allowedMentions: NO_MENTIONS,
    ...(apiUrl === undefined ? {} : { rest: { api: apiUrl } }),
  });
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
    await interaction.reply(reply.ephemeral === true
      ? { ...payload(reply), flags: MessageFlags.Ephemeral as const }
      : payload(reply));
  } else if (reply.ephemeral === true) {
    // The deferral was public: replace it with a private follow-up.
    await interaction.deleteReply().catch(() => undefined);
    await interaction.followUp({ ...payload(reply), flags: MessageFlags.Ephemeral });
  } else {
    await interaction.editReply(payload(reply));
  }
}

async function answerComponent(interaction: MessageComponentInteraction, reply: Reply,
  deferred: boolean): Promise<void> {
  const options = reply.ephemeral === true
    ? { ...payload(reply), flags: MessageFlags.Ephemeral as const }
    : payload(reply);
  if (reply.update === true) {
    if (deferred) await interaction.editReply(payload(reply));
    else await interaction.update(payload(reply));
  } else if (deferred) {
    await interaction.followUp(options);
  } else {
    await interaction.reply(options);
  }
}

/**
 * Answers one interaction through the dispatcher: defers when the handler asks (before slow
 * work), or after `DEFER_AFTER_MS` for anything still running; logs (never throws) when
 * Discord refuses.
 */
export async function handleInteraction(interaction: Interaction, dispatcher: Dispatcher,
  logger: Logger, deferAfterMs: number = DEFER_AFTER_MS): Promise<void> {
  const request = toRequest(interaction);
  if (request === undefined) return;

  try {
    if (interaction.isAutocomplete()) {
      await interaction.respond(dispatcher.autocomplete(request));
      return;
    }
    if (!interaction.isChatInputCommand() && !interaction.isMessageComponent()) return;

    let deferral: Promise<unknown> | undefined;
    const defer = (): Promise<void> => {
      deferral ??= interaction.isChatInputCommand() ? interaction.deferReply()
        : interaction.deferUpdate();
      return deferral.then(() => undefined);
    };
    const timer = setTimeout(() => {
      defer().catch((error: unknown) => logger.warn({ err: error }, 'deferring failed'));
    }, deferAfterMs);

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

/** Routes every interaction of `client` through `dispatcher`. */
export function attachDispatcher(client: Client, dispatcher: Dispatcher, logger: Logger): void {
  client.on(Events.InteractionCreate, (interaction) => {
    void handleInteraction(interaction, dispatcher, logger);
  });
}
