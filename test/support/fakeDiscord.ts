/**
 * A local stand-in for Discord: the REST API (node:http) and the gateway (WebSocket) on
 * 127.0.0.1 with a random port, enough for an unmodified discord.js 14 client to log in,
 * register slash commands and answer interactions that a test sends.
 *
 * Usage:
 *   const discord = await FakeDiscord.start({ token, applicationId });
 *   const client = new Client({ intents: [], rest: { api: discord.restUrl } });
 *   await client.login(token);
 *   await discord.waitForIdentify();
 *   discord.registeredCommands;              // the last PUT of the command list
 *   const user = makeUser('alice');           // same name, same id
 *   const exchange = await discord.sendCommand({
 *     name: 'taste', options: [{ name: 'add', type: 1, options: [{ name: 'artist', type: 3,
 *     value: 'Drake' }] }], user,             // guildId: null sends it in a DM
 *   });
 *   exchange.message;                         // content, embeds, components, flags, allowedMentions
 *   exchange.callbackType; exchange.responses; exchange.followUps; exchange.ephemeral
 *   await discord.sendAutocomplete({ name: 'similar', options: [...], focused: 'artist' });
 *   await discord.clickButton(exchange, customId, { user });
 *   await discord.selectMenu(exchange, customId, ['value'], { user });
 *   discord.dropConnection(4000); await discord.waitForResume();
 *   await discord.stop();
 *
 * `sendX` resolves when the member would see an answer (a reply, an update, choices, or the
 * edit or follow-up after a defer) and rejects after `timeoutMs` (5 s) with what was seen.
 *
 * What it models: HELLO / IDENTIFY / READY / GUILD_CREATE, heartbeat ACK, RESUME with replay of
 * missed dispatches by sequence (op 9 for an unknown session), close 4004 on a wrong token, 401
 * on REST with a wrong token; interaction callbacks 4-9 (with and without
 * `?with_response=true`), a second callback refused with 40060, the "thinking…" message a defer
 * creates, `@original` and message-id webhook edits and deletes, follow-ups, multipart
 * `payload_json` with files, stored message objects so components can be clicked; Discord's
 * message and autocomplete limits (an over-limit body is refused with 400 / 50035 as Discord
 * does, and recorded in `violations`). What it does not model: rate limits, the 3-second and
 * 15-minute token windows, permissions, intent filtering, anything a music bot never calls
 * (unknown routes answer 404 and are recorded in `unknownRoutes`).
 *
 * discord.js facts it relies on: every JSON answer needs `Content-Type: application/json`;
 * READY must carry `user`, `application` and `guilds`, and each listed guild needs a
 * GUILD_CREATE or readiness waits 15 s; interactions need `entitlements`,
 * `authorizing_integration_owners`, `channel`, and `message` for components.
 */

import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';

/** Interaction types (Discord API). */
export const InteractionType = {
  Ping: 1,
  ApplicationCommand: 2,
  MessageComponent: 3,
  ApplicationCommandAutocomplete: 4,
  ModalSubmit: 5,
} as const;

/** Interaction callback types (Discord API). */
export const CallbackType = {
  ChannelMessageWithSource: 4,
  DeferredChannelMessageWithSource: 5,
  DeferredUpdateMessage: 6,
  UpdateMessage: 7,
  ApplicationCommandAutocompleteResult: 8,
  Modal: 9,
} as const;

/** Message flag: only the member who asked sees the message. */
export const EPHEMERAL = 64;

/** A Discord user as the API sends it. */
export interface FakeUser {
  id: string;
  username: string;
  global_name: string | null;
  discriminator: string;
  avatar: string | null;
  bot?: boolean;
}

/** A command option as the API sends it inside an interaction. */
export interface CommandOption {
  name: string;
  type: number;
  value?: string | number | boolean;
  focused?: boolean;
  options?: CommandOption[];
}

/** Where and by whom an interaction is sent. `guildId: null` sends it in a DM. */
export interface InteractionContext {
  user?: FakeUser;
  guildId?: string | null;
  channelId?: string;
  locale?: string;
  /** Permissions of the member in the guild, a decimal bit string (default: all). */
  memberPermissions?: string;
  /** When the exchange counts as settled; see `InteractionExchange.settled`. */
  until?: 'ack' | 'content';
  /** Milliseconds to wait for the bot before `sendX` rejects (default 5000). */
  timeoutMs?: number;
  /**
   * Epoch milliseconds the interaction id's snowflake encodes (default: now). An earlier time
   * sends an interaction that has already waited, as one delayed on Discord's side would.
   */
  createdAt?: number;
}

/** A slash command to send. */
export interface CommandRequest extends InteractionContext {
  name: string;
  /** Top-level options; a subcommand is an option of type 1 holding its own options. */
  options?: CommandOption[];
}

/** A file part of a multipart request. */
export interface RecordedFile {
  field: string;
  filename: string;
  size: number;
  contentType: string;
}

/** Who a message may ping, as the bot asked (a request field: never part of a message object). */
export interface AllowedMentions {
  parse?: string[];
  users?: string[];
  roles?: string[];
  replied_user?: boolean;
}

/** A message the bot posted (reply, edit or follow-up), as the fake stores it. */
export interface RecordedMessage {
  id: string;
  channelId: string;
  guildId: string | null;
  /** The interaction whose reply or follow-up this message is. */
  interactionId: string;
  content: string;
  embeds: any[];
  components: any[];
  flags: number;
  allowedMentions: AllowedMentions | undefined;
  attachments: RecordedFile[];
  editCount: number;
  /** A deferred reply still showing "thinking…" (no edit yet). */
  loading: boolean;
}

/** One thing the bot did about an interaction. */
export interface InteractionResponse {
  kind: 'callback' | 'edit' | 'followup' | 'delete';
  /** For `callback`: the callback type (4 reply, 5 defer, 6 deferred update, 7 update, 8 choices). */
  callbackType?: number;
  /** The JSON body (for multipart: the parsed `payload_json`). */
  data: any;
  files: RecordedFile[];
  /** The message created or edited, when there is one. */
  messageId?: string;
  /** Milliseconds since the interaction was dispatched. */
  elapsedMs: number;
  /** The HTTP status the fake answered with (4xx when Discord would have refused it). */
  status: number;
}

