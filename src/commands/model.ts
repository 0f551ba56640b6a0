/**
 * `/model info|retrain`: what model is serving (when trained, how big, how well it fit) and the
 * state of nightly retraining; `retrain` starts one now, for members with Manage Server.
 */
import { SlashCommandBuilder } from 'discord.js';
import type { APIEmbedField } from 'discord.js';
import type { BotCommand, CommandContext } from '../interactions/command.ts';
import type { Reply } from '../interactions/reply.ts';
import { safeName, truncate } from '../interactions/text.ts';

const NAME = 'model';

const definition = new SlashCommandBuilder()
  .setName(NAME)
  .setDescription('The recommendation model: what is serving, and retraining')
  .addSubcommand((sub) => sub.setName('info').setDescription('What model is serving'))
  .addSubcommand((sub) => sub.setName('retrain')
    .setDescription('Retrain the model now (needs Manage Server)'))
  .toJSON();

/** A Discord timestamp that each reader sees in their own time zone (`<t:…:f>`). */
export function discordTime(date: Date, style: 'f' | 'R' = 'f'): string {
  return `<t:${Math.floor(date.getTime() / 1000)}:${style}>`;
}

function info(context: CommandContext): Reply {
  const { recommender, servingModel, retrain } = context;
  const meta = recommender.meta;
  const parameters = meta.parameters;
  const number = (value: number) => value.toLocaleString('en-US');
  const trained = new Date(meta.createdAt);

  const fields: APIEmbedField[] = [
    { name: 'Trained', value: Number.isNaN(trained.getTime()) ? meta.createdAt
      : `${discordTime(trained)} (${discordTime(trained, 'R')})`, inline: true },
    { name: 'Serving since', value: discordTime(servingModel.swappedAt, 'R'), inline: true },
    { name: 'Data', value: truncate(safeName(meta.data.source), 200), inline: true },
    { name: 'Artists', value: number(recommender.artistCount), inline: true },
    { name: 'Listeners', value: number(meta.data.users), inline: true },
    { name: 'Listening pairs', value: number(meta.data.nonzeros), inline: true },
    { name: 'Components', value: `${recommender.data.components} (${parameters.weighting} ` +
      'weighting)', inline: true },
    { name: 'Objective', value: `${meta.objective.toPrecision(6)} after ${meta.iterations} ` +
      'iterations', inline: true },
    { name: 'Training time', value: `${meta.trainingSeconds.toFixed(1)} s`, inline: true },
  ];

  if (retrain === undefined) {
    fields.push({ name: 'Retraining', value: 'Not set up in this process.' });
  } else {
    const status = retrain.status();
    fields.push({ name: 'Next retrain', value: status.running ? 'Running now'
      : status.nextRun === undefined ? 'Not scheduled' : discordTime(status.nextRun, 'R'),
    inline: true });
    const last = status.lastRun;
    fields.push({ name: 'Last retrain', value: last === undefined ? 'None since the bot started'
      : `${last.ok ? '✅' : '❌'} ${discordTime(last.finishedAt, 'R')}: ` +
        `${safeName(last.message)}` });
    if (status.lastError !== undefined && last?.ok !== false) {
      fields.push({ name: 'Last error', value: safeName(status.lastError) });
    }
  }

  return {
    embeds: [{
      title: 'Serving model',
      description: 'Non-negative matrix factorization of the artist × listener matrix; ' +
        'similar artists are those with the most alike predicted audiences.',
      color: 0x95a5a6,
      fields,
    }],
  };
}

function retrainNow(context: CommandContext): Reply {
  const { request, retrain } = context;
  if (!request.memberCanManageGuild) {
    return { content: 'Only members with the **Manage Server** permission can start a retrain.',
      ephemeral: true };
  }
  if (retrain === undefined) {
    return { content: 'Retraining is not set up in this process.', ephemeral: true };
  }
  const outcome = retrain.trigger(request.userName);
  context.logger.info({ requestedBy: request.userId, outcome }, 'retrain requested');
  return outcome === 'started'
    ? { content: 'Retraining started. The new model will swap in by itself when it is ready; ' +
      'check progress with `/model info`.' }
    : { content: 'A retrain is already running; `/model info` shows its progress.',
      ephemeral: true };
}

function execute(context: CommandContext): Reply {
  return context.request.subcommand === 'retrain' ? retrainNow(context) : info(context);
}

/** The `/model` command. */
export const modelCommand: BotCommand = { definition, execute };
