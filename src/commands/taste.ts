/**
 * `/taste add|remove|list|clear`: the member's taste profile, the artists `/recommend` folds in.
 * Tastes belong to a Discord user across servers. Weights are whole numbers 1..100 (default 1):
 * a relative "how much", fed to fold-in as listening counts, so 10 weighs ten times 1.
 */
import { ButtonStyle, ComponentType, SlashCommandBuilder } from 'discord.js';
import type { ModelArtist } from '../model/types.ts';
import { lookupKey } from '../model/lookupKey.ts';
import { artistChoices, cleanQuery, findByReference, lookupArtist, notFoundReply }
  from '../interactions/artists.ts';
import type { BotCommand, CommandContext, ComponentTarget } from '../interactions/command.ts';
import { customId } from '../interactions/command.ts';
import type { AutocompleteChoice, Reply } from '../interactions/reply.ts';
import { confirmationReply } from '../interactions/reply.ts';
import { escapeMarkdown, safeName, truncate } from '../interactions/text.ts';

const NAME = 'taste';

/** Weight bounds and default. */
export const MIN_WEIGHT = 1;
export const MAX_WEIGHT = 100;
export const DEFAULT_WEIGHT = 1;
/** Most artists one member may keep, so one profile cannot dominate retraining. */
export const MAX_TASTE_ARTISTS = 500;
/** Artists per page of `/taste list`. */
export const TASTE_PAGE_SIZE = 15;

const definition = new SlashCommandBuilder()
  .setName(NAME)
  .setDescription('Your taste profile: the artists /recommend works from')
  .addSubcommand((sub) => sub.setName('add').setDescription('Add an artist (or change its weight)')
    .addStringOption((option) => option.setName('artist').setDescription('An artist you like')
      .setRequired(true).setAutocomplete(true).setMaxLength(200))
    .addIntegerOption((option) => option.setName('weight')
      .setDescription(
        `How much you like it, ${MIN_WEIGHT}-${MAX_WEIGHT} (default ${DEFAULT_WEIGHT})`)
      .setMinValue(MIN_WEIGHT).setMaxValue(MAX_WEIGHT)))
  .addSubcommand((sub) => sub.setName('remove').setDescription('Remove an artist')
    .addStringOption((option) => option.setName('artist').setDescription('An artist in your taste')
      .setRequired(true).setAutocomplete(true).setMaxLength(200)))
  .addSubcommand((sub) => sub.setName('list').setDescription("Show your taste, or another member's")
    .addUserOption((option) => option.setName('member')
      .setDescription('Whose taste (default: yours)')))
  .addSubcommand((sub) => sub.setName('clear')
    .setDescription('Remove every artist from your taste'))
  .toJSON();

/**
 * Adds `artist` to the asking member's taste with `weight` (or updates its weight) and says
 * which happened. Used by `/taste add` and by the "Add to my taste" button of `/similar`.
 */
export function addToTaste(context: CommandContext, artist: ModelArtist, weight: number): Reply {
  const { storage, request } = context;
  const taste = storage.listTaste(request.userId);
  const existing = taste.find((entry) => entry.artistKey === artist.key);
  const name = `**${safeName(artist.name)}**`;

  if (existing === undefined && taste.length >= MAX_TASTE_ARTISTS) {
    return {
      content: `Your taste already holds ${MAX_TASTE_ARTISTS} artists, the most I keep. ` +
        'Remove some with `/taste remove` first.',
      ephemeral: true,
    };
  }

  storage.addTaste(request.userId, { key: artist.key, name: artist.name }, weight);
  if (existing !== undefined) {
    const change = existing.weight === weight
      ? `it stays at weight ${weight}`
      : `weight ${existing.weight} → ${weight}`;
    return { content: `${name} was already in your taste: ${change}.`, ephemeral: true };
  }
  const total = taste.length + 1;
  const plural = total === 1 ? 'artist' : 'artists';
  return {
    content: `Added ${name} to your taste (weight ${weight}). You now have ${total} ${plural}: ` +
      'try `/recommend`.',
    ephemeral: true,
  };
}

