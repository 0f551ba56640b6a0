/**
 * `/similar artist:<name> [count]`: the artists closest to one artist in the NMF similarity
 * embedding, with a button to add the artist to the member's taste and a menu to hop to any
 * result's own neighbours in place.
 */
import { ButtonStyle, ComponentType, SlashCommandBuilder } from 'discord.js';
import type { Recommender } from '../model/recommender.ts';
import type { ModelArtist } from '../model/types.ts';
import {
  artistChoices, artistOption, artistReference, cleanQuery, findByReference, lookupArtist,
  notFoundReply,
} from '../interactions/artists.ts';
import type { BotCommand, CommandContext, ComponentTarget } from '../interactions/command.ts';
import { customId } from '../interactions/command.ts';
import type { Reply } from '../interactions/reply.ts';
import { bar, escapeMarkdown, safeName, truncate } from '../interactions/text.ts';
import { addToTaste, DEFAULT_WEIGHT } from './taste.ts';

const NAME = 'similar';

/** Results shown when `count` is not given, and the allowed range. */
export const DEFAULT_SIMILAR_COUNT = 10;
export const MAX_SIMILAR_COUNT = 25;

const definition = new SlashCommandBuilder()
  .setName(NAME)
  .setDescription('Artists that sound like the one you name')
  .addStringOption((option) => option.setName('artist').setDescription('An artist')
    .setRequired(true).setAutocomplete(true).setMaxLength(200))
  .addIntegerOption((option) => option.setName('count')
    .setDescription(`How many (1-${MAX_SIMILAR_COUNT}, default ${DEFAULT_SIMILAR_COUNT})`)
    .setMinValue(1).setMaxValue(MAX_SIMILAR_COUNT))
  .toJSON();

/** Clamps a requested count to 1..25; absent or invalid means the default. */
export function clampCount(count: number | null, fallback: number, max: number): number {
  if (count === null || !Number.isFinite(count)) return fallback;
  return Math.min(max, Math.max(1, Math.trunc(count)));
}

/** A short model footer: when it was trained and how big it is. */
export function modelFooter(recommender: Recommender): string {
  const trained = recommender.meta.createdAt.slice(0, 10);
  return `NMF model trained ${trained} · ${recommender.artistCount.toLocaleString('en-US')} ` +
    `artists · ${recommender.data.components} components`;
}

/** The line under a result: its top tags, when it has any. */
export function tagLine(artist: ModelArtist): string {
  const tags = artist.tags.slice(0, 3).map((tag) => safeName(tag)).filter((tag) => tag.length > 0);
  return tags.length === 0 ? '' : `\n   ${truncate(tags.join(' · '), 80)}`;
}

/** A linked, escaped artist name. */
export function artistLink(artist: ModelArtist): string {
  const name = `**${safeName(artist.name)}**`;
  return artist.url !== null && /^https?:\/\/\S+$/.test(artist.url) && !artist.url.includes(')')
    ? `[${name}](${artist.url})`
    : name;
}

/** The public reply listing artists similar to `artist`. O(artists x components). */
export function similarReply(recommender: Recommender, artist: ModelArtist, count: number): Reply {
  const results = recommender.similarArtists(artist, count);
  if (results.length === 0) {
    return { content: `I have no neighbours for **${safeName(artist.name)}** yet.` };
  }

  const lines = results.map((result, index) => {
    const percent = Math.round(Math.min(1, Math.max(0, result.similarity)) * 100);
    return `**${index + 1}.** ${artistLink(result.artist)} \`${bar(result.similarity)}\` ` +
      `${percent}%${tagLine(result.artist)}`;
  });

  return {
    embeds: [{
      title: truncate(`Artists similar to ${escapeMarkdown(artist.name)}`, 256),
      ...(artist.url !== null && /^https?:\/\//.test(artist.url) ? { url: artist.url } : {}),
      description: lines.join('\n'),
      color: 0x1db954,
      footer: { text: modelFooter(recommender) },
    }],
    components: [
      {
        type: ComponentType.ActionRow,
        components: [{
          type: ComponentType.Button,
          style: ButtonStyle.Success,
          custom_id: customId(NAME, 'add', artistReference(artist, 85)),
          label: truncate(`Add ${artist.name} to my taste`, 80),
        }],
      },
      {
        type: ComponentType.ActionRow,
        components: [{
          type: ComponentType.StringSelect,
          custom_id: customId(NAME, 'pick', count),
          placeholder: 'Explore artists similar to…',
          options: results.map((result) => artistOption(result.artist)),
        }],
      },
    ],
  };
}

async function execute(context: CommandContext): Promise<Reply> {
  const { recommender, request } = context;
  const query = cleanQuery(request.options.getString('artist'));
  const count = clampCount(request.options.getInteger('count'), DEFAULT_SIMILAR_COUNT,
    MAX_SIMILAR_COUNT);

  const found = lookupArtist(recommender, query);
  context.logArtistRequest(NAME, found.artist, query);
  if (found.artist === undefined) {
    return notFoundReply(query, found.suggestions, customId(NAME, 'pick', count),
      recommender.artistCount);
  }
  return similarReply(recommender, found.artist, count);
}

function handleComponent(context: CommandContext, target: ComponentTarget): Reply {
  const { recommender, request } = context;

  // `pick`: a result (or a did-you-mean suggestion) chosen from a menu; answered in place.
  // `show`: the same from another command's message (e.g. /recommend); answered anew.
  if (target.action === 'pick' || target.action === 'show') {
    const reference = target.values[0] ?? '';
    const artist = findByReference(recommender, reference);
    context.logArtistRequest(NAME, artist, reference);
    if (artist === undefined) {
      return { content: 'That artist is not in the current model any more.', ephemeral: true };
    }
    const count = clampCount(Number(target.args[0]), DEFAULT_SIMILAR_COUNT, MAX_SIMILAR_COUNT);
    const reply = similarReply(recommender, artist, count);
    return target.action === 'pick' ? { ...reply, update: true } : reply;
  }

  if (target.action === 'add') {
    const reference = target.args.join(':');
    const artist = findByReference(recommender, reference);
    context.logArtistRequest('taste add', artist, reference);
    if (artist === undefined) {
      return { content: 'That artist is not in the current model any more.', ephemeral: true };
    }
    const existing = context.storage.listTaste(request.userId)
      .find((entry) => entry.artistKey === artist.key);
    if (existing !== undefined) {
      return {
        content: `**${safeName(artist.name)}** is already in your taste (weight ` +
          `${existing.weight}). Change it with \`/taste add weight:\`.`,
        ephemeral: true,
      };
    }
    return addToTaste(context, artist, DEFAULT_WEIGHT);
  }

  return { content: 'That button has expired.', ephemeral: true };
}

/** The `/similar` command. */
export const similarCommand: BotCommand = {
  definition,
  execute,
  autocomplete: (context) => artistChoices(context.recommender,
    context.request.options.getFocused()?.value ?? ''),
  handleComponent,
};