/** A problem with what the bot sent, as Discord would refuse it. */
export interface Violation {
  interactionId: string | null;
  route: string;
  problems: string[];
}

/** A REST request the fake saw. */
export interface RecordedRequest {
  method: string;
  path: string;
  status: number;
}

/** Options of `FakeDiscord.start`. */
export interface FakeDiscordOptions {
  token: string;
  applicationId: string;
  /** The bot's user id (default: the application id). */
  botUserId?: string;
  botUsername?: string;
  /** Guilds the bot is in; each gets a GUILD_CREATE with one text channel (default: one). */
  guildIds?: string[];
  heartbeatIntervalMs?: number;
}

const DISCORD_EPOCH = 1420070400000n;
const ALL_PERMISSIONS = '2251799813685247';
const DEFAULT_TIMEOUT_MS = 5000;
let snowflakeIncrement = 0n;

/** A fresh snowflake id carrying `at` (default: now), as Discord makes them. O(1). */
export function snowflake(at: number = Date.now()): string {
  snowflakeIncrement = (snowflakeIncrement + 1n) & 0xfffn;
  return (
    ((BigInt(Math.trunc(at)) - DISCORD_EPOCH) << 22n) |
    (1n << 17n) |
    snowflakeIncrement
  ).toString();
}

/** A user whose id is derived from `username`, so the same name gives the same id. O(1). */
export function makeUser(username: string): FakeUser {
  const hash = createHash('sha256').update(username).digest();
  const id = (hash.readBigUInt64BE(0) & ((1n << 62n) - 1n)) | (1n << 58n);
  return { id: id.toString(), username, global_name: username, discriminator: '0', avatar: null };
}

/** The channel id the fake uses for a member's DM with the bot. */
export function dmChannelIdFor(user: FakeUser): string {
  return (BigInt(user.id) ^ 0x5a5an).toString();
}

/** The one text channel the fake puts in a guild. */
export function textChannelIdFor(guildId: string): string {
  return (BigInt(guildId) + 1n).toString();
}

/**
 * Lists what Discord would refuse in a message body: content over 2,000 characters, more than
 * 10 embeds, embed fields over their limits or over 6,000 characters in total, more than 5
 * action rows or 5 components a row, custom ids over 100. Returns [] for a valid message.
 * O(size of the message).
 */
export function messageLimitViolations(data: any): string[] {
  const problems: string[] = [];
  if (data === null || typeof data !== 'object') return ['body is not an object'];
  const length = (value: unknown) => (typeof value === 'string' ? value.length : 0);

  if (data.content !== undefined && data.content !== null) {
    if (typeof data.content !== 'string') problems.push('content is not a string');
    else if (data.content.length > 2000) problems.push(`content ${data.content.length} > 2000`);
  }

  const embeds: any[] = Array.isArray(data.embeds) ? data.embeds : [];
  if (embeds.length > 10) problems.push(`${embeds.length} embeds > 10`);
  let embedTotal = 0;
  embeds.forEach((embed, index) => {
    const at = `embeds[${index}]`;
    const fields: any[] = Array.isArray(embed.fields) ? embed.fields : [];
    if (length(embed.title) > 256) problems.push(`${at}.title ${length(embed.title)} > 256`);
    if (length(embed.description) > 4096) problems.push(`${at}.description > 4096`);
    if (fields.length > 25) problems.push(`${at} has ${fields.length} fields > 25`);
    if (length(embed.footer?.text) > 2048) problems.push(`${at}.footer.text > 2048`);
    if (length(embed.author?.name) > 256) problems.push(`${at}.author.name > 256`);
    fields.forEach((field, fieldIndex) => {
      const name = length(field.name);
      const value = length(field.value);
      if (name === 0 || name > 256) problems.push(`${at}.fields[${fieldIndex}].name ${name}`);
      if (value === 0 || value > 1024) problems.push(`${at}.fields[${fieldIndex}].value ${value}`);
      embedTotal += name + value;
    });
    embedTotal += length(embed.title) + length(embed.description);
    embedTotal += length(embed.footer?.text) + length(embed.author?.name);
  });
  if (embedTotal > 6000) problems.push(`embeds total ${embedTotal} > 6000`);

  const rows: any[] = Array.isArray(data.components) ? data.components : [];
  if (rows.length > 5) problems.push(`${rows.length} action rows > 5`);
  rows.forEach((row, index) => {
    const children: any[] = Array.isArray(row.components) ? row.components : [];
    if (children.length > 5) problems.push(`components[${index}] has ${children.length} > 5`);
    for (const child of children) {
      if (length(child.custom_id) > 100)
        problems.push(`custom_id ${length(child.custom_id)} > 100`);
      if (length(child.label) > 80) problems.push(`label ${length(child.label)} > 80`);
      if (Array.isArray(child.options) && child.options.length > 25) {
        problems.push(`select menu with ${child.options.length} options > 25`);
      }
      for (const option of child.options ?? []) {
        if (length(option.label) > 100 || length(option.value) > 100) {
          problems.push('select option label or value > 100');
        }
      }
    }
  });
  return problems;
}

/** Lists what Discord would refuse in an autocomplete answer. O(choices). */
export function autocompleteViolations(data: any): string[] {
  const choices: any[] = Array.isArray(data?.choices) ? data.choices : [];
  const problems: string[] = [];
  if (!Array.isArray(data?.choices)) problems.push('choices is not an array');
  if (choices.length > 25) problems.push(`${choices.length} choices > 25`);
  for (const choice of choices) {
    const name = typeof choice.name === 'string' ? choice.name.length : 0;
    if (name < 1 || name > 100) problems.push(`choice name length ${name}`);
    if (typeof choice.value === 'string' && choice.value.length > 100) {
      problems.push(`choice value length ${choice.value.length} > 100`);
    }
  }
  return problems;
}

