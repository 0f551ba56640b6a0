/**
 * `/forget-me`: deletes everything the bot stores about the member (taste profile and request
 * log), after a confirmation only they can click.
 */
import { SlashCommandBuilder } from 'discord.js';
import type { BotCommand, CommandContext, ComponentTarget } from '../interactions/command.ts';
import { customId } from '../interactions/command.ts';
import type { Reply } from '../interactions/reply.ts';
import { confirmationReply } from '../interactions/reply.ts';

const NAME = 'forget-me';

const definition = new SlashCommandBuilder()
  .setName(NAME)
  .setDescription('Delete your taste profile and every request of yours I logged')
  .toJSON();

function execute(context: CommandContext): Reply {
  const { request, storage } = context;
  const tastes = storage.listTaste(request.userId).length;
  return confirmationReply(
    `This deletes your taste profile (${tastes} ${tastes === 1 ? 'artist' : 'artists'}) ` +
      'and every request of yours in my log. It cannot be undone. Go ahead?',
    { customId: customId(NAME, 'confirm', request.userId), label: 'Yes, forget me' },
    { customId: customId(NAME, 'cancel', request.userId), label: 'Cancel' },
  );
}

function handleComponent(context: CommandContext, target: ComponentTarget): Reply {
  const { request, storage } = context;
  if (target.args[0] !== request.userId) {
    return { content: 'Only the member who asked can answer this.', ephemeral: true };
  }
  if (target.action === 'cancel') {
    return { content: 'Nothing deleted.', components: [], update: true };
  }
  if (target.action !== 'confirm') return { content: 'That button has expired.', ephemeral: true };

  const deleted = storage.forgetMember(request.userId);
  context.logger.info({ tastes: deleted.tastes, requests: deleted.requests }, 'member forgotten');
  return {
    content: `Done. I deleted ${deleted.tastes} taste ` +
      `${deleted.tastes === 1 ? 'entry' : 'entries'}` +
      ` and ${deleted.requests} logged ${deleted.requests === 1 ? 'request' : 'requests'}.`,
    components: [],
    update: true,
  };
}

/** The `/forget-me` command. */
export const forgetMeCommand: BotCommand = { definition, execute, handleComponent };
