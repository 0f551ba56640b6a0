import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CliCommand } from '../src/cli/command.ts';
import { UsageError } from '../src/cli/command.ts';
import { infoCommand } from '../src/cli/info.ts';
import { parseArtistList, recommendCommand } from '../src/cli/recommend.ts';
import { similarCommand } from '../src/cli/similar.ts';
import { MODEL_FORMAT_VERSION, writeModel } from '../src/model/modelFile.ts';
import { Recommender } from '../src/model/recommender.ts';
import { tinyModel } from './support/tinyModel.ts';

let dir = '';
let modelPath = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cli-serving-'));
  modelPath = join(dir, 'tiny.nmf');
  await writeModel(modelPath, tinyModel());
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a command in-process, capturing what it prints. */
async function run(command: CliCommand, argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  const write = process.stdout.write;
  console.log = (...parts: unknown[]) => out.push(parts.join(' '));
  console.error = (...parts: unknown[]) => err.push(parts.join(' '));
  process.stdout.write = ((chunk: string) => {
    out.push(String(chunk).replace(/\n$/, ''));
    return true;
  }) as typeof process.stdout.write;
  try {
    const code = await command.run(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
    process.stdout.write = write;
  }
}

test('similar prints a table, JSON, and suggestions for a misspelt name', async () => {
  const table = await run(similarCommand, ['Drake', '--top', '3', '--model', modelPath]);
  assert.equal(table.code, 0);
  assert.match(table.out, /Artists similar to Drake/);
  assert.equal(table.out.split('\n').length, 4);
  assert.match(table.out, /Kanye West/);

  const json = await run(similarCommand, [
    'sigur',
    'ros',
    '--json',
    '--top',
    '2',
    '--model',
    modelPath,
  ]);
  const parsed = JSON.parse(json.out);
  assert.equal(parsed.artist.name, 'Sigur Rós');
  assert.equal(parsed.similar.length, 2);
  assert.ok(parsed.similar.every((s: { similarity: number }) => s.similarity > 0.9));

  const typo = await run(similarCommand, ['Metalica', '--model', modelPath]);
  assert.equal(typo.code, 1);
  assert.equal(typo.out, '');
  assert.match(typo.err, /No artist named "Metalica".*Did you mean: Metallica/);
});

test('similar --ids-file: one JSON line per id, [] and a warning for unknown ids', async () => {
  const ids = join(dir, 'ids.txt');
  writeFileSync(ids, '1001\r\n1017\n\n424242\n');
  const result = await run(similarCommand, ['--ids-file', ids, '--top', '3', '--model', modelPath]);
  assert.equal(result.code, 0);
  const lines = result.out.split('\n').map((line) => JSON.parse(line));
  assert.equal(lines.length, 3);
  assert.equal(lines[0].artist, 1001);
  assert.equal(lines[0].similar.length, 3);
  assert.ok(
    lines[0].similar.every((id: number) => id >= 1002 && id <= 1008),
    'hip-hop ids',
  );
  assert.ok(
    lines[1].similar.every((id: number) => id >= 1017 && id <= 1023),
    'metal ids',
  );
  assert.deepEqual(lines[2], { artist: 424242, similar: [] });
  assert.match(result.err, /line 4: no artist with id "424242"/);
});

test('recommend --artists lists picks with their reason; unknown names exit 1', async () => {
  const result = await run(recommendCommand, [
    '--artists',
    'Metallica:3,slayer',
    '--top',
    '3',
    '--json',
    '--model',
    modelPath,
  ]);
  assert.equal(result.code, 0);
  const picks = JSON.parse(result.out);
  assert.equal(picks.length, 3);
  for (const pick of picks) {
    assert.ok(
      ['Iron Maiden', 'Black Sabbath', 'Megadeth', 'Pantera', 'Motörhead'].includes(pick.name),
    );
    assert.ok(['Metallica', 'Slayer'].includes(pick.because));
  }
  const unknown = await run(recommendCommand, [
    '--artists',
    'Drake,Metalica',
    '--model',
    modelPath,
  ]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /Did you mean: Metallica/);
});

test('recommend --input prints one JSON line per user in order of appearance', async () => {
  const input = join(dir, 'user_artists.dat');
  writeFileSync(
    input,
    'userID\tartistID\tweight\r\n7\t1017\t500\r\n2\t1001\t30\r\n' + '7 1018 20\r\n9\t555555\t1\r\n',
  );
  const result = await run(recommendCommand, [
    '--input',
    input,
    '--top',
    '4',
    '--model',
    modelPath,
  ]);
  assert.equal(result.code, 0);
  const lines = result.out.split('\n').map((line) => JSON.parse(line));
  assert.deepEqual(
    lines.map((line) => line.user),
    [7, 2, 9],
  );
  assert.equal(lines[0].artists.length, 4);
  assert.ok(lines[0].artists.every((id: number) => id >= 1019 && id <= 1023));
  assert.ok(lines[1].artists.every((id: number) => id >= 1002 && id <= 1008));
  assert.deepEqual(lines[2].artists, []);
  assert.match(result.err, /1 of 4 rows/);

  writeFileSync(input, '7\t1017\t500\n7\tabc\n');
  await assert.rejects(
    run(recommendCommand, ['--input', input, '--model', modelPath]),
    (error: Error) => error instanceof UsageError && /:2: expected/.test(error.message),
  );
});

test('parseArtistList: weights, escapes and bad weights', () => {
  assert.deepEqual(parseArtistList('Drake:2, Radiohead ,Björk:0.5'), [
    { name: 'Drake', weight: 2 },
    { name: 'Radiohead', weight: 1 },
    { name: 'Björk', weight: 0.5 },
  ]);
  assert.deepEqual(parseArtistList('Crosby\\, Stills\\, Nash & Young:3,Re\\:Stacks'), [
    { name: 'Crosby, Stills, Nash & Young', weight: 3 },
    { name: 'Re:Stacks', weight: 1 },
  ]);
  assert.deepEqual(parseArtistList('A:b:2,'), [{ name: 'A:b', weight: 2 }]);
  for (const bad of ['Drake:x', 'Drake:-1', 'Drake:', ',Drake', '', 'Drake:0']) {
    assert.throws(() => parseArtistList(bad), UsageError, bad);
  }
});

test('info describes the file; options and files are checked with one-line errors', async () => {
  const info = await run(infoCommand, ['--model', modelPath]);
  assert.equal(info.code, 0);
  assert.match(info.out, new RegExp(`Format version {2}${MODEL_FORMAT_VERSION}\n`));
  assert.match(info.out, /Artists {9}31/);
  assert.match(info.out, /Components {6}4/);
  // A model whose header names no solver was trained before the implicit one existed.
  assert.match(info.out, /Solver {10}frobenius/);
  assert.match(info.out, /Similar lists {3}none stored: ranked when asked/);

  // With lists for its 12 most listened artists, info says so.
  const listed = tinyModel();
  listed.neighbourLists = new Recommender(listed).neighbourLists(12);
  const listedPath = join(dir, 'listed.nmf');
  await writeModel(listedPath, listed);
  const withLists = await run(infoCommand, ['--model', listedPath]);
  assert.match(withLists.out, /Similar lists {3}stored for the 12 most listened artists, 25 each/);
  const json = JSON.parse((await run(infoCommand, ['--json', '--model', modelPath])).out);
  assert.equal(json.meta.iterations, 42);
  assert.equal(json.artists, 31);

  const usage = (command: CliCommand, argv: string[], pattern: RegExp) =>
    assert.rejects(
      run(command, argv),
      (error: Error) =>
        error instanceof UsageError && pattern.test(error.message) && !error.message.includes('\n'),
    );
  await usage(similarCommand, ['Drake', '--top', '0', '--model', modelPath], /--top/);
  await usage(similarCommand, ['Drake', '--bogus'], /bogus/);
  await usage(similarCommand, ['--model', modelPath], /name an artist/);
  await usage(similarCommand, ['Drake', '--model', join(dir, 'missing.nmf')], /no such file/);
  await usage(recommendCommand, ['--model', modelPath], /exactly one/);
  await usage(infoCommand, ['--model', join(dir, 'user_artists.dat')], /too short|not a model/);
});

test('the dispatcher prints bad input as one line and exits 1, no stack trace', async () => {
  const execute = promisify(execFile);
  const failure = await execute(process.execPath, [
    '--import',
    'tsx',
    'src/cli.ts',
    'similar',
    'Drake',
    '--model',
    join(dir, 'nope.nmf'),
  ]).then(
    () => undefined,
    (error: { code: number; stderr: string }) => error,
  );
  assert.ok(failure !== undefined, 'must exit non-zero');
  assert.equal(failure.code, 1);
  assert.equal(failure.stderr.trim().split('\n').length, 1);
  assert.match(failure.stderr, /^similar: .*nope\.nmf: no such file/);
});