/**
 * One interaction sent to the bot and everything the bot did about it. `settled` resolves once
 * the member would see an answer: a reply, an update, autocomplete choices, or the edit that
 * follows a defer (with `until: 'ack'`, any callback).
 */
export class InteractionExchange {
  readonly id: string;
  readonly token: string;
  /** The INTERACTION_CREATE payload as sent. */
  readonly payload: any;
  readonly responses: InteractionResponse[] = [];
  /** The message a reply created, or (for a component) the message the component is on. */
  originalMessageId: string | undefined;
  readonly followUpIds: string[] = [];
  readonly sentAt = performance.now();
  /** Set when the exchange settled: milliseconds from dispatch. */
  settledMs: number | undefined;
  readonly settled: Promise<InteractionExchange>;

  private readonly messages: Map<string, RecordedMessage>;
  private resolveSettled!: (exchange: InteractionExchange) => void;
  private readonly listeners = new Set<() => void>();

  constructor(
    payload: any,
    messages: Map<string, RecordedMessage>,
    readonly until: 'ack' | 'content',
  ) {
    this.id = payload.id;
    this.token = payload.token;
    this.payload = payload;
    this.messages = messages;
    this.settled = new Promise((resolve) => (this.resolveSettled = resolve));
  }

  /** The first callback type the bot answered with, if any. */
  get callbackType(): number | undefined {
    return this.responses.find((response) => response.kind === 'callback' && response.status < 300)
      ?.callbackType;
  }

  /**
   * What the member sees as the answer, as it stands now: the reply (or, for a component, the
   * message it updated), or the first follow-up when the bot deleted its deferred reply.
   */
  get message(): RecordedMessage | undefined {
    const original =
      this.originalMessageId === undefined ? undefined : this.messages.get(this.originalMessageId);
    return original ?? this.followUps[0];
  }

  /** Follow-up messages, oldest first. */
  get followUps(): RecordedMessage[] {
    return this.followUpIds.map((id) => this.messages.get(id)!).filter(Boolean);
  }

  /** Autocomplete choices the bot answered with (empty when it did not). */
  get choices(): { name: string; value: string | number }[] {
    const answer = this.responses.find((response) => response.callbackType === 8);
    return answer?.data?.choices ?? [];
  }

  /** Whether the answer (`message`) is visible only to the member (flag 64). */
  get ephemeral(): boolean {
    return ((this.message?.flags ?? 0) & EPHEMERAL) !== 0;
  }

  /** Resolves with the first response (already recorded or future) matching `predicate`. */
  waitFor(
    predicate: (response: InteractionResponse) => boolean,
    timeoutMs = DEFAULT_TIMEOUT_MS,
  ): Promise<InteractionResponse> {
    const found = this.responses.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const listener = () => {
        const match = this.responses.find(predicate);
        if (!match) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(match);
      };
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(
          new Error(`interaction ${this.describe()}: no matching response in ${timeoutMs} ms`),
        );
      }, timeoutMs);
      this.listeners.add(listener);
    });
  }

  /** A one-line description for error messages. */
  describe(): string {
    const name = this.payload.data?.name ?? this.payload.data?.custom_id ?? '?';
    const seen = this.responses.map((r) => `${r.kind}${r.callbackType ?? ''}:${r.status}`);
    return `${name} (type ${this.payload.type}, id ${this.id}) responses [${seen.join(', ')}]`;
  }

  /** Records a response and settles the exchange when the member now sees an answer. */
  record(response: InteractionResponse): void {
    this.responses.push(response);
    if (response.status < 300 && this.settledMs === undefined && this.settlesOn(response)) {
      this.settledMs = response.elapsedMs;
      this.resolveSettled(this);
    }
    for (const listener of [...this.listeners]) listener();
  }

  private settlesOn(response: InteractionResponse): boolean {
    if (this.until === 'ack') return true;
    if (response.kind === 'callback')
      return response.callbackType !== 5 && response.callbackType !== 6;
    return response.kind === 'edit' || response.kind === 'followup';
  }
}

interface GatewaySession {
  id: string;
  sequence: number;
  /** Every dispatch sent in this session, for replay on RESUME. */
  log: { s: number; payload: string }[];
  socket: WebSocket | undefined;
}

/** The local Discord stand-in. Create with `FakeDiscord.start`. */
export class FakeDiscord extends EventEmitter {
  readonly token: string;
  readonly applicationId: string;
  readonly botUser: FakeUser;
  readonly guildIds: string[];
  readonly restUrl: string;
  readonly gatewayUrl: string;

  /** The body of the last PUT of the command list (global or guild). */
  registeredCommands: any[] | undefined;
  /** Every command-list PUT: scope is 'global' or the guild id. */
  readonly commandRegistrations: { scope: string; body: any[] }[] = [];
  readonly exchanges = new Map<string, InteractionExchange>();
  readonly messages = new Map<string, RecordedMessage>();
  readonly requests: RecordedRequest[] = [];
  readonly unknownRoutes: RecordedRequest[] = [];
  readonly violations: Violation[] = [];
  identifyCount = 0;
  resumeCount = 0;
  /** Close codes the fake sent, e.g. 4004 for a wrong token. */
  readonly closeCodes: number[] = [];
  /** The intents the client asked for in its last IDENTIFY. */
  intents: number | undefined;

  private readonly server: Server;
  private readonly gateway: WebSocketServer;
  private readonly heartbeatIntervalMs: number;
  private session: GatewaySession | undefined;
  private readonly sockets = new Set<WebSocket>();
  private readonly commandIds = new Map<string, string>();
  /** Exchanges by interaction token, for webhook routes (O(1) in a long load run). */
  private readonly exchangesByToken = new Map<string, InteractionExchange>();

