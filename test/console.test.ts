/**
 * The console transport: parsing typed commands against the registered JSON, rendering replies
 * as text with numbered actions, and `npm start` without a token answering piped commands.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { ButtonStyle, ComponentType } from 'discord.js';
import { COMMANDS } from '../src/commands/index.ts';
import { writeModel } from '../src/model/modelFile.ts';
import {
  ConsoleSession, helpText, parseCommandLine, plainText, relativeTime, renderReply, runConsole,
} from '../src/transports/console.ts';
import { ALICE, commandHarness } from './support/commandHarness.ts';
import { tinyModel } from './support/tinyModel.ts';

const REPOSITORY = fileURLToPath(new URL('..', import.meta.url));

function parse(line: string) {
  const parsed = parseCommandLine(line, COMMANDS, ALICE);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.request;
}

function refusal(line: string): string {
  const parsed = parseCommandLine(line, COMMANDS, ALICE);
  assert.equal(parsed.ok, false, line);
  return parsed.ok ? '' : parsed.message;
}

test('option values may be quoted or run to the next option', () => {
  assert.equal(parse('/similar artist:"Sigur Rós" count:5').options.getString('artist'),
    'Sigur Rós');
  const unquoted = parse('/similar artist:Sigur Rós count:5');
  assert.equal(unquoted.options.getString('artist'), 'Sigur Rós');
  assert.equal(unquoted.options.getInteger('count'), 5);
  assert.equal(parse('/similar count:3 artist:The National').options.getString('artist'),
    'The National');
  assert.equal(parse('/similar artist:"Foo: Bar"').options.getString('artist'), 'Foo: Bar');
  assert.equal(parse('similar artist:Drake').commandName, 'similar');

  const taste = parse('/taste add artist:Radiohead weight:3');
  assert.deepEqual([taste.commandName, taste.subcommand, taste.options.getInteger('weight')],
    ['taste', 'add', 3]);
});

test('a command with subcommands defaults to the one needing no options', () => {
  assert.equal(parse('/model').subcommand, 'info');
  assert.equal(parse('/taste').subcommand, 'list');
  assert.equal(parse('/model retrain').subcommand, 'retrain');
});

test('bad lines get a message saying what is wrong', () => {
  assert.match(refusal('/nope'), /Unknown command/);
  assert.match(refusal('/similar'), /Missing artist/);
  assert.match(refusal('/similar artist:Drake count:many'), /count must be a whole number/);
  assert.match(refusal('/similar artist:Drake count:26'), /from 1 to 25/);
  assert.match(refusal('/taste add artist:Drake weight:0'), /from 1 to 100/);
  assert.match(refusal('/similar Drake'), /I don't understand "Drake"/);
  assert.match(refusal('/taste frobnicate'), /needs one of: add, remove, list, clear/);
});

test('replies render as text with numbered actions for buttons and menu entries', () => {
  const rendered = renderReply({
    content: 'Added **Sigur Rós** \\(weight 3\\) <t:0:f>',
    embeds: [{ title: 'Artists similar to Björk',
      description: '**1.** [**Sigur Rós**](https://x.example) `██░` 92%',
      fields: [{ name: 'Artists', value: '31' }], footer: { text: 'model' } }],
    components: [
      { type: ComponentType.ActionRow, components: [
        { type: ComponentType.Button, style: ButtonStyle.Success, custom_id: 'similar:add:bjork',
          label: 'Add Björk' },
        { type: ComponentType.Button, style: ButtonStyle.Secondary, custom_id: 'taste:prev:1:0',
          label: 'Previous', disabled: true },
      ] },
      { type: ComponentType.ActionRow, components: [{ type: ComponentType.StringSelect,
        custom_id: 'similar:pick:10', options: [{ label: 'Sigur Rós', value: 'sigur ros' },
          { label: 'Portishead', value: 'portishead' }] }] },
    ],
    ephemeral: true,
  });
  assert.match(rendered.text, /only you can see this/);
  assert.match(rendered.text, /Added Sigur Rós \(weight 3\) 1970-01-01 00:00 UTC/);
  assert.match(rendered.text, /1\. Sigur Rós ██░ 92%/);
  assert.match(rendered.text, /Artists: 31/);
  assert.match(rendered.text, /\[!1\] Add Björk/);
  assert.doesNotMatch(rendered.text, /Previous/);
  assert.match(rendered.text, /!2 Sigur Rós {3}!3 Portishead/);
  assert.deepEqual(rendered.actions, [
    { label: 'Add Björk', customId: 'similar:add:bjork' },
    { label: 'Sigur Rós', customId: 'similar:pick:10', values: ['sigur ros'] },
    { label: 'Portishead', customId: 'similar:pick:10', values: ['portishead'] },
  ]);
  assert.equal(plainText('\\*NSYNC \\[x\\]'), '*NSYNC [x]');
  assert.equal(relativeTime(Date.UTC(2026, 0, 1, 3), Date.UTC(2026, 0, 1)), 'in 3 hours');
  assert.equal(relativeTime(Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 1, 0, 1)), '1 minute ago');
  assert.equal(relativeTime(Date.UTC(2025, 0, 1), Date.UTC(2026, 0, 2)), '1 year ago');
});

test('a console session runs commands and presses numbered actions', async () => {
  const bot = commandHarness();
  const session = new ConsoleSession(bot.dispatcher, ALICE);
  const similar = await session.handleLine('/similar artist:Drake count:3');
  assert.match(similar, /Artists similar to Drake/);
  assert.match(similar, /\[!1\] Add Drake to my taste/);

  const added = await session.handleLine('!1');
  assert.match(added, /Added Drake to your taste/);
  assert.deepEqual(bot.storage.listTaste(ALICE.id).map((entry) => entry.artistName), ['Drake']);

  // The menu of the similar reply is still there: !2 is its first entry.
  const hop = await session.handleLine('!2');
  assert.match(hop, /Artists similar to /);
  assert.match(await session.handleLine('!99'), /Choose an action from !1/);
  assert.match(await session.handleLine('/help'), /\/taste add artist:<…> \[weight:<…>\]/);
  assert.equal(await session.handleLine('   '), '');
  assert.match(await session.handleLine('/similar count:x artist:y'), /whole number/);
  assert.ok(session.complete('/similar artist:Radio').includes('Radiohead'));
  assert.ok(session.complete('/taste add artist:Metal').includes('Metallica'));
});

test('runConsole answers piped lines and ends at EOF', async () => {
  const bot = commandHarness();
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.on('data', (chunk: Buffer) => { text += chunk.toString(); });
  const done = runConsole({ dispatcher: bot.dispatcher, input, output, user: ALICE });
  input.end('/taste add artist:Muse weight:2\n/taste list\n');
  await done;
  assert.match(text, /> \/taste add artist:Muse weight:2\n.*Added \*?\*?Muse/s);
  assert.match(text, /1\. Muse · weight 2/);
  assert.ok(helpText(COMMANDS).includes('/forget-me'));
});

test('runConsole stops when its signal aborts, though input stays open', async () => {
  const bot = commandHarness();
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.on('data', (chunk: Buffer) => { text += chunk.toString(); });
  const stop = new AbortController();
  const done = runConsole({ dispatcher: bot.dispatcher, input, output, user: ALICE,
    signal: stop.signal });
  input.write('/model\n');
  await new Promise((resolve) => setTimeout(resolve, 50));
  stop.abort();
  await done;
  assert.match(text, /Serving model/);
  assert.equal(input.writableEnded, false);
});

test('npm start without a token opens the console and answers piped commands', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'bot-console-'));
  try {
    const modelPath = join(directory, 'tiny.nmf');
    await writeModel(modelPath, tinyModel());
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/bot.ts'], {
      cwd: REPOSITORY,
      env: { ...process.env, DISCORD_TOKEN: '', MODEL_PATH: modelPath,
        DATABASE_PATH: join(directory, 'bot.sqlite'), LOG_LEVEL: 'warn',
        COMMAND_COOLDOWN_SECONDS: '0' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.stdin.end('/similar artist:Drake count:3\n/taste add artist:"Sigur Rós" weight:3\n' +
      '/recommend count:2\n');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));

    assert.equal(code, 0, stderr);
    assert.match(stdout, /Artists similar to Drake/);
    assert.match(stdout, /Added Sigur Rós to your taste \(weight 3\)/);
    assert.match(stdout, /because you like Sigur Rós/);
    assert.equal(stderr, '');
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test('npm start with a bad configuration lists the problems and exits 1', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/bot.ts'], {
    cwd: REPOSITORY,
    env: { ...process.env, DISCORD_TOKEN: 'abc.def.ghi-secret-token', DISCORD_CLIENT_ID: '',
      LOG_LEVEL: 'shouty' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 1);
  assert.match(stderr, /LOG_LEVEL/);
  assert.match(stderr, /DISCORD_CLIENT_ID is required/);
  assert.doesNotMatch(stderr, /secret-token/);
});