function add(context: CommandContext): Reply {
  const { recommender, request } = context;
  const query = cleanQuery(request.options.getString('artist'));
  const given = request.options.getInteger('weight');
  if (given !== null && (given < MIN_WEIGHT || given > MAX_WEIGHT)) {
    return { content: `The weight must be a whole number from ${MIN_WEIGHT} to ${MAX_WEIGHT}.`,
      ephemeral: true };
  }
  const weight = given ?? DEFAULT_WEIGHT;

  const found = lookupArtist(recommender, query);
  context.logArtistRequest('taste add', found.artist, query);
  if (found.artist === undefined) {
    return notFoundReply(query, found.suggestions, customId(NAME, 'add', weight),
      recommender.artistCount);
  }
  return addToTaste(context, found.artist, weight);
}

function remove(context: CommandContext): Reply {
  const { recommender, request, storage } = context;
  const query = cleanQuery(request.options.getString('artist'));
  if (query.length === 0) {
    return { content: 'Please name the artist to remove.', ephemeral: true };
  }

  // The member's own entries first (they may name an artist the model no longer has).
  const taste = storage.listTaste(request.userId);
  const referenced = findByReference(recommender, query);
  const keys = [lookupKey(query), referenced?.key].filter((key) => key !== undefined);
  let entry = taste.find((candidate) => keys.includes(candidate.artistKey));
  let artist: ModelArtist | undefined = referenced;
  if (entry === undefined) {
    const found = lookupArtist(recommender, query);
    artist = found.artist;
    entry = taste.find((candidate) => candidate.artistKey === found.artist?.key);
  }
  const named = artist ?? recommender.artistByKey(entry?.artistKey ?? '');
  context.logArtistRequest('taste remove', named, query);

  if (entry === undefined || !storage.removeTaste(request.userId, entry.artistKey)) {
    return { content: `**${safeName(truncate(query, 100))}** isn't in your taste. ` +
      'See what is with `/taste list`.', ephemeral: true };
  }
  const left = taste.length - 1;
  return { content: `Removed **${safeName(entry.artistName)}** from your taste ` +
    `(${left} ${left === 1 ? 'artist' : 'artists'} left).`, ephemeral: true };
}

/** One page of a member's taste as an embed with previous/next buttons. O(taste size). */
export function tastePage(context: CommandContext, owner: { id: string; name: string },
  page: number): Reply {
  const taste = context.storage.listTaste(owner.id);
  const isSelf = owner.id === context.request.userId;
  if (taste.length === 0) {
    return {
      content: isSelf
        ? 'Your taste is empty. Start with `/taste add artist:<name>`, then try `/recommend`.'
        : `**${safeName(owner.name)}** has no artists in their taste yet.`,
      ...(isSelf ? { ephemeral: true } : {}),
    };
  }

  const pages = Math.ceil(taste.length / TASTE_PAGE_SIZE);
  const current = Math.min(pages - 1, Math.max(0, Number.isInteger(page) ? page : 0));
  const start = current * TASTE_PAGE_SIZE;
  const lines = taste.slice(start, start + TASTE_PAGE_SIZE).map((entry, index) => {
    const known = context.recommender.artistByKey(entry.artistKey) !== undefined;
    return `**${start + index + 1}.** ${safeName(entry.artistName)} · weight ${entry.weight}` +
      (known ? '' : ' · *not in the current model*');
  });

  // Custom ids carry the owner's id, the page to show and, in what room is left, their name.
  const nameRoom = 100 - customId(NAME, 'page', owner.id, 999, '').length;
  const ownerName = truncate(owner.name.replace(/:/g, ' '), nameRoom);
  const button = (label: string, target: number, disabled: boolean) => ({
    type: ComponentType.Button as const,
    style: ButtonStyle.Secondary as const,
    custom_id: customId(NAME, label === '◀ Previous' ? 'prev' : 'next', owner.id, target,
      ownerName),
    label,
    disabled,
  });

  const total = taste.reduce((sum, entry) => sum + entry.weight, 0);
  return {
    embeds: [{
      title: truncate(isSelf ? 'Your taste' : `Taste of ${escapeMarkdown(owner.name)}`, 256),
      description: lines.join('\n'),
      color: 0x5865f2,
      footer: { text: `Page ${current + 1}/${pages} · ${taste.length} artists · total weight ` +
        `${total}` },
    }],
    ...(pages > 1 ? {
      components: [{
        type: ComponentType.ActionRow,
        components: [
          button('◀ Previous', current - 1, current === 0),
          button('Next ▶', current + 1, current === pages - 1),
        ],
      }],
    } : {}),
  };
}