  private constructor(options: FakeDiscordOptions, server: Server, port: number) {
    super();
    this.token = options.token;
    this.applicationId = options.applicationId;
    this.botUser = {
      id: options.botUserId ?? options.applicationId,
      username: options.botUsername ?? 'fake-bot',
      global_name: null,
      discriminator: '0',
      avatar: null,
      bot: true,
    };
    this.guildIds = options.guildIds ?? ['1100000000000000001'];
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 41250;
    this.server = server;
    this.restUrl = `http://127.0.0.1:${port}/api`;
    this.gatewayUrl = `ws://127.0.0.1:${port}/gateway`;
    this.gateway = new WebSocketServer({ noServer: true });
    this.gateway.on('connection', (socket) => this.onGatewayConnection(socket));
  }

  /** Starts REST and gateway on 127.0.0.1 with a random port. Resolves when listening. */
  static async start(options: FakeDiscordOptions): Promise<FakeDiscord> {
    const server = createServer();
    // A deep accept queue: a burst of callbacks must not stall in SYN retries (backlog 511).
    await new Promise<void>((resolve) =>
      server.listen({ port: 0, host: '127.0.0.1', backlog: 8192 }, resolve),
    );
    const port = (server.address() as AddressInfo).port;
    const discord = new FakeDiscord(options, server, port);
    server.on('request', (request, response) => discord.onHttpRequest(request, response));
    server.on('upgrade', (request, socket, head) => discord.onUpgrade(request, socket, head));
    return discord;
  }

  /** The guild interactions go to unless a test says otherwise. */
  get defaultGuildId(): string | null {
    return this.guildIds[0] ?? null;
  }

  /** Whether a client is connected and identified (or resumed) right now. */
  get connected(): boolean {
    return this.session?.socket !== undefined;
  }

  /** Resolves once `count` IDENTIFYs have been answered with READY (default: one). */
  waitForIdentify(count = 1, timeoutMs = 10_000): Promise<void> {
    return this.waitUntil(() => this.identifyCount >= count, timeoutMs, 'IDENTIFY');
  }

  /** Resolves once `count` RESUMEs have been answered with RESUMED (default: one more). */
  waitForResume(count = this.resumeCount + 1, timeoutMs = 10_000): Promise<void> {
    return this.waitUntil(() => this.resumeCount >= count, timeoutMs, 'RESUME');
  }

  /** Resolves once the command list has been PUT at least `count` times. */
  waitForCommandRegistration(count = 1, timeoutMs = 10_000): Promise<void> {
    return this.waitUntil(
      () => this.commandRegistrations.length >= count,
      timeoutMs,
      'PUT commands',
    );
  }

  /** Sends a slash command (type 2). Resolves when the exchange settles. */
  sendCommand(request: CommandRequest): Promise<InteractionExchange> {
    const data = {
      id: this.commandIdFor(request.name),
      name: request.name,
      type: 1,
      options: request.options ?? [],
      ...(request.guildId === null ? {} : { guild_id: request.guildId ?? this.defaultGuildId }),
    };
    return this.dispatchInteraction(InteractionType.ApplicationCommand, data, request);
  }

  /**
   * Sends an autocomplete interaction (type 4): `focused` names the option being typed. Resolves
   * when the bot answers with choices (see `exchange.choices`).
   */
  sendAutocomplete(request: CommandRequest & { focused: string }): Promise<InteractionExchange> {
    const markFocused = (options: CommandOption[]): CommandOption[] =>
      options.map((option) =>
        option.options
          ? { ...option, options: markFocused(option.options) }
          : option.name === request.focused
            ? { ...option, focused: true }
            : option,
      );
    const data = {
      id: this.commandIdFor(request.name),
      name: request.name,
      type: 1,
      options: markFocused(request.options ?? []),
    };
    return this.dispatchInteraction(InteractionType.ApplicationCommandAutocomplete, data, request);
  }

  /**
   * Clicks the button `customId` on a message the bot posted (pass the exchange whose reply
   * holds it, or the message). Throws if the message has no such button.
   */
  clickButton(
    target: InteractionExchange | RecordedMessage,
    customId: string,
    context: InteractionContext = {},
  ): Promise<InteractionExchange> {
    const message = this.componentTarget(target, customId, 2);
    return this.dispatchComponent(message, { custom_id: customId, component_type: 2 }, context);
  }

  /** Picks `values` in the string select menu `customId` on a message the bot posted. */
  selectMenu(
    target: InteractionExchange | RecordedMessage,
    customId: string,
    values: string[],
    context: InteractionContext = {},
  ): Promise<InteractionExchange> {
    const message = this.componentTarget(target, customId, 3);
    const data = { custom_id: customId, component_type: 3, values };
    return this.dispatchComponent(message, data, context);
  }

  /**
   * Sends any interaction payload the test built itself (fields the fake would fill in are
   * added when missing). For hostile or unusual payloads.
   */
  sendRawInteraction(
    type: number,
    data: any,
    context: InteractionContext = {},
    extra: Record<string, unknown> = {},
  ): Promise<InteractionExchange> {
    return this.dispatchInteraction(type, data, context, extra);
  }

  /** Sends any gateway dispatch (op 0) with event name `event`. */
  dispatch(event: string, data: unknown): void {
    const session = this.session;
    if (!session) throw new Error('no gateway session: the client has not identified');
    session.sequence += 1;
    const payload = JSON.stringify({ op: 0, t: event, s: session.sequence, d: data });
    session.log.push({ s: session.sequence, payload });
    if (session.log.length > 20_000) session.log.splice(0, session.log.length - 20_000);
    if (session.socket?.readyState === 1) session.socket.send(payload);
  }

  /**
   * Closes the gateway socket with `code` (4000: the client resumes; 1000: it re-identifies
   * after about 5 s), or cuts it without a close frame with 'terminate'. Dispatches sent while
   * the client is away are replayed when it resumes. With `invalidateSession` the session is
   * forgotten, so the client's RESUME gets op 9 and it identifies again (dispatches sent before
   * that are lost, as on Discord).
   */
  dropConnection(
    code: number | 'terminate' = 4000,
    options: { invalidateSession?: boolean } = {},
  ): void {
    const session = this.session;
    const socket = session?.socket;
    if (!session || !socket) throw new Error('no connected gateway socket to drop');
    session.socket = undefined;
    if (options.invalidateSession) session.id = `invalidated-${session.id}`;
    if (code === 'terminate') socket.terminate();
    else {
      this.closeCodes.push(code);
      socket.close(code, 'dropped by the test');
    }
  }

