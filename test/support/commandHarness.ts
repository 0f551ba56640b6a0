/**
 * Drives the bot's commands without Discord: tinyModel(), an in-memory Storage, a dispatcher
 * with a controllable clock and a captured log, and helpers to type console lines and press
 * buttons as any member.
 */
import pino from 'pino';
import type { Logger } from 'pino';
import { COMMANDS } from '../../src/commands/index.ts';
import type { BotCommand } from '../../src/interactions/command.ts';
import { Dispatcher } from '../../src/interactions/dispatcher.ts';
import type { Reply, ReplyButton, ReplySelectMenu } from '../../src/interactions/reply.ts';
import type { InteractionRequest } from '../../src/interactions/request.ts';
import { recordOptions } from '../../src/interactions/request.ts';
import type { RetrainControl } from '../../src/interactions/retrainControl.ts';
import { ServingModel } from '../../src/interactions/servingModel.ts';
import { Recommender } from '../../src/model/recommender.ts';
import { openStorage } from '../../src/storage/storage.ts';
import type { Storage } from '../../src/storage/storage.ts';
import { parseCommandLine } from '../../src/transports/console.ts';
import { tinyModel } from './tinyModel.ts';

/** A member for tests. */
export interface Member {
  id: string;
  name: string;
  canManageGuild?: boolean;
}

export const ALICE: Member = { id: '100000000000000001', name: 'alice' };
export const BOB: Member = { id: '100000000000000002', name: 'bob' };

/** One row of the request log as stored. */
export interface LoggedRequest {
  user_id: string;
  command: string;
  artist_key: string | null;
  artist_name: string | null;
  query: string;
  guild_id: string | null;
  channel_id: string | null;
}

/** A ready dispatcher over tinyModel() and an in-memory database. */
export function commandHarness(options: { cooldownSeconds?: number; retrain?: RetrainControl;
  extraCommands?: BotCommand[] } = {}) {
  const storage: Storage = openStorage(':memory:');
  const recommender = new Recommender(tinyModel());
  const servingModel = new ServingModel(recommender);
  const logLines: Record<string, unknown>[] = [];
  const logger: Logger = pino({ level: 'debug' }, {
    write: (line: string) => { logLines.push(JSON.parse(line) as Record<string, unknown>); },
  });
  let clock = Date.parse('2026-12-03T12:00:00Z');
  const dispatcher = new Dispatcher({
    commands: [...COMMANDS, ...(options.extraCommands ?? [])],
    servingModel,
    storage,
    ...(options.retrain === undefined ? {} : { retrain: options.retrain }),
    logger,
    cooldownSeconds: options.cooldownSeconds ?? 0,
    now: () => new Date(clock),
  });

  function request(line: string, member: Member = ALICE): InteractionRequest {
    const parsed = parseCommandLine(line, dispatcher.commands, member);
    if (!parsed.ok) throw new Error(parsed.message);
    return { ...parsed.request, guildId: '200000000000000001', channelId: '300000000000000001',
      memberCanManageGuild: member.canManageGuild === true };
  }

  return {
    storage, recommender, servingModel, dispatcher, logLines,
    /** Moves the dispatcher's clock forward. */
    advance(milliseconds: number) { clock += milliseconds; },
    /** The request for a console-syntax line typed by `member`. */
    request,
    /** Runs a console-syntax command line as `member`; resolves to the (clamped) reply. */
    run(line: string, member: Member = ALICE): Promise<Reply> {
      return dispatcher.handle(request(line, member));
    },
    /** Runs a command built by hand (bypassing console validation). */
    runRaw(commandName: string, values: Record<string, string | number>, member: Member = ALICE,
      subcommand?: string): Promise<Reply> {
      return dispatcher.handle({
        kind: 'command', commandName, ...(subcommand === undefined ? {} : { subcommand }),
        options: recordOptions(values), userId: member.id, userName: member.name,
        guildId: null, channelId: null, memberCanManageGuild: member.canManageGuild === true,
      });
    },
    /** Presses a button (by label) or picks a select value on `reply`, as `member`. */
    press(reply: Reply, target: { label: string } | { select: number },
      member: Member = ALICE): Promise<Reply> {
      const components = allComponents(reply);
      let customId: string;
      let values: string[] | undefined;
      if ('label' in target) {
        const button = components.find((component): component is ReplyButton =>
          component.type === 2 && component.label === target.label);
        if (button === undefined) throw new Error(`no button "${target.label}"`);
        customId = button.custom_id;
      } else {
        const menu = components.find((component): component is ReplySelectMenu =>
          component.type === 3);
        const option = menu?.options[target.select];
        if (menu === undefined || option === undefined) throw new Error('no such select option');
        customId = menu.custom_id;
        values = [option.value];
      }
      return dispatcher.handle({
        kind: 'component', commandName: customId.split(':')[0] ?? '', customId,
        ...(values === undefined ? {} : { values }), options: recordOptions({}),
        userId: member.id, userName: member.name, guildId: null, channelId: null,
        memberCanManageGuild: member.canManageGuild === true,
      });
    },
    /** Autocomplete choices for `option` of `/command [subcommand]` while typing `typed`. */
    autocomplete(commandName: string, option: string, typed: string, member: Member = ALICE,
      subcommand?: string) {
      return dispatcher.autocomplete({
        kind: 'autocomplete', commandName, ...(subcommand === undefined ? {} : { subcommand }),
        options: recordOptions({ [option]: typed }, option), userId: member.id,
        userName: member.name, guildId: null, channelId: null, memberCanManageGuild: false,
      });
    },
    /** The request log rows, oldest first. */
    loggedRequests(): LoggedRequest[] {
      return storage.database.prepare('SELECT * FROM requests ORDER BY rowid').all() as
        LoggedRequest[];
    },
  };
}

/** Every button label of a reply. */
export function buttonLabels(reply: Reply): string[] {
  return allComponents(reply)
    .filter((component): component is ReplyButton => component.type === 2)
    .map((button) => button.label);
}

/** The select menu of a reply, if any. */
export function selectMenu(reply: Reply): ReplySelectMenu | undefined {
  return allComponents(reply)
    .find((component): component is ReplySelectMenu => component.type === 3);
}

/** The numbered lines (`**1.** …`) of the first embed's description. */
export function numberedLines(reply: Reply): string[] {
  return (reply.embeds?.[0]?.description ?? '').split('\n').filter((line) => /^\*\*\d+\.\*\*/.test(line));
}

/** Every button and select menu of a reply, in order. */
export function allComponents(reply: Reply): (ReplyButton | ReplySelectMenu)[] {
  return (reply.components ?? []).flatMap((row): (ReplyButton | ReplySelectMenu)[] =>
    row.components);
}
