/**
 * The console transport: the bot on a terminal (or on piped stdin, one command a line), with no
 * Discord at all. Lines are parsed against the same command JSON Discord registers:
 * `/similar artist:Drake count:5`, `/taste add artist:"Sigur Rós" weight:3` (quotes optional,
 * a value runs to the next `option:`), `/taste list`, `/recommend`, `/model`, `/forget-me`.
 * Replies are rendered as text; buttons and menu entries become numbered actions (`!1`, `!2`…).
 */
import { userInfo } from 'node:os';
import { createInterface } from 'node:readline';
import { ApplicationCommandOptionType, ButtonStyle, ComponentType } from 'discord.js';
import type { APIApplicationCommandOption, APIEmbed } from 'discord.js';
import { commandUsages, usageOf } from '../commands/help.ts';
import type { BotCommand } from '../interactions/command.ts';
import type { Dispatcher } from '../interactions/dispatcher.ts';
import type { Reply } from '../interactions/reply.ts';
import type { InteractionRequest, UserOption } from '../interactions/request.ts';
import { recordOptions } from '../interactions/request.ts';

/** Who is typing: the console plays one member with every permission. */
export interface ConsoleUser {
  id: string;
  name: string;
}

/** A numbered action: a button, or one entry of a select menu. */
export interface ConsoleAction {
  label: string;
  customId: string;
  values?: string[];
}

/** The text of a reply and the actions it offers. */
export interface RenderedReply {
  text: string;
  actions: ConsoleAction[];
}

type ParsedLine =
  | { ok: true; request: InteractionRequest }
  | { ok: false; message: string };

function tokenize(line: string): string[] {
  const tokens: string[] = [];
  let current = '';
  let quote: string | null = null;
  let started = false;
  for (const character of line) {
    if (quote !== null) {
      if (character === quote) quote = null;
      else current += character;
    } else if (character === '"' || character === '“' || character === '”') {
      quote = character === '“' ? '”' : '"';
      started = true;
    } else if (/\s/.test(character)) {
      if (started || current.length > 0) tokens.push(current);
      current = '';
      started = false;
    } else {
      current += character;
    }
  }
  if (started || current.length > 0) tokens.push(current);
  return tokens;
}

/**
 * Parses one console line against the command definitions into a command request, or says
 * what is wrong with it. O(line length).
 */
export function parseCommandLine(line: string, commands: BotCommand[], user: ConsoleUser)
  : ParsedLine {
  const [head = '', ...rest] = tokenize(line.trim());
  const name = head.replace(/^\//, '').toLowerCase();
  const command = commands.find((candidate) => candidate.definition.name === name);
  if (command === undefined) {
    return { ok: false, message: `Unknown command "${head}". Type /help for the list.` };
  }

  // Subcommand: named first, else the first one that needs no options (`/model` = info).
  const definitionOptions = command.definition.options ?? [];
  const subcommands = definitionOptions.filter(
    (option) => option.type === ApplicationCommandOptionType.Subcommand);
  let subcommand: string | undefined;
  let options: APIApplicationCommandOption[] = definitionOptions;
  let tokens = rest;
  if (subcommands.length > 0) {
    const named = subcommands.find((sub) => sub.name === tokens[0]?.toLowerCase());
    const chosen = named ?? subcommands.find((sub) =>
      (sub.options ?? []).every((option) => !('required' in option && option.required === true)));
    if (chosen === undefined || (named === undefined && tokens.length > 0)) {
      const names = subcommands.map((sub) => sub.name).join(', ');
      return { ok: false, message: `/${name} needs one of: ${names}.` };
    }
    if (named !== undefined) tokens = tokens.slice(1);
    subcommand = chosen.name;
    options = chosen.options ?? [];
  }

  // Options: `name:value`; words that follow belong to the value until the next option.
  const values: Record<string, string | number | UserOption> = {};
  let currentName: string | undefined;
  const usage = usageOf(name, options, subcommand);
  for (const token of tokens) {
    const match = /^([\w-]+):(.*)$/s.exec(token);
    const known = match !== null && options.some((option) => option.name === match[1]);
    if (match !== null && known) {
      currentName = match[1];
      values[currentName] = match[2];
    } else if (currentName !== undefined) {
      values[currentName] = `${values[currentName]} ${token}`;
    } else {
      return { ok: false, message: `I don't understand "${token}". Usage: ${usage}` };
    }
  }

  // Types and required options, checked like Discord would.
  for (const option of options) {
    const value = values[option.name];
    const required = 'required' in option && option.required === true;
    if (value === undefined || value === '') {
      if (required) return { ok: false, message: `Missing ${option.name}. Usage: ${usage}` };
      delete values[option.name];
      continue;
    }
    if (option.type === ApplicationCommandOptionType.Integer) {
      if (!/^-?\d{1,9}$/.test(String(value))) {
        return { ok: false, message: `${option.name} must be a whole number.` };
      }
      const number = Number(value);
      const min = 'min_value' in option ? option.min_value : undefined;
      const max = 'max_value' in option ? option.max_value : undefined;
      if ((min !== undefined && number < min) || (max !== undefined && number > max)) {
        const range = `${min ?? '…'} to ${max ?? '…'}`;
        return { ok: false, message: `${option.name} must be from ${range}.` };
      }
      values[option.name] = number;
    } else if (option.type === ApplicationCommandOptionType.User) {
      const text = String(value).replace(/^<@!?(\d+)>$/, '$1');
      const isSelf = text === user.id || text === user.name;
      values[option.name] = isSelf ? user : { id: text, name: text };
    }
  }

  return {
    ok: true,
    request: {
      kind: 'command', commandName: name, ...(subcommand === undefined ? {} : { subcommand }),
      options: recordOptions(values), userId: user.id, userName: user.name,
      guildId: null, channelId: 'console', memberCanManageGuild: true,
    },
  };
}

/** `in 3 hours` / `5 minutes ago`, as Discord shows a `<t:…:R>` timestamp. */
export function relativeTime(at: number, now: number): string {
  const seconds = Math.round((at - now) / 1000);
  const units: [string, number][] = [['year', 31_536_000], ['month', 2_592_000], ['day', 86_400],
    ['hour', 3600], ['minute', 60], ['second', 1]];
  const [unit, size] = units.find(([, length]) => Math.abs(seconds) >= length) ?? ['second', 1];
  const count = Math.round(Math.abs(seconds) / size);
  const amount = `${count} ${unit}${count === 1 ? '' : 's'}`;
  return seconds >= 0 ? `in ${amount}` : `${amount} ago`;
}

/** Markdown to plain text: escapes resolved, `**`, `*`, `` ` `` dropped, links to their text. */
export function plainText(markdown: string): string {
  let text = markdown.replace(/<t:(\d+):([a-zA-Z])>/g, (_, seconds: string, style: string) =>
    style === 'R' ? relativeTime(Number(seconds) * 1000, Date.now())
      : new Date(Number(seconds) * 1000).toISOString().replace('T', ' ').slice(0, 16) + ' UTC');
  text = text.replace(/\[((?:\\.|[^\]\\])*)\]\((https?:[^)\s]+)\)/g, '$1');
  let result = '';
  for (let index = 0; index < text.length; index += 1) {
    const character = text[index];
    if (character === '\\' && index + 1 < text.length && /[^\w\s]/.test(text[index + 1])) {
      result += text[index + 1];
      index += 1;
    } else if (character !== '*' && character !== '`') {
      result += character;
    }
  }
  return result.replace(/\u200d/g, '');
}