  /** Closes every socket and the server. Resolves when nothing is left open. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    this.session = undefined;
    await new Promise<void>((resolve) => this.gateway.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.removeAllListeners();
  }

  // --- interactions ---------------------------------------------------------------------------

  private commandIdFor(name: string): string {
    let id = this.commandIds.get(name);
    if (!id) {
      id = snowflake();
      this.commandIds.set(name, id);
    }
    return id;
  }

  private componentTarget(
    target: InteractionExchange | RecordedMessage,
    customId: string,
    componentType: number,
  ): RecordedMessage {
    const message = target instanceof InteractionExchange ? target.message : target;
    if (!message) throw new Error('no message to click on: the exchange has no reply message');
    const components = message.components.flatMap((row: any) => row.components ?? []);
    const found = components.find(
      (component: any) => component.custom_id === customId && component.type === componentType,
    );
    if (!found) {
      const ids = components.map((component: any) => `${component.type}:${component.custom_id}`);
      throw new Error(
        `message ${message.id} has no component ${componentType}:${customId}; it has [${ids}]`,
      );
    }
    if (found.disabled)
      throw new Error(`component ${customId} on message ${message.id} is disabled`);
    return message;
  }

  private dispatchComponent(
    message: RecordedMessage,
    data: any,
    context: InteractionContext,
  ): Promise<InteractionExchange> {
    const where: InteractionContext = {
      guildId: message.guildId,
      channelId: message.channelId,
      ...context,
    };
    return this.dispatchInteraction(
      InteractionType.MessageComponent,
      data,
      where,
      {
        message: this.apiMessage(message),
      },
      message.id,
    );
  }

  private dispatchInteraction(
    type: number,
    data: any,
    context: InteractionContext,
    extra: Record<string, unknown> = {},
    componentMessageId?: string,
  ): Promise<InteractionExchange> {
    const user = context.user ?? makeUser('member');
    const guildId = context.guildId === undefined ? this.defaultGuildId : context.guildId;
    const channelId =
      context.channelId ?? (guildId === null ? dmChannelIdFor(user) : textChannelIdFor(guildId));
    const payload: any = {
      id: snowflake(context.createdAt),
      application_id: this.applicationId,
      type,
      token: `interaction-token-${snowflake()}`,
      version: 1,
      data,
      channel_id: channelId,
      locale: context.locale ?? 'en-US',
      app_permissions: ALL_PERMISSIONS,
      entitlements: [],
      attachment_size_limit: 10 * 1024 * 1024,
      ...extra,
    };
    if (guildId === null) {
      payload.user = user;
      payload.channel = { id: channelId, type: 1, recipients: [user], flags: 0 };
      payload.context = 1;
      payload.authorizing_integration_owners = { '1': user.id };
    } else {
      payload.guild_id = guildId;
      payload.guild = { id: guildId, locale: 'en-US', features: [] };
      payload.guild_locale = 'en-US';
      payload.channel = { id: channelId, type: 0, guild_id: guildId, name: 'general', flags: 0 };
      payload.member = {
        user,
        roles: [],
        permissions: context.memberPermissions ?? ALL_PERMISSIONS,
        joined_at: new Date(0).toISOString(),
        nick: null,
        avatar: null,
        deaf: false,
        mute: false,
        flags: 0,
        pending: false,
        premium_since: null,
      };
      payload.context = 0;
      payload.authorizing_integration_owners = { '0': guildId };
    }

    const exchange = new InteractionExchange(payload, this.messages, context.until ?? 'content');
    exchange.originalMessageId = componentMessageId;
    this.exchanges.set(exchange.id, exchange);
    this.exchangesByToken.set(exchange.token, exchange);
    this.dispatch('INTERACTION_CREATE', payload);

    const timeoutMs = context.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no answer to ${exchange.describe()} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      exchange.settled.then((settled) => {
        clearTimeout(timer);
        resolve(settled);
      });
    });
  }

  /** The API message object of a recorded message, as a component interaction carries it. */
  apiMessage(message: RecordedMessage): any {
    return {
      id: message.id,
      channel_id: message.channelId,
      ...(message.guildId ? { guild_id: message.guildId } : {}),
      type: 20,
      author: this.botUser,
      application_id: this.applicationId,
      webhook_id: this.applicationId,
      content: message.content,
      embeds: message.embeds,
      components: message.components,
      flags: message.flags | (message.loading ? 128 : 0),
      attachments: message.attachments.map((file, index) => ({
        id: String(index),
        filename: file.filename,
        size: file.size,
        url: `https://cdn.invalid/${file.filename}`,
        proxy_url: `https://cdn.invalid/${file.filename}`,
      })),
      timestamp: new Date().toISOString(),
      edited_timestamp: message.editCount > 0 ? new Date().toISOString() : null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      pinned: false,
    };
  }

  /** Creates or edits a stored message from a message body the bot sent. */
  private writeMessage(
    exchange: InteractionExchange,
    data: any,
    files: RecordedFile[],
    existingId?: string,
  ): RecordedMessage {
    const existing = existingId ? this.messages.get(existingId) : undefined;
    const message: RecordedMessage = existing ?? {
      id: snowflake(),
      channelId: exchange.payload.channel_id,
      guildId: exchange.payload.guild_id ?? null,
      interactionId: exchange.id,
      content: '',
      embeds: [],
      components: [],
      flags: 0,
      allowedMentions: undefined,
      attachments: [],
      editCount: -1,
      loading: false,
    };
    if (data.content !== undefined) message.content = data.content ?? '';
    if (data.embeds !== undefined) message.embeds = data.embeds ?? [];
    if (data.components !== undefined) message.components = data.components ?? [];
    if (data.flags !== undefined && !existing) message.flags = data.flags ?? 0;
    if (data.allowed_mentions !== undefined) message.allowedMentions = data.allowed_mentions;
    if (files.length > 0 || data.attachments !== undefined) message.attachments = files;
    message.editCount += 1;
    this.messages.set(message.id, message);
    return message;
  }

