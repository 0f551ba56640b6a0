/**
 * The transport-neutral request: what a member asked for, with no discord.js object in sight.
 * The Discord adapter builds one from an `Interaction`; the console builds one from a typed line.
 */

/** A Discord user named by a `user` option. */
export interface UserOption {
  id: string;
  name: string;
}

/** Typed access to the options of one command, in the spirit of discord.js' option resolver. */
export interface RequestOptions {
  /** The text of a string option, or null when absent. */
  getString(name: string): string | null;
  /** The value of an integer option, or null when absent. */
  getInteger(name: string): number | null;
  /** The user named by a user option, or null when absent. */
  getUser(name: string): UserOption | null;
  /** For autocomplete: the option being typed and its partial text. */
  getFocused(): { name: string; value: string } | null;
}

/** What kind of interaction this is. */
export type RequestKind = 'command' | 'autocomplete' | 'component';

/** One member's interaction. */
export interface InteractionRequest {
  kind: RequestKind;
  /** The slash command (for components: the prefix of the custom id). */
  commandName: string;
  subcommand?: string;
  options: RequestOptions;
  /** For components: the custom id of the clicked button or select menu. */
  customId?: string;
  /** For select menus: the chosen values. */
  values?: string[];
  userId: string;
  userName: string;
  /** Null in direct messages and in the console. */
  guildId: string | null;
  channelId: string | null;
  /** Whether the member holds Manage Server where they asked (always true in the console). */
  memberCanManageGuild: boolean;
}

/** Options backed by a plain record: used by the console and by tests. */
export function recordOptions(
  values: Record<string, string | number | UserOption | undefined>,
  focused?: string,
): RequestOptions {
  return {
    getString(name) {
      const value = values[name];
      if (value === undefined) return null;
      return typeof value === 'object' ? value.id : String(value);
    },
    getInteger(name) {
      const value = values[name];
      if (value === undefined || typeof value === 'object') return null;
      const number = typeof value === 'number' ? value : Number(value);
      return Number.isInteger(number) ? number : null;
    },
    getUser(name) {
      const value = values[name];
      if (value === undefined) return null;
      return typeof value === 'object' ? value : { id: String(value), name: String(value) };
    },
    getFocused() {
      if (focused === undefined) return null;
      const value = values[focused];
      return { name: focused, value: value === undefined ? '' : String(value) };
    },
  };
}
