/** Every slash command the bot offers, in the order `/help` lists them. */
import type { BotCommand } from '../interactions/command.ts';
import { forgetMeCommand } from './forget-me.ts';
import { helpCommand } from './help.ts';
import { modelCommand } from './model.ts';
import { recommendCommand } from './recommend.ts';
import { similarCommand } from './similar.ts';
import { tasteCommand } from './taste.ts';

/** The commands, registered with Discord and parsed by the console alike. */
export const COMMANDS: BotCommand[] = [
  similarCommand,
  tasteCommand,
  recommendCommand,
  modelCommand,
  forgetMeCommand,
  helpCommand(() => COMMANDS),
];

/** The JSON `deploy-commands` registers with Discord. */
export function commandDefinitions(): BotCommand['definition'][] {
  return COMMANDS.map((command) => command.definition);
}