  // --- REST -----------------------------------------------------------------------------------

  private async onHttpRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const path = decodeURIComponent(url.pathname).replace(/^\/api(\/v\d+)?/, '');
    const method = request.method ?? 'GET';
    const send = (status: number, body?: unknown) => {
      this.requests.push({ method, path, status });
      if (this.requests.length > 50_000) this.requests.splice(0, 25_000);
      if (body === undefined) {
        response.writeHead(status).end();
        return;
      }
      const text = JSON.stringify(body);
      response
        .writeHead(status, {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(text),
        })
        .end(text);
    };

    try {
      const body = await readBody(request);
      const answer = this.route(method, path, url, request, body);
      if (answer === undefined) {
        this.unknownRoutes.push({ method, path, status: 404 });
        send(404, { message: '404: Not Found', code: 0 });
        return;
      }
      send(answer.status, answer.body);
    } catch (error) {
      if (error instanceof SyntaxError) {
        send(400, { message: 'The request body contains invalid JSON.', code: 50109 });
      } else {
        send(500, { message: `fake Discord failed: ${(error as Error).message}`, code: 0 });
      }
    }
  }

  /** Answers a REST route, or undefined for a route the fake does not know. */
  private route(
    method: string,
    path: string,
    url: URL,
    request: IncomingMessage,
    raw: Buffer,
  ): { status: number; body?: unknown } | undefined {
    const parts = path.split('/').filter(Boolean);
    const interactionRoute = parts[0] === 'interactions' || parts[0] === 'webhooks';
    if (!interactionRoute && request.headers.authorization !== `Bot ${this.token}`) {
      return { status: 401, body: { message: '401: Unauthorized', code: 0 } };
    }

    if (method === 'GET' && path === '/gateway/bot') {
      return {
        status: 200,
        body: {
          url: this.gatewayUrl,
          shards: 1,
          session_start_limit: {
            total: 1000,
            remaining: 999,
            reset_after: 86_400_000,
            max_concurrency: 1,
          },
        },
      };
    }
    if (method === 'GET' && path === '/gateway')
      return { status: 200, body: { url: this.gatewayUrl } };
    if (method === 'GET' && path === '/users/@me') return { status: 200, body: this.botUser };
    if (method === 'GET' && (path === '/applications/@me' || path === '/oauth2/applications/@me')) {
      return { status: 200, body: this.applicationObject() };
    }

    // Command registration: /applications/{app}/commands or /applications/{app}/guilds/{g}/commands.
    if (parts[0] === 'applications' && parts[parts.length - 1] === 'commands') {
      const scope = parts[2] === 'guilds' ? parts[3] : 'global';
      if (parts[1] !== this.applicationId)
        return { status: 404, body: { message: 'Unknown Application', code: 10002 } };
      if (method === 'PUT') return this.registerCommands(scope, parseJson(raw, request).json);
      if (method === 'GET') {
        const last = [...this.commandRegistrations]
          .reverse()
          .find((entry) => entry.scope === scope);
        return { status: 200, body: last ? this.withCommandIds(last.body) : [] };
      }
    }

    if (parts[0] === 'interactions' && parts[3] === 'callback' && method === 'POST') {
      return this.interactionCallback(parts[1], parts[2], url, parseJson(raw, request));
    }

    if (parts[0] === 'webhooks' && parts[1] === this.applicationId) {
      const exchange = this.exchangeByToken(parts[2]);
      if (!exchange) return { status: 404, body: { message: 'Unknown Webhook', code: 10015 } };
      if (parts.length === 3 && method === 'POST') {
        return this.followUp(exchange, parseJson(raw, request));
      }
      if (parts[3] === 'messages' && parts[4]) {
        return this.webhookMessage(exchange, method, parts[4], parseJson(raw, request));
      }
    }
    return undefined;
  }

  private applicationObject(): any {
    return {
      id: this.applicationId,
      name: this.botUser.username,
      icon: null,
      description: '',
      bot_public: true,
      bot_require_code_grant: false,
      verify_key: '0'.repeat(64),
      flags: 0,
      owner: { ...this.botUser, id: '1000000000000000001', username: 'owner', bot: false },
      team: null,
    };
  }

  private registerCommands(scope: string, body: any): { status: number; body: unknown } {
    if (!Array.isArray(body))
      return { status: 400, body: { message: 'Invalid Form Body', code: 50035 } };
    this.registeredCommands = body;
    this.commandRegistrations.push({ scope, body });
    for (const command of body) if (command?.name) this.commandIdFor(command.name);
    this.emit('state');
    return { status: 200, body: this.withCommandIds(body, scope) };
  }

  private withCommandIds(body: any[], scope = 'global'): any[] {
    return body.map((command) => ({
      ...command,
      id: this.commandIdFor(command.name),
      application_id: this.applicationId,
      version: snowflake(),
      type: command.type ?? 1,
      ...(scope === 'global' ? {} : { guild_id: scope }),
      default_member_permissions: command.default_member_permissions ?? null,
    }));
  }

  private exchangeByToken(token: string): InteractionExchange | undefined {
    return this.exchangesByToken.get(token);
  }


  private interactionCallback(
    id: string,
    token: string,
    url: URL,
    parsed: ParsedBody,
  ): { status: number; body?: unknown } {
    const exchange = this.exchanges.get(id);
    if (!exchange || exchange.token !== token) {
      return { status: 404, body: { message: 'Unknown interaction', code: 10062 } };
    }
    const type: number = parsed.json?.type;
    const data = parsed.json?.data ?? {};
    const elapsedMs = performance.now() - exchange.sentAt;
    const record = (status: number, messageId?: string) =>
      exchange.record({
        kind: 'callback',
        callbackType: type,
        data,
        files: parsed.files,
        messageId,
        elapsedMs,
        status,
      });

    if (exchange.callbackType !== undefined) {
      record(400);
      return {
        status: 400,
        body: { message: 'Interaction has already been acknowledged.', code: 40060 },
      };
    }
    const problems = this.callbackProblems(exchange, type, data);
    if (problems.length > 0) {
      this.violations.push({ interactionId: id, route: `callback ${type}`, problems });
      record(400);
      return {
        status: 400,
        body: { message: `Invalid Form Body: ${problems.join('; ')}`, code: 50035 },
      };
    }

    // A defer shows a "thinking…" message at once: it is the @original that edits fill in.
    let message: RecordedMessage | undefined;
    if (type === CallbackType.ChannelMessageWithSource) {
      message = this.writeMessage(exchange, data, parsed.files);
      exchange.originalMessageId = message.id;
    } else if (type === CallbackType.DeferredChannelMessageWithSource) {
      message = this.writeMessage(exchange, { flags: data.flags ?? 0 }, []);
      message.loading = true;
      exchange.originalMessageId = message.id;
    } else if (type === CallbackType.UpdateMessage) {
      message = this.writeMessage(exchange, data, parsed.files, exchange.originalMessageId);
      exchange.originalMessageId = message.id;
    }
    record(200, message?.id);

    if (url.searchParams.get('with_response') !== 'true') return { status: 204 };
    return {
      status: 200,
      body: {
        interaction: {
          id: exchange.id,
          type: exchange.payload.type,
          response_message_id: message?.id,
          response_message_loading: type === 5,
          response_message_ephemeral: ((data.flags ?? 0) & EPHEMERAL) !== 0,
        },
        resource: { type, ...(message ? { message: this.apiMessage(message) } : {}) },
      },
    };
  }

  private callbackProblems(exchange: InteractionExchange, type: number, data: any): string[] {
    const interactionType = exchange.payload.type;
    if (interactionType === InteractionType.ApplicationCommandAutocomplete) {
      return type === 8 ? autocompleteViolations(data) : [`callback ${type} to an autocomplete`];
    }
    if (type === 8) return ['autocomplete choices answered to a non-autocomplete interaction'];
    if ((type === 6 || type === 7) && interactionType !== InteractionType.MessageComponent) {
      return [`callback ${type} is only valid for a component interaction`];
    }
    if (type === 4 || type === 7) return messageLimitViolations(data);
    if (type === 5 || type === 6 || type === 9) return [];
    return [`unknown callback type ${type}`];
  }

  private followUp(
    exchange: InteractionExchange,
    parsed: ParsedBody,
  ): { status: number; body: unknown } {
    const elapsedMs = performance.now() - exchange.sentAt;
    const data = parsed.json ?? {};
    if (exchange.callbackType === undefined) {
      exchange.record({ kind: 'followup', data, files: parsed.files, elapsedMs, status: 404 });
      return { status: 404, body: { message: 'Unknown Webhook', code: 10015 } };
    }
    const problems = messageLimitViolations(data);
    if (problems.length > 0) {
      this.violations.push({ interactionId: exchange.id, route: 'follow-up', problems });
      exchange.record({ kind: 'followup', data, files: parsed.files, elapsedMs, status: 400 });
      return {
        status: 400,
        body: { message: `Invalid Form Body: ${problems.join('; ')}`, code: 50035 },
      };
    }

    // The first follow-up to a defer fills in the "thinking…" message, as on Discord.
    const loading =
      exchange.originalMessageId === undefined
        ? undefined
        : this.messages.get(exchange.originalMessageId);
    let message: RecordedMessage;
    if (loading?.loading) {
      message = this.writeMessage(exchange, data, parsed.files, loading.id);
      message.loading = false;
    } else {
      message = this.writeMessage(exchange, data, parsed.files);
      exchange.followUpIds.push(message.id);
    }
    exchange.record({
      kind: 'followup',
      data,
      files: parsed.files,
      messageId: message.id,
      elapsedMs,
      status: 200,
    });
    return { status: 200, body: this.apiMessage(message) };
  }

  private webhookMessage(
    exchange: InteractionExchange,
    method: string,
    messageKey: string,
    parsed: ParsedBody,
  ): { status: number; body?: unknown } | undefined {
    const elapsedMs = performance.now() - exchange.sentAt;
    const data = parsed.json ?? {};
    const messageId = messageKey === '@original' ? exchange.originalMessageId : messageKey;
    const known =
      messageId !== undefined &&
      (messageId === exchange.originalMessageId || exchange.followUpIds.includes(messageId)) &&
      this.messages.has(messageId);
    const kind = method === 'DELETE' ? 'delete' : 'edit';
    if (exchange.callbackType === undefined || !known) {
      exchange.record({ kind, data, files: parsed.files, elapsedMs, status: 404 });
      return { status: 404, body: { message: 'Unknown Message', code: 10008 } };
    }

    if (method === 'GET')
      return { status: 200, body: this.apiMessage(this.messages.get(messageId)!) };
    if (method === 'DELETE') {
      this.messages.delete(messageId);
      exchange.record({ kind, data: {}, files: [], messageId, elapsedMs, status: 204 });
      return { status: 204 };
    }
    if (method !== 'PATCH') return undefined;

    const problems = messageLimitViolations(data);
    if (problems.length > 0) {
      this.violations.push({ interactionId: exchange.id, route: `edit ${messageKey}`, problems });
      exchange.record({ kind, data, files: parsed.files, elapsedMs, status: 400 });
      return {
        status: 400,
        body: { message: `Invalid Form Body: ${problems.join('; ')}`, code: 50035 },
      };
    }
    const message = this.writeMessage(exchange, data, parsed.files, messageId);
    message.loading = false;
    exchange.record({ kind, data, files: parsed.files, messageId, elapsedMs, status: 200 });
    return { status: 200, body: this.apiMessage(message) };
  }

  // --- gateway --------------------------------------------------------------------------------

  private onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/gateway') {
      socket.destroy();
      return;
    }
    this.gateway.handleUpgrade(request, socket, head, (ws) => this.gateway.emit('connection', ws));
  }

  private onGatewayConnection(socket: WebSocket): void {
    this.sockets.add(socket);
    socket.on('close', () => {
      this.sockets.delete(socket);
      if (this.session?.socket === socket) this.session.socket = undefined;
    });
    socket.on('error', () => socket.terminate());
    socket.on('message', (raw) => this.onGatewayMessage(socket, raw.toString()));
    socket.send(JSON.stringify({ op: 10, d: { heartbeat_interval: this.heartbeatIntervalMs } }));
  }

  private onGatewayMessage(socket: WebSocket, text: string): void {
    let message: any;
    try {
      message = JSON.parse(text);
    } catch {
      this.closeWith(socket, 4002, 'Decode error');
      return;
    }
    switch (message.op) {
      case 1:
        socket.send(JSON.stringify({ op: 11 }));
        return;
      case 2:
        this.onIdentify(socket, message.d);
        return;
      case 6:
        this.onResume(socket, message.d);
        return;
      default:
        // Presence updates, voice state, member requests: accepted and ignored.
        return;
    }
  }

  private onIdentify(socket: WebSocket, data: any): void {
    if (data?.token !== this.token && data?.token !== `Bot ${this.token}`) {
      this.closeWith(socket, 4004, 'Authentication failed.');
      return;
    }
    if (this.session?.socket && this.session.socket !== socket) this.session.socket.terminate();
    this.intents = data.intents;
    this.session = { id: `session-${snowflake()}`, sequence: 0, log: [], socket };
    this.dispatch('READY', {
      v: 10,
      user: this.botUser,
      application: { id: this.applicationId, flags: 0 },
      guilds: this.guildIds.map((id) => ({ id, unavailable: true })),
      session_id: this.session.id,
      resume_gateway_url: this.gatewayUrl,
      shard: [0, 1],
    });
    for (const guildId of this.guildIds) this.dispatch('GUILD_CREATE', this.guildObject(guildId));
    this.identifyCount += 1;
    this.emit('state');
  }

  private onResume(socket: WebSocket, data: any): void {
    const session = this.session;
    if (data?.token !== this.token && data?.token !== `Bot ${this.token}`) {
      this.closeWith(socket, 4004, 'Authentication failed.');
      return;
    }
    if (!session || data.session_id !== session.id) {
      socket.send(JSON.stringify({ op: 9, d: false }));
      return;
    }
    if (session.socket && session.socket !== socket) session.socket.terminate();
    session.socket = socket;
    for (const entry of session.log) if (entry.s > (data.seq ?? 0)) socket.send(entry.payload);
    this.dispatch('RESUMED', null);
    this.resumeCount += 1;
    this.emit('state');
  }

  private closeWith(socket: WebSocket, code: number, reason: string): void {
    this.closeCodes.push(code);
    socket.close(code, reason);
    this.emit('state');
  }

  private guildObject(guildId: string): any {
    const everyone = {
      id: guildId,
      name: '@everyone',
      permissions: ALL_PERMISSIONS,
      position: 0,
      color: 0,
      hoist: false,
      managed: false,
      mentionable: false,
      flags: 0,
    };
    const channel = {
      id: textChannelIdFor(guildId),
      type: 0,
      guild_id: guildId,
      name: 'general',
      position: 0,
      permission_overwrites: [],
      nsfw: false,
      parent_id: null,
      topic: null,
      flags: 0,
    };
    return {
      id: guildId,
      name: `guild ${guildId}`,
      icon: null,
      owner_id: '1000000000000000001',
      roles: [everyone],
      emojis: [],
      stickers: [],
      features: [],
      channels: [channel],
      threads: [],
      members: [],
      presences: [],
      voice_states: [],
      stage_instances: [],
      guild_scheduled_events: [],
      member_count: 2,
      large: false,
      unavailable: false,
      joined_at: new Date(0).toISOString(),
      preferred_locale: 'en-US',
      premium_tier: 0,
      system_channel_flags: 0,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      mfa_level: 0,
      nsfw_level: 0,
      afk_timeout: 300,
      afk_channel_id: null,
      system_channel_id: null,
    };
  }

  private waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const listener = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.off('state', listener);
        resolve();
      };
      const timer = setTimeout(() => {
        this.off('state', listener);
        reject(
          new Error(
            `fake Discord: no ${what} within ${timeoutMs} ms (close codes: ${this.closeCodes})`,
          ),
        );
      }, timeoutMs);
      this.on('state', listener);
    });
  }
}