function list(context: CommandContext): Reply {
  const { request } = context;
  const member = request.options.getUser('member');
  const owner = member ?? { id: request.userId, name: request.userName };
  return tastePage(context, owner, 0);
}

function clear(context: CommandContext): Reply {
  const { request, storage } = context;
  const count = storage.listTaste(request.userId).length;
  if (count === 0) return { content: 'Your taste is already empty.', ephemeral: true };
  return confirmationReply(
    `This removes all ${count} ${count === 1 ? 'artist' : 'artists'} from your taste. ` +
      'Are you sure?',
    { customId: customId(NAME, 'clear', request.userId), label: 'Yes, clear my taste' },
    { customId: customId(NAME, 'keep', request.userId), label: 'Keep it' },
  );
}

function execute(context: CommandContext): Reply {
  switch (context.request.subcommand) {
    case 'add': return add(context);
    case 'remove': return remove(context);
    case 'list': return list(context);
    case 'clear': return clear(context);
    default:
      return { content: 'Use `/taste add`, `/taste remove`, `/taste list` or `/taste clear`.',
        ephemeral: true };
  }
}

function handleComponent(context: CommandContext, target: ComponentTarget): Reply {
  const { request, storage, recommender } = context;
  const [ownerId = '', ...rest] = target.args;

  if (target.action === 'prev' || target.action === 'next') {
    const [page = '0', ...nameParts] = rest;
    const name = nameParts.join(':') || ownerId;
    return { ...tastePage(context, { id: ownerId, name }, Number(page)), update: true };
  }

  if (target.action === 'clear' || target.action === 'keep') {
    if (ownerId !== request.userId) {
      return { content: 'Only the member who asked can answer this.', ephemeral: true };
    }
    if (target.action === 'keep') {
      return { content: 'Kept your taste as it is.', components: [], update: true };
    }
    const removed = storage.clearTaste(request.userId);
    return { content: `Cleared your taste: ${removed} ${removed === 1 ? 'artist' : 'artists'} ` +
      'removed.', components: [], update: true };
  }

  // A did-you-mean suggestion picked for `/taste add`; `ownerId` holds the weight here.
  if (target.action === 'add') {
    const reference = target.values[0] ?? '';
    const artist = findByReference(recommender, reference);
    context.logArtistRequest('taste add', artist, reference);
    if (artist === undefined) {
      return { content: 'That artist is not in the current model any more.', ephemeral: true };
    }
    const weight = Math.min(MAX_WEIGHT, Math.max(MIN_WEIGHT, Number(ownerId) || DEFAULT_WEIGHT));
    return { ...addToTaste(context, artist, weight), components: [], update: true };
  }

  return { content: 'That button has expired.', ephemeral: true };
}

function autocomplete(context: CommandContext): AutocompleteChoice[] {
  const { request, storage, recommender } = context;
  const typed = request.options.getFocused()?.value ?? '';
  if (request.subcommand !== 'remove') return artistChoices(recommender, typed);

  // Removing: the member's own artists that contain what they typed, heaviest first.
  const key = lookupKey(cleanQuery(typed));
  return storage.listTaste(request.userId)
    .filter((entry) => key.length === 0 || entry.artistKey.includes(key))
    .sort((a, b) => b.weight - a.weight)
    .slice(0, 25)
    .map((entry) => ({ name: entry.artistName, value: entry.artistName.length <= 100
      ? entry.artistName : entry.artistKey }));
}

/** The `/taste` command. */
export const tasteCommand: BotCommand = { definition, execute, autocomplete, handleComponent };
