/**
 * `/help`: a private list of the bot's commands, written from their own definitions so it never
 * falls out of date, and what the bot keeps about the member. The console prints the same lines
 * with its own hints.
 */
import { ApplicationCommandOptionType, SlashCommandBuilder } from 'discord.js';
import type { APIApplicationCommandOption } from 'discord.js';
import type { BotCommand, CommandContext } from '../interactions/command.ts';
import type { Reply } from '../interactions/reply.ts';
import { modelFooter } from './similar.ts';

const NAME = 'help';

const definition = new SlashCommandBuilder()
  .setName(NAME)
  .setDescription('What I can do, and what I keep about you')
  .toJSON();

/** One line per command or subcommand: its usage, then its description. */
export interface CommandUsage {
  usage: string;
  description: string;
}

/** `/name [sub] option:<…> [optional:<…>]` for every command and subcommand, in order. */
export function commandUsages(commands: BotCommand[]): CommandUsage[] {
  const usages: CommandUsage[] = [];
  for (const { definition: command } of commands) {
    const options = command.options ?? [];
    const subcommands = options.filter(
      (option) => option.type === ApplicationCommandOptionType.Subcommand);
    if (subcommands.length === 0) {
      usages.push({ usage: usageOf(command.name, options), description: command.description });
    }
    for (const sub of subcommands) {
      usages.push({
        usage: usageOf(command.name, sub.options ?? [], sub.name),
        description: sub.description,
      });
    }
  }
  return usages;
}

/** `/name [sub] option:<…> [optional:<…>]`: required options bare, optional ones bracketed. */
export function usageOf(name: string, options: APIApplicationCommandOption[], sub?: string): string {
  const parts = options.map((option) => {
    const required = 'required' in option && option.required === true;
    return required ? `${option.name}:<…>` : `[${option.name}:<…>]`;
  });
  return ['/' + name, ...(sub === undefined ? [] : [sub]), ...parts].join(' ');
}

/**
 * The `/help` command over `commands` (read when asked, so it may list itself). The reply is
 * private: it is for the member who asked, not the channel.
 */
export function helpCommand(commands: () => BotCommand[]): BotCommand {
  const execute = (context: CommandContext): Reply => {
    const lines = commandUsages(commands()).map(
      ({ usage, description }) => `\`${usage}\`\n${description}`);
    return {
      ephemeral: true,
      embeds: [{
        title: 'What I can do',
        description: lines.join('\n'),
        fields: [{
          name: 'What I keep',
          value: 'Your taste profile, and which artists you ask about (to retrain the model ' +
            'every night). `/forget-me` deletes both.',
        }],
        color: 0x1db954,
        footer: { text: modelFooter(context.recommender) },
      }],
    };
  };
  return { definition, execute };
}
