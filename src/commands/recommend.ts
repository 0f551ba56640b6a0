/**
 * `/recommend [count]`: personal picks for the member, by folding their taste profile into the
 * NMF model (see src/model/foldIn.ts), excluding artists already in their taste, each with the
 * taste artist that explains it.
 */
import { ComponentType, SlashCommandBuilder } from 'discord.js';
import { artistOption } from '../interactions/artists.ts';
import type { BotCommand, CommandContext } from '../interactions/command.ts';
import { customId } from '../interactions/command.ts';
import type { Reply } from '../interactions/reply.ts';
import { escapeMarkdown, safeName, truncate } from '../interactions/text.ts';
import { artistLink, clampCount, modelFooter, tagLine } from './similar.ts';

const NAME = 'recommend';

/** Picks shown when `count` is not given, and the most allowed. */
export const DEFAULT_RECOMMEND_COUNT = 10;
export const MAX_RECOMMEND_COUNT = 25;

const definition = new SlashCommandBuilder()
  .setName(NAME)
  .setDescription('Artists picked for you from your taste profile')
  .addIntegerOption((option) => option.setName('count')
    .setDescription(`How many (1-${MAX_RECOMMEND_COUNT}, default ${DEFAULT_RECOMMEND_COUNT})`)
    .setMinValue(1).setMaxValue(MAX_RECOMMEND_COUNT))
  .toJSON();

async function execute(context: CommandContext): Promise<Reply> {
  const { recommender, request, storage } = context;
  const count = clampCount(request.options.getInteger('count'), DEFAULT_RECOMMEND_COUNT,
    MAX_RECOMMEND_COUNT);

  const taste = storage.listTaste(request.userId);
  if (taste.length === 0) {
    return {
      content: "I don't know your taste yet. Add a few artists you like with " +
        '`/taste add artist:<name>` (for example `/taste add artist:Radiohead`), then run ' +
        '`/recommend` again.',
      ephemeral: true,
    };
  }
  const known = taste.filter((entry) => recommender.artistByKey(entry.artistKey) !== undefined);
  if (known.length === 0) {
    return {
      content: `None of the ${taste.length} artists in your taste are in the current model yet ` +
        '(it learns them at the next retrain). Add an artist the autocomplete offers to get ' +
        'picks now.',
      ephemeral: true,
    };
  }

  // Fold-in is a small solve, but a big model on a busy machine should not miss Discord's 3 s.
  await context.defer();
  const picks = recommender.recommend(
    known.map((entry) => ({ artistKey: entry.artistKey, weight: entry.weight })), count);
  if (picks.length === 0) {
    return { content: 'I found nothing new to recommend from your taste. Try adding a few ' +
      'different artists with `/taste add`.' };
  }

  const lines = picks.map((pick, index) => `**${index + 1}.** ${artistLink(pick.artist)} · ` +
    `because you like **${safeName(pick.because.name)}**${tagLine(pick.artist)}`);
  const plural = known.length === 1 ? 'artist' : 'artists';
  return {
    embeds: [{
      title: truncate(`Picks for ${escapeMarkdown(request.userName)}`, 256),
      description: lines.join('\n'),
      color: 0xe91e63,
      footer: {
        text: `From ${known.length} ${plural} in your taste · ${modelFooter(recommender)}`,
      },
    }],
    components: [{
      type: ComponentType.ActionRow,
      components: [{
        type: ComponentType.StringSelect,
        custom_id: customId('similar', 'show', 10),
        placeholder: 'Explore artists similar to…',
        options: picks.map((pick) => artistOption(pick.artist)),
      }],
    }],
  };
}

/** The `/recommend` command. */
export const recommendCommand: BotCommand = { definition, execute };