function renderEmbed(embed: APIEmbed): string[] {
  const lines: string[] = [];
  if (embed.title !== undefined) {
    const title = plainText(embed.title);
    lines.push(title, '─'.repeat(Math.min(60, title.length)));
  }
  if (embed.description !== undefined) lines.push(plainText(embed.description));
  for (const field of embed.fields ?? []) {
    lines.push(`${plainText(field.name)}: ${plainText(field.value)}`);
  }
  if (embed.footer !== undefined) lines.push(`(${plainText(embed.footer.text)})`);
  return lines;
}

/** Renders a reply as text with numbered actions starting at `!1`. O(reply size). */
export function renderReply(reply: Reply): RenderedReply {
  const lines: string[] = [];
  const actions: ConsoleAction[] = [];
  if (reply.ephemeral === true) lines.push('(only you can see this)');
  if (reply.content !== undefined && reply.content !== '\u200b') {
    lines.push(plainText(reply.content));
  }
  for (const embed of reply.embeds ?? []) lines.push(...renderEmbed(embed));

  for (const row of reply.components ?? []) {
    for (const component of row.components) {
      if (component.type === ComponentType.Button) {
        if (component.disabled === true) continue;
        actions.push({ label: component.label, customId: component.custom_id });
        const mark = component.style === ButtonStyle.Danger ? ' (!)' : '';
        lines.push(`  [!${actions.length}] ${component.label}${mark}`);
      } else {
        lines.push(`  ${component.placeholder ?? 'Choose'}`);
        const entries = component.options.map((option) => {
          actions.push({ label: option.label, customId: component.custom_id,
            values: [option.value] });
          return `!${actions.length} ${option.label}`;
        });
        lines.push(...wrap(entries, 96).map((line) => `    ${line}`));
      }
    }
  }
  return { text: lines.join('\n'), actions };
}

function wrap(entries: string[], width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const entry of entries) {
    if (line.length > 0 && line.length + 3 + entry.length > width) {
      lines.push(line);
      line = '';
    }
    line = line.length === 0 ? entry : `${line}   ${entry}`;
  }
  if (line.length > 0) lines.push(line);
  return lines;
}

/** The `/help` text: the commands' usages (as Discord's `/help` lists them) and console hints. */
export function helpText(commands: BotCommand[]): string {
  const lines = ['Commands (option values may be quoted: artist:"Sigur Rós"):'];
  for (const { usage, description } of commandUsages(commands)) {
    if (usage !== '/help') lines.push(`  ${usage}  ${description}`);
  }
  lines.push('  !<number>  press a button or choose a menu entry from the last reply',
    '  /help  this list; Ctrl-D or /quit to leave');
  return lines.join('\n');
}

