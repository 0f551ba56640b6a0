/**
 * Text safety for anything a member or a dataset wrote: markdown escaping, mention
 * neutralisation, and length clamping that never splits a UTF-16 surrogate pair.
 */

const MARKDOWN = /[\\*_~`|<>#[\]()-]/g;
const MENTION = /@(everyone|here)|<@/g;
const ZERO_WIDTH_JOINER = '\u200d';
const ELLIPSIS = '…';

/**
 * Escapes Discord markdown in a name (also `[text](url)` masked links and `<...>` syntax) and
 * folds line breaks and runs of whitespace into one space. O(length).
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/\s+/g, ' ').trim().replace(MARKDOWN, (character) => `\\${character}`);
}

/** Undoes `escapeMarkdown` for plain-text rendering (the console). O(length). */
export function unescapeMarkdown(text: string): string {
  return text.replace(/\\([\\*_~`|<>#[\]()-])/g, '$1');
}

/**
 * Breaks `@everyone`, `@here` and `<@id>` / `<@&id>` with a zero-width joiner so they cannot ping
 * even if `allowedMentions` were lost. A second line of defence only. O(length).
 */
export function neutraliseMentions(text: string): string {
  return text.replace(MENTION, (mention) =>
    mention === '<@' ? `<${ZERO_WIDTH_JOINER}@` : `@${ZERO_WIDTH_JOINER}${mention.slice(1)}`,
  );
}

/** A member- or dataset-supplied name, safe to put in markdown. */
export function safeName(name: string): string {
  return neutraliseMentions(escapeMarkdown(name));
}

/**
 * Cuts `text` to at most `max` UTF-16 units, ending with `…` when cut, never leaving half of a
 * surrogate pair or a dangling escape backslash. O(max).
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  let cut = text.slice(0, max - 1);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  const trailingBackslashes = /\\+$/.exec(cut)?.[0].length ?? 0;
  if (trailingBackslashes % 2 === 1) cut = cut.slice(0, -1);
  return cut + ELLIPSIS;
}

/** A text bar of `width` cells for a value in 0..1: `██████░░░░`. */
export function bar(fraction: number, width = 10): string {
  const clamped = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const filled = Math.round(clamped * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}
