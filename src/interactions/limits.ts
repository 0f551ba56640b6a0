/**
 * Discord's message limits, and the one helper that makes every reply fit them. Handlers build
 * replies freely; the dispatcher passes each through `clampReply` before any transport sees it.
 */
import type { APIEmbed } from 'discord.js';
import { ComponentType } from 'discord.js';
import type { AutocompleteChoice, Reply, ReplyActionRow, ReplyButton, ReplySelectMenu }
  from './reply.ts';
import { neutraliseMentions, truncate } from './text.ts';

/** Limits from Discord's API documentation (UTF-16 units, which never undercount). */
export const LIMITS = {
  content: 2000,
  embeds: 10,
  embedTitle: 256,
  embedDescription: 4096,
  embedFields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  authorName: 256,
  embedTotal: 6000,
  actionRows: 5,
  buttonsPerRow: 5,
  buttonLabel: 80,
  customId: 100,
  selectOptions: 25,
  selectOptionText: 100,
  selectPlaceholder: 150,
  choices: 25,
  choiceText: 100,
} as const;

/** Total characters Discord counts towards the 6000 per-message embed budget. */
export function embedLength(embed: APIEmbed): number {
  let total = (embed.title?.length ?? 0) + (embed.description?.length ?? 0);
  total += (embed.footer?.text.length ?? 0) + (embed.author?.name.length ?? 0);
  for (const field of embed.fields ?? []) total += field.name.length + field.value.length;
  return total;
}

function clampEmbed(embed: APIEmbed, budget: number): APIEmbed {
  const clamped: APIEmbed = { ...embed };

  // Each part within its own limit first.
  if (clamped.title !== undefined) clamped.title = truncate(clamped.title, LIMITS.embedTitle);
  if (clamped.description !== undefined) {
    clamped.description = truncate(neutraliseMentions(clamped.description),
      LIMITS.embedDescription);
  }
  if (clamped.footer !== undefined) {
    clamped.footer = { ...clamped.footer, text: truncate(clamped.footer.text, LIMITS.footer) };
  }
  if (clamped.author !== undefined) {
    clamped.author = { ...clamped.author, name: truncate(clamped.author.name, LIMITS.authorName) };
  }
  if (clamped.fields !== undefined) {
    clamped.fields = clamped.fields.slice(0, LIMITS.embedFields).map((field) => ({
      ...field,
      name: truncate(field.name, LIMITS.fieldName) || '\u200b',
      value: truncate(neutraliseMentions(field.value), LIMITS.fieldValue) || '\u200b',
    }));
  }
  if (clamped.url !== undefined && !/^https?:\/\//.test(clamped.url)) delete clamped.url;

  // Then the shared budget: shorten the description, then drop fields from the end, then cut
  // the title and footer.
  let excess = embedLength(clamped) - budget;
  if (excess > 0 && clamped.description !== undefined) {
    const keep = Math.max(0, clamped.description.length - excess);
    clamped.description = truncate(clamped.description, keep);
    if (clamped.description.length === 0) delete clamped.description;
    excess = embedLength(clamped) - budget;
  }
  while (excess > 0 && clamped.fields !== undefined && clamped.fields.length > 0) {
    clamped.fields = clamped.fields.slice(0, -1);
    excess = embedLength(clamped) - budget;
  }
  if (excess > 0 && clamped.footer !== undefined) {
    clamped.footer = { ...clamped.footer, text: truncate(clamped.footer.text, 0) };
    if (clamped.footer.text.length === 0) delete clamped.footer;
    excess = embedLength(clamped) - budget;
  }
  if (excess > 0 && clamped.author !== undefined) {
    delete clamped.author;
    excess = embedLength(clamped) - budget;
  }
  if (excess > 0 && clamped.title !== undefined) {
    clamped.title = truncate(clamped.title, Math.max(0, clamped.title.length - excess));
    if (clamped.title.length === 0) delete clamped.title;
  }
  return clamped;
}

function clampRow(row: ReplyActionRow): ReplyActionRow | undefined {
  const [first] = row.components;
  if (first === undefined) return undefined;
  if (first.type === ComponentType.StringSelect) {
    const menu: ReplySelectMenu = first;
    const options = menu.options.slice(0, LIMITS.selectOptions).map((option) => ({
      ...option,
      label: truncate(option.label, LIMITS.selectOptionText) || '\u200b',
      value: option.value.slice(0, LIMITS.selectOptionText),
      ...(option.description === undefined
        ? {}
        : { description: truncate(option.description, LIMITS.selectOptionText) }),
    }));
    if (options.length === 0) return undefined;
    const unique = options.filter(
      (option, index) => options.findIndex((other) => other.value === option.value) === index,
    );
    return {
      ...row,
      components: [
        {
          ...menu,
          custom_id: menu.custom_id.slice(0, LIMITS.customId),
          options: unique,
          ...(menu.placeholder === undefined
            ? {}
            : { placeholder: truncate(menu.placeholder, LIMITS.selectPlaceholder) }),
        },
      ],
    };
  }
  const buttons = (row.components as ReplyButton[])
    .slice(0, LIMITS.buttonsPerRow)
    .map((button) => ({
      ...button,
      label: truncate(button.label, LIMITS.buttonLabel) || '\u200b',
      custom_id: button.custom_id.slice(0, LIMITS.customId),
    }));
  return { ...row, components: buttons };
}

/**
 * Returns a copy of `reply` that fits every Discord limit: content 2000, 10 embeds sharing 6000
 * characters with each part within its own limit, 5 rows of 5 buttons or one select menu of 25
 * options, labels and custom ids cut to size; mentions in content and embed text neutralised.
 * O(size of the reply).
 */
export function clampReply(reply: Reply): Reply {
  const clamped: Reply = { ...reply };

  if (clamped.content !== undefined) {
    clamped.content = truncate(neutraliseMentions(clamped.content), LIMITS.content);
  }

  if (clamped.embeds !== undefined) {
    // Embeds share one budget: later ones get what earlier ones left, or are dropped.
    let budget: number = LIMITS.embedTotal;
    const fittedEmbeds: APIEmbed[] = [];
    for (const embed of clamped.embeds.slice(0, LIMITS.embeds)) {
      const fitted = clampEmbed(embed, budget);
      const length = embedLength(fitted);
      if (length > budget || (length === 0 && embedLength(embed) > 0)) break;
      fittedEmbeds.push(fitted);
      budget -= length;
    }
    clamped.embeds = fittedEmbeds;
  }

  if (clamped.components !== undefined) {
    clamped.components = clamped.components
      .slice(0, LIMITS.actionRows)
      .map(clampRow)
      .filter((row): row is ReplyActionRow => row !== undefined);
  }

  const empty =
    (clamped.content === undefined || clamped.content.length === 0) &&
    (clamped.embeds === undefined || clamped.embeds.length === 0);
  if (empty) clamped.content = '\u200b';
  return clamped;
}

/** At most 25 choices, names 1..100 characters, values at most 100; drops duplicates. O(n). */
export function clampChoices(choices: AutocompleteChoice[]): AutocompleteChoice[] {
  const seen = new Set<string>();
  const result: AutocompleteChoice[] = [];
  for (const choice of choices) {
    const value = choice.value.slice(0, LIMITS.choiceText);
    const name = truncate(choice.name, LIMITS.choiceText);
    if (name.length === 0 || value.length === 0 || seen.has(value)) continue;
    seen.add(value);
    result.push({ name, value });
    if (result.length === LIMITS.choices) break;
  }
  return result;
}
