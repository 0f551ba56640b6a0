/**
 * Every command's logic through the dispatcher, on tinyModel() and an in-memory database:
 * what members see, what is stored, and what is logged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Recommender } from '../src/model/recommender.ts';
import { TASTE_PAGE_SIZE } from '../src/commands/taste.ts';
import { escapeMarkdown } from '../src/interactions/text.ts';
import type { RetrainControl, RetrainStatus } from '../src/interactions/retrainControl.ts';
import {
  ALICE, BOB, buttonLabels, commandHarness, numberedLines, selectMenu,
} from './support/commandHarness.ts';
import { TINY_CLUSTERS, tinyModel } from './support/tinyModel.ts';

/** Cosine of two artists' similarity embeddings, computed here from the raw arrays. */
function cosine(names: [string, string]): number {
  const model = tinyModel();
  const rows = names.map((name) => model.artists.findIndex((artist) => artist.name === name));
  const k = model.components;
  let dot = 0;
  let left = 0;
  let right = 0;
  for (let c = 0; c < k; c += 1) {
    const a = model.similarityEmbedding[rows[0] * k + c];
    const b = model.similarityEmbedding[rows[1] * k + c];
    dot += a * b;
    left += a * a;
    right += b * b;
  }
  return dot / Math.sqrt(left * right);
}