/** One console user's session: parses lines, dispatches, remembers the last actions. */
export class ConsoleSession {
  readonly #dispatcher: Dispatcher;
  readonly #user: ConsoleUser;
  #actions: ConsoleAction[] = [];

  constructor(dispatcher: Dispatcher, user: ConsoleUser = defaultUser()) {
    this.#dispatcher = dispatcher;
    this.#user = user;
  }

  /** The actions `!1`… currently refer to. */
  get actions(): ConsoleAction[] {
    return this.#actions;
  }

  /** Answers one line with the text to print ('' for a blank line). Never rejects. */
  async handleLine(line: string): Promise<string> {
    const trimmed = line.trim();
    if (trimmed.length === 0) return '';
    if (/^\/?help$/i.test(trimmed)) return helpText(this.#dispatcher.commands);

    let request: InteractionRequest;
    const action = /^!(\d+)$/.exec(trimmed);
    if (action !== null) {
      const chosen = this.#actions[Number(action[1]) - 1];
      if (chosen === undefined) {
        return this.#actions.length === 0
          ? 'There is nothing to press: run a command first.'
          : `Choose an action from !1 to !${this.#actions.length}.`;
      }
      request = {
        kind: 'component', commandName: chosen.customId.split(':')[0] ?? '',
        customId: chosen.customId,
        ...(chosen.values === undefined ? {} : { values: chosen.values }),
        options: recordOptions({}), userId: this.#user.id, userName: this.#user.name,
        guildId: null, channelId: 'console', memberCanManageGuild: true,
      };
    } else {
      const parsed = parseCommandLine(trimmed, this.#dispatcher.commands, this.#user);
      if (!parsed.ok) return parsed.message;
      request = parsed.request;
    }

    const reply = await this.#dispatcher.handle(request);
    const rendered = renderReply(reply);
    if (rendered.actions.length > 0 || reply.update === true) this.#actions = rendered.actions;
    return rendered.text;
  }

  /** Autocomplete for the artist being typed at the end of `line` (TAB in a terminal). */
  complete(line: string): string[] {
    const match = /^\/?([\w-]+)(?:\s+(\w+))?.*?\b([\w-]+):"?([^:"]*)$/s.exec(line);
    if (match === null) return [];
    const [, commandName = '', word, optionName = '', typed = ''] = match;
    const command = this.#dispatcher.command(commandName);
    const hasSubcommands = (command?.definition.options ?? []).some(
      (option) => option.type === ApplicationCommandOptionType.Subcommand);
    return this.#dispatcher.autocomplete({
      kind: 'autocomplete', commandName, ...(hasSubcommands && word !== undefined
        ? { subcommand: word } : {}),
      options: recordOptions({ [optionName]: typed }, optionName),
      userId: this.#user.id, userName: this.#user.name, guildId: null, channelId: 'console',
      memberCanManageGuild: true,
    }).map((choice) => choice.value);
  }
}

function defaultUser(): ConsoleUser {
  let name = 'console';
  try {
    name = userInfo().username || name;
  } catch {
    // No passwd entry (some containers): keep the default name.
  }
  return { id: 'console', name };
}

/**
 * Runs the console on `input`/`output` until EOF, `/quit` or `signal` aborts. On a terminal: a
 * prompt, a banner and TAB completion of artist names; piped: each line is echoed after `> `
 * and answered.
 */
export async function runConsole(options: {
  dispatcher: Dispatcher;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream & { isTTY?: boolean };
  user?: ConsoleUser;
  /** Aborting ends the console like EOF (after the command being answered). */
  signal?: AbortSignal;
}): Promise<void> {
  const { dispatcher, input, output } = options;
  const session = new ConsoleSession(dispatcher, options.user);
  const interactive = (input as { isTTY?: boolean }).isTTY === true && output.isTTY === true;
  const lines = createInterface({
    input,
    ...(interactive ? {
      output, terminal: true, prompt: '> ',
      completer: (line: string) => {
        // Values run to the next option, so names with spaces need no quotes.
        const typed = /[\w-]+:"?([^:"]*)$/.exec(line)?.[1] ?? '';
        const hits = session.complete(line)
          .filter((choice) => choice.toLowerCase().startsWith(typed.toLowerCase()))
          .map((choice) => line + choice.slice(typed.length));
        return [hits, line];
      },
    } : { terminal: false }),
  });

  options.signal?.addEventListener('abort', () => lines.close(), { once: true });
  if (options.signal?.aborted === true) lines.close();
  if (interactive) {
    lines.on('SIGINT', () => lines.close());
    output.write('Music bot console: type /help for the commands, Ctrl-D to leave.\n');
    lines.prompt();
  }
  for await (const line of lines) {
    if (/^\/?(quit|exit)$/i.test(line.trim())) break;
    if (!interactive && line.trim().length > 0) output.write(`> ${line.trim()}\n`);
    const text = await session.handleLine(line);
    if (text.length > 0) output.write(`${text}\n${interactive ? '' : '\n'}`);
    if (interactive) lines.prompt();
  }
  lines.close();
}