interface ParsedBody {
  json: any;
  files: RecordedFile[];
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/**
 * Parses a JSON body, or a multipart/form-data body whose `payload_json` part holds the JSON and
 * whose other parts are files. Multipart is parsed synchronously enough for the fake: the
 * boundary split below handles what discord.js (undici FormData) sends.
 */
function parseJson(raw: Buffer, request: IncomingMessage): ParsedBody {
  const contentType = request.headers['content-type'] ?? '';
  if (raw.length === 0) return { json: undefined, files: [] };
  if (!contentType.startsWith('multipart/form-data')) {
    return { json: JSON.parse(raw.toString('utf8')), files: [] };
  }
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  if (!boundary) throw new Error('multipart body without a boundary');
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const files: RecordedFile[] = [];
  let json: any;
  let start = raw.indexOf(delimiter);
  while (start !== -1) {
    const next = raw.indexOf(delimiter, start + delimiter.length);
    if (next === -1) break;
    const part = raw.subarray(start + delimiter.length + 2, next - 2);
    const headerEnd = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, headerEnd).toString('utf8');
    const content = part.subarray(headerEnd + 4);
    const name = /name="([^"]*)"/.exec(headers)?.[1] ?? '';
    const filename = /filename="([^"]*)"/.exec(headers)?.[1];
    const partType = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1] ?? 'application/octet-stream';
    if (name === 'payload_json') json = JSON.parse(content.toString('utf8'));
    else if (filename !== undefined)
      files.push({ field: name, filename, size: content.length, contentType: partType });
    start = next;
  }
  return { json, files };
}