function resultName(line: string): string {
  return /^\*\*\d+\.\*\* (?:\[)?\*\*(.+?)\*\*/.exec(line)?.[1]?.replace(/\\(.)/g, '$1') ?? '';
}

const HIP_HOP = TINY_CLUSTERS[0].artists.map(([name]) => name);
const ALTERNATIVE = TINY_CLUSTERS[1].artists.map(([name]) => name);

test('/similar lists 10 neighbours with bars and percentages matching the cosine', async () => {
  const bot = commandHarness();
  const reply = await bot.run('/similar artist:Drake');

  assert.equal(reply.ephemeral, undefined);
  assert.match(reply.embeds?.[0]?.title ?? '', /Drake/);
  const lines = numberedLines(reply);
  assert.equal(lines.length, 10);

  // The hip-hop cluster comes first, and each percentage is the cosine in percent.
  const names = lines.map(resultName);
  assert.deepEqual(new Set(names.slice(0, 7)), new Set(HIP_HOP.filter((name) => name !== 'Drake')));
  for (const line of lines) {
    const percent = Number(/ (\d+)%$/.exec(line)?.[1]);
    const expected = Math.max(0, cosine(['Drake', resultName(line)])) * 100;
    assert.ok(Math.abs(percent - expected) <= 0.51, `${line}: ${percent} vs ${expected}`);
    assert.match(line, /`[█░]{10}`/);
  }

  // Button to add Drake, and a menu of the results.
  assert.deepEqual(buttonLabels(reply), ['Add Drake to my taste']);
  assert.deepEqual(selectMenu(reply)?.options.map((option) => option.label), names);
});

test('/similar clamps count to 1..25 and honours it', async () => {
  const bot = commandHarness();
  assert.equal(numberedLines(await bot.run('/similar artist:Radiohead count:3')).length, 3);
  assert.equal(numberedLines(await bot.runRaw('similar', { artist: 'Radiohead', count: 99 }))
    .length, 25);
  assert.equal(numberedLines(await bot.runRaw('similar', { artist: 'Radiohead', count: 0 }))
    .length, 1);
  assert.equal(numberedLines(await bot.runRaw('similar', { artist: 'Radiohead', count: -5 }))
    .length, 1);
});

test('/similar with an unknown name answers privately with suggestions to pick', async () => {
  const bot = commandHarness();
  const reply = await bot.run('/similar artist:Radiohed count:4');
  assert.equal(reply.ephemeral, true);
  assert.match(reply.content ?? '', /couldn't find \*\*Radiohed\*\*/);
  assert.match(reply.content ?? '', /Did you mean/);
  const menu = selectMenu(reply);
  assert.ok(menu !== undefined && menu.options.some((option) => option.label === 'Radiohead'));

  // Picking the suggestion runs /similar for it in place, keeping count:4.
  const index = menu.options.findIndex((option) => option.label === 'Radiohead');
  const picked = await bot.press(reply, { select: index });
  assert.equal(picked.update, true);
  assert.match(picked.embeds?.[0]?.title ?? '', /Radiohead/);
  assert.equal(numberedLines(picked).length, 4);

  // Nonsense gets no suggestions but a clear sentence.
  const nothing = await bot.run('/similar artist:zzzzqqqqxxxx');
  assert.equal(nothing.ephemeral, true);
  assert.match(nothing.content ?? '', /couldn't find/);
});

test('picking a result from the menu shows its neighbours in place', async () => {
  const bot = commandHarness();
  const reply = await bot.run('/similar artist:Metallica count:5');
  const menu = selectMenu(reply);
  const chosen = menu?.options[1]?.label ?? '';
  const next = await bot.press(reply, { select: 1 });
  assert.equal(next.update, true);
  assert.equal(next.embeds?.[0]?.title, `Artists similar to ${escapeMarkdown(chosen)}`);
  assert.equal(numberedLines(next).length, 5);
});

test('the request log gets one row per artist-naming command, autocomplete none', async () => {
  const bot = commandHarness();
  await bot.run('/similar artist:drake');
  await bot.run('/similar artist:Radiohed');
  await bot.run('/taste add artist:Muse weight:2');
  bot.autocomplete('similar', 'artist', 'Rad');
  await bot.run('/taste list');

  const rows = bot.loggedRequests();
  assert.equal(rows.length, 3);
  assert.deepEqual(rows.map((row) => [row.command, row.artist_name, row.query]), [
    ['similar', 'Drake', 'drake'],
    ['similar', null, 'Radiohed'],
    ['taste add', 'Muse', 'Muse'],
  ]);
  assert.equal(rows[0].user_id, ALICE.id);
  assert.equal(rows[0].guild_id, '200000000000000001');
  assert.equal(rows[0].channel_id, '300000000000000001');
});

test('a failing request-log write is logged and the reply still arrives', async () => {
  const bot = commandHarness();
  bot.storage.logRequest = () => { throw new Error('disk full'); };
  const reply = await bot.run('/similar artist:Drake');
  assert.equal(numberedLines(reply).length, 10);
  assert.ok(bot.logLines.some((line) => line.msg === 'request log write failed'));
});

test('"Add to my taste" adds once, then says it is already there', async () => {
  const bot = commandHarness();
  const reply = await bot.run('/similar artist:Björk');
  const added = await bot.press(reply, { label: 'Add Björk to my taste' });
  assert.equal(added.ephemeral, true);
  assert.match(added.content ?? '', /Added \*\*Björk\*\*/);
  assert.deepEqual(bot.storage.listTaste(ALICE.id).map((entry) => [entry.artistName,
    entry.weight]), [['Björk', 1]]);

  const again = await bot.press(reply, { label: 'Add Björk to my taste' }, ALICE);
  assert.match(again.content ?? '', /already in your taste/);
  assert.equal(bot.storage.listTaste(ALICE.id).length, 1);

  // Bob's click adds to Bob's taste, not Alice's.
  await bot.press(reply, { label: 'Add Björk to my taste' }, BOB);
  assert.equal(bot.storage.listTaste(BOB.id).length, 1);
});

test('/taste add stores the weight and an update says what changed', async () => {
  const bot = commandHarness();
  const first = await bot.run('/taste add artist:"Sigur Rós" weight:3');
  assert.match(first.content ?? '', /Added \*\*Sigur Rós\*\* to your taste \(weight 3\)/);
  const second = await bot.run('/taste add artist:sigur ros weight:7');
  assert.match(second.content ?? '', /already in your taste: weight 3 → 7/);
  const third = await bot.run('/taste add artist:Sigur Ros');
  assert.match(third.content ?? '', /weight 7 → 1/);
  assert.deepEqual(bot.storage.listTaste(ALICE.id).map((entry) => entry.weight), [1]);

  // Out-of-range weights (possible from a raw request) are refused, nothing stored.
  const heavy = await bot.runRaw('taste', { artist: 'Muse', weight: 101 }, ALICE, 'add');
  assert.match(heavy.content ?? '', /1 to 100/);
  assert.equal(bot.storage.listTaste(ALICE.id).length, 1);

  // A misspelt name offers suggestions; picking one adds it with the weight asked for.
  const typo = await bot.run('/taste add artist:Metalica weight:4');
  assert.equal(typo.ephemeral, true);
  const index = selectMenu(typo)?.options.findIndex((option) => option.label === 'Metallica') ?? -1;
  assert.ok(index >= 0);
  const picked = await bot.press(typo, { select: index });
  assert.match(picked.content ?? '', /Added \*\*Metallica\*\*.*weight 4/);
});

test('/taste remove removes by any spelling and says when it is absent', async () => {
  const bot = commandHarness();
  await bot.run('/taste add artist:Beyoncé');
  await bot.run('/taste add artist:Muse');
  const removed = await bot.run('/taste remove artist:beyonce');
  assert.match(removed.content ?? '', /Removed \*\*Beyoncé\*\*.*1 artist left/);
  assert.deepEqual(bot.storage.listTaste(ALICE.id).map((entry) => entry.artistName), ['Muse']);

  const absent = await bot.run('/taste remove artist:Drake');
  assert.match(absent.content ?? '', /isn't in your taste/);
  assert.equal(bot.storage.listTaste(ALICE.id).length, 1);

  // Autocomplete offers the member's own artists.
  assert.deepEqual(bot.autocomplete('taste', 'artist', 'mu', ALICE, 'remove'),
    [{ name: 'Muse', value: 'Muse' }]);
});

test('/taste list pages by 15 with previous/next buttons, and shows other members', async () => {
  const bot = commandHarness();
  const names = tinyModel().artists.map((artist) => artist.name).slice(0, 20);
  for (const name of names) bot.storage.addTaste(ALICE.id, { key: name.toLowerCase(), name }, 1);

  const first = await bot.run('/taste list');
  assert.equal(numberedLines(first).length, TASTE_PAGE_SIZE);
  assert.match(first.embeds?.[0]?.footer?.text ?? '', /Page 1\/2 · 20 artists/);
  const [previous, next] = (first.components?.[0]?.components ?? []) as { disabled?: boolean }[];
  assert.equal(previous?.disabled, true);
  assert.equal(next?.disabled, false);

  const second = await bot.press(first, { label: 'Next ▶' });
  assert.equal(second.update, true);
  assert.equal(numberedLines(second).length, 20 - TASTE_PAGE_SIZE);
  assert.match(numberedLines(second)[0], /^\*\*16\.\*\*/);
  const back = await bot.press(second, { label: '◀ Previous' });
  assert.match(numberedLines(back)[0], /^\*\*1\.\*\*/);

  // Bob looks at Alice's list: public, titled with her name.
  const seen = await bot.dispatcher.handle({ ...bot.request('/taste list', BOB),
    options: { ...bot.request('/taste list', BOB).options,
      getUser: () => ({ id: ALICE.id, name: ALICE.name }) } });
  assert.notEqual(seen.ephemeral, true);
  assert.equal(seen.embeds?.[0]?.title, 'Taste of alice');
  assert.equal(numberedLines(seen).length, TASTE_PAGE_SIZE);

  // An empty taste says how to start.
  const empty = await bot.run('/taste list', BOB);
  assert.match(empty.content ?? '', /\/taste add/);
});

test('/taste clear asks first, and only the same member can confirm', async () => {
  const bot = commandHarness();
  await bot.run('/taste add artist:Drake');
  await bot.run('/taste add artist:Muse');
  const prompt = await bot.run('/taste clear');
  assert.equal(prompt.ephemeral, true);
  assert.match(prompt.content ?? '', /all 2 artists/);
  assert.equal(bot.storage.listTaste(ALICE.id).length, 2);

  const intruder = await bot.press(prompt, { label: 'Yes, clear my taste' }, BOB);
  assert.match(intruder.content ?? '', /Only the member who asked/);
  assert.equal(bot.storage.listTaste(ALICE.id).length, 2);

  const kept = await bot.press(prompt, { label: 'Keep it' });
  assert.equal(bot.storage.listTaste(ALICE.id).length, 2);
  assert.deepEqual(kept.components, []);

  const cleared = await bot.press(prompt, { label: 'Yes, clear my taste' });
  assert.equal(cleared.update, true);
  assert.match(cleared.content ?? '', /2 artists removed/);
  assert.equal(bot.storage.listTaste(ALICE.id).length, 0);
});

test('/recommend without a taste says how to start', async () => {
  const bot = commandHarness();
  const reply = await bot.run('/recommend');
  assert.equal(reply.ephemeral, true);
  assert.match(reply.content ?? '', /\/taste add/);
});

test('/recommend excludes the taste and explains each pick by a taste artist', async () => {
  const bot = commandHarness();
  await bot.run('/taste add artist:Radiohead weight:5');
  await bot.run('/taste add artist:Coldplay weight:2');
  const reply = await bot.run('/recommend count:5');

  const lines = numberedLines(reply);
  assert.equal(lines.length, 5);
  const picks = lines.map(resultName);
  assert.ok(!picks.includes('Radiohead') && !picks.includes('Coldplay'));

  // An alternative taste gives alternative picks, each "because" one of the two taste artists.
  for (const pick of picks) assert.ok(ALTERNATIVE.includes(pick), pick);
  for (const line of lines) assert.match(line, /because you like \*\*(Radiohead|Coldplay)\*\*/);

  // Same order as the recommender's own ranking.
  const expected = bot.recommender.recommend([{ artistKey: 'radiohead', weight: 5 },
    { artistKey: 'coldplay', weight: 2 }], 5).map((pick) => pick.artist.name);
  assert.deepEqual(picks, expected);
});

test('/forget-me deletes taste and request log after confirmation by the same member', async () => {
  const bot = commandHarness();
  await bot.run('/taste add artist:Drake');
  await bot.run('/similar artist:Muse');
  await bot.run('/similar artist:Slayer', BOB);
  const prompt = await bot.run('/forget-me');
  assert.equal(prompt.ephemeral, true);

  const intruder = await bot.press(prompt, { label: 'Yes, forget me' }, BOB);
  assert.match(intruder.content ?? '', /Only the member who asked/);
  assert.equal(bot.storage.listTaste(ALICE.id).length, 1);

  const done = await bot.press(prompt, { label: 'Yes, forget me' });
  assert.match(done.content ?? '', /deleted 1 taste entry and 2 logged requests/);
  assert.equal(bot.storage.listTaste(ALICE.id).length, 0);
  assert.deepEqual(bot.loggedRequests().map((row) => row.user_id), [BOB.id]);
});

test('/help lists every command and subcommand privately, and logs nothing', async () => {
  const bot = commandHarness();
  const reply = await bot.run('/help');
  assert.equal(reply.ephemeral, true);
  const text = reply.embeds?.[0]?.description ?? '';
  for (const usage of ['/similar artist:<…> [count:<…>]', '/taste add artist:<…> [weight:<…>]',
    '/taste remove artist:<…>', '/taste list [member:<…>]', '/taste clear', '/recommend [count:<…>]',
    '/model info', '/model retrain', '/forget-me', '/help']) {
    assert.ok(text.includes(`\`${usage}\``), usage);
  }
  assert.match(reply.embeds?.[0]?.fields?.[0]?.value ?? '', /forget-me/);
  assert.deepEqual(bot.loggedRequests(), []);
});

class FakeRetrain implements RetrainControl {
  requests: string[] = [];
  running = false;
  status(): RetrainStatus {
    return {
      running: this.running,
      nextRun: new Date('2026-12-04T04:00:00Z'),
      lastRun: { startedAt: new Date('2026-12-03T04:00:00Z'),
        finishedAt: new Date('2026-12-03T04:05:00Z'), ok: true, message: '31 artists, k=4' },
    };
  }
  trigger(requestedBy: string): 'started' | 'already-running' {
    if (this.running) return 'already-running';
    this.running = true;
    this.requests.push(requestedBy);
    return 'started';
  }
}

test('/model shows the serving model and the retrain schedule', async () => {
  const retrain = new FakeRetrain();
  const bot = commandHarness({ retrain });
  const reply = await bot.run('/model');
  const fields = Object.fromEntries((reply.embeds?.[0]?.fields ?? []).map((field) =>
    [field.name, field.value]));
  assert.equal(fields.Artists, '31');
  assert.equal(fields.Components, `4 (${tinyModel().meta.parameters.weighting} weighting)`);
  assert.equal(fields['Next retrain'], `<t:${Date.parse('2026-12-04T04:00:00Z') / 1000}:R>`);
  assert.match(fields['Last retrain'] ?? '', /31 artists, k=4/);

  const without = commandHarness();
  const plain = await without.run('/model info');
  assert.ok(plain.embeds?.[0]?.fields?.some((field) => /Not set up/.test(field.value)));
});

test('/model retrain needs Manage Server and reports the trigger outcome', async () => {
  const retrain = new FakeRetrain();
  const bot = commandHarness({ retrain });
  const refused = await bot.run('/model retrain', ALICE);
  assert.equal(refused.ephemeral, true);
  assert.match(refused.content ?? '', /Manage Server/);
  assert.deepEqual(retrain.requests, []);

  const admin = { ...BOB, canManageGuild: true };
  const started = await bot.run('/model retrain', admin);
  assert.match(started.content ?? '', /Retraining started/);
  assert.deepEqual(retrain.requests, ['bob']);
  const again = await bot.run('/model retrain', admin);
  assert.match(again.content ?? '', /already running/);

  const none = commandHarness();
  const notSetUp = await none.run('/model retrain', admin);
  assert.match(notSetUp.content ?? '', /not set up in this process/);
});

test('a swapped model serves the next command', async () => {
  const bot = commandHarness();
  const data = tinyModel();
  data.artists = data.artists.map((artist) => artist.name === 'Drake'
    ? { ...artist, name: 'Drizzy', key: 'drizzy' } : artist);
  bot.servingModel.swap(new Recommender(data));
  const reply = await bot.run('/similar artist:Drizzy');
  assert.equal(reply.embeds?.[0]?.title, 'Artists similar to Drizzy');
});
