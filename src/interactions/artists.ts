/**
 * Turning what a member typed into a model artist, and back into short references that fit a
 * Discord custom id or select-menu value (100 characters).
 */
import { ComponentType } from 'discord.js';
import type { Recommender } from '../model/recommender.ts';
import type { ModelArtist } from '../model/types.ts';
import { LIMITS } from './limits.ts';
import type { AutocompleteChoice, Reply, ReplySelectOption } from './reply.ts';
import { safeName, truncate } from './text.ts';

/** Longest query passed to fuzzy matching; longer input is cut (no artist name is this long). */
export const MAX_QUERY_LENGTH = 200;

const ID_REFERENCE = /^#(\d+)$/;

/**
 * A short reference to `artist` for custom ids and select values: its lookup key when that fits
 * in `room` characters (keys survive retraining), else `#<id>`. O(1).
 */
export function artistReference(artist: ModelArtist, room: number = LIMITS.choiceText): string {
  return artist.key.length > 0 && artist.key.length <= room && !artist.key.includes(':')
    ? artist.key
    : `#${artist.id}`;
}

/** The artist a reference names in the serving model, or undefined. O(1). */
export function findByReference(recommender: Recommender, reference: string)
  : ModelArtist | undefined {
  const idMatch = ID_REFERENCE.exec(reference);
  if (idMatch !== null) {
    const artist = recommender.artistById(Number(idMatch[1]));
    if (artist !== undefined) return artist;
  }
  return recommender.artistByKey(reference);
}

/** Trims and cuts what a member typed so fuzzy matching stays fast on hostile input. O(length). */
export function cleanQuery(text: string | null): string {
  return (text ?? '').replace(/[\u200b-\u200f\u2060\ufeff]/g, '').trim().slice(0, MAX_QUERY_LENGTH);
}

/** The outcome of resolving a typed name. */
export type ArtistLookup =
  | { artist: ModelArtist }
  | { artist: undefined; suggestions: ModelArtist[] };

/**
 * Resolves a typed name or an autocomplete value (name, key or `#id`) against the model.
 * Cost: that of `Recommender.resolve` (fuzzy search) unless the reference matches exactly.
 */
export function lookupArtist(recommender: Recommender, query: string): ArtistLookup {
  if (query.length === 0) return { artist: undefined, suggestions: [] };
  const exact = ID_REFERENCE.test(query) ? findByReference(recommender, query) : undefined;
  if (exact !== undefined) return { artist: exact };
  return recommender.resolve(query);
}

/** Autocomplete answers kept per model (about 2.5 KB each), least recently used out first. */
export const CHOICE_CACHE_SIZE = 1024;

/** Per model, what was typed -> its choices. A swapped-out model takes its answers with it. */
const choiceCaches = new WeakMap<Recommender, Map<string, readonly AutocompleteChoice[]>>();

/**
 * Autocomplete choices for an artist option: name shown, reference as value. Members type the
 * same first letters again and again (Discord asks on every keystroke), so the answers of the
 * last CHOICE_CACHE_SIZE texts are kept for each model: exact, since a model never changes.
 * O(search), O(1) for a text asked recently; the caller gets its own array.
 */
export function artistChoices(recommender: Recommender, typed: string): AutocompleteChoice[] {
  const query = cleanQuery(typed);
  let cache = choiceCaches.get(recommender);
  if (cache === undefined) {
    cache = new Map();
    choiceCaches.set(recommender, cache);
  }

  let choices = cache.get(query);
  if (choices === undefined) {
    choices = recommender.autocomplete(query, LIMITS.choices).map((artist) => Object.freeze({
      name: truncate(artist.name, LIMITS.choiceText),
      // The name itself when it fits and cannot be mistaken for an `#id` reference.
      value: artist.name.length <= LIMITS.choiceText && !ID_REFERENCE.test(artist.name)
        ? artist.name
        : artistReference(artist),
    }));
    if (cache.size >= CHOICE_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  } else {
    cache.delete(query);
  }
  cache.set(query, choices);
  return [...choices];
}

/** One select-menu option for an artist: name, top tags as description. */
export function artistOption(artist: ModelArtist): ReplySelectOption {
  const tags = artist.tags.slice(0, 3).join(' · ');
  return {
    label: truncate(artist.name, LIMITS.selectOptionText),
    value: artistReference(artist),
    ...(tags.length > 0 ? { description: truncate(tags, LIMITS.selectOptionText) } : {}),
  };
}

/**
 * The private "not found" reply: the typed name echoed safely, with the suggestions in a select
 * menu whose custom id is `pickCustomId` (choosing one continues the command for it).
 */
export function notFoundReply(query: string, suggestions: ModelArtist[], pickCustomId: string,
  artistCount: number): Reply {
  const typed = query.length === 0 ? 'nothing' : `**${safeName(truncate(query, 100))}**`;
  if (query.length === 0) {
    return { content: 'Please give an artist name, for example `artist:Radiohead`.',
      ephemeral: true };
  }
  if (suggestions.length === 0) {
    return {
      content: `I couldn't find ${typed} among the ${artistCount.toLocaleString('en-US')} ` +
        'artists I know. Check the spelling, or pick a name from the autocomplete list.',
      ephemeral: true,
    };
  }
  const names = suggestions.slice(0, 5).map((artist) => `**${safeName(artist.name)}**`);
  return {
    content: `I couldn't find ${typed}. Did you mean ${names.join(', ')}? Pick one below.`,
    components: [{
      type: ComponentType.ActionRow,
      components: [{
        type: ComponentType.StringSelect,
        custom_id: pickCustomId,
        placeholder: 'Did you mean…',
        options: suggestions.slice(0, LIMITS.selectOptions).map(artistOption),
      }],
    }],
    ephemeral: true,
  };
}
