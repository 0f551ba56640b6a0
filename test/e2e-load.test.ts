/**
 * The load benchmark (bench/load.ts) at a small size: it must count every reply exactly once,
 * every /similar as exactly one request-log row, and run the `during` hook alongside; with the
 * stand-in in a child process (as the benchmark runs) and in this process.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchLoad, formatLoadTable, makePlan, summarise } from '../bench/load.ts';
import { Recommender } from '../src/model/recommender.ts';
import { tinyModel } from './support/tinyModel.ts';

test('summarise takes nearest-rank median and p99', () => {
  const values = Array.from({ length: 200 }, (_, i) => 200 - i);
  const summary = summarise(values);
  assert.equal(summary.median, 100);
  assert.equal(summary.p99, 198);
  assert.equal(summary.max, 200);
  assert.equal(summarise([]).count, 0);
});

test('each mode in a child stand-in: nothing lost or doubled, one log row per /similar',
  async () => {
    let hookStarted = 0;
    let hookFinished = 0;
    let startsAsked = 0;
    const rows = await benchLoad({
      recommender: new Recommender(tinyModel()),
      similar: 60,
      autocomplete: 60,
      members: 12,
      modes: ['members', 'burst', 'paced'],
      ratePerSecond: 400,
      during: async () => {
        hookStarted += 1;
        await new Promise((resolve) => setTimeout(resolve, 30));
        hookFinished += 1;
      },
      duringLabel: 'a 30 ms wait',
      loadStartsWhen: async () => {
        // Asked once per run, after that run's `during` has started.
        startsAsked += 1;
        assert.equal(hookStarted, startsAsked);
      },
    });

    // The 20 warm-up interactions before each run are the plan's first 20 (seed 7).
    const warmUpSimilar = makePlan(new Recommender(tinyModel()), 60, 60, 12, 7).slice(0, 20)
      .filter((item) => item.kind === 'similar').length;
    assert.deepEqual(rows.map((row) => row.mode), ['members', 'burst', 'paced']);
    assert.equal(hookStarted, 3);
    assert.equal(hookFinished, 3);
    assert.equal(startsAsked, 3);
    for (const row of rows) {
      assert.equal(row.interactions, 120);
      assert.equal(row.similar.count, 60);
      assert.equal(row.autocomplete.count, 60);
      assert.equal(row.all.count, 120);
      assert.equal(row.lost, 0);
      assert.equal(row.duplicated, 0);
      assert.equal(row.refused, 0);
      assert.equal(row.late, 0);
      assert.equal(row.requestRows, row.expectedRequestRows);
      assert.equal(row.expectedRequestRows, 60 + warmUpSimilar);
      assert.ok(row.similar.median > 0 && row.similar.median <= row.similar.p99);
      assert.ok(row.cpuMsPerInteraction > 0 && row.standInCpuMsPerInteraction > 0);
      assert.equal(row.during, 'a 30 ms wait');
    }
    const table = formatLoadTable(rows);
    assert.equal(table.split('\n').length, 5);
    assert.match(table, /\| members \| a 30 ms wait \| given model \(31\) \|/);
  });

test('the stand-in in this process counts the same way', async () => {
  const rows = await benchLoad({
    recommender: new Recommender(tinyModel()),
    similar: 30,
    autocomplete: 30,
    members: 5,
    modes: ['members'],
    standIn: 'in-process',
  });
  assert.equal(rows.length, 1);
  assert.equal(rows[0].lost + rows[0].duplicated + rows[0].refused, 0);
  assert.equal(rows[0].requestRows, rows[0].expectedRequestRows);
  assert.equal(rows[0].all.count, 60);
});

test('paced mode gives one row per rate, each sent at its rate', async () => {
  const rows = await benchLoad({
    recommender: new Recommender(tinyModel()),
    similar: 20,
    autocomplete: 20,
    members: 4,
    modes: ['paced'],
    ratesPerSecond: [100, 400],
    standIn: 'in-process',
  });
  assert.deepEqual(rows.map((row) => row.rate), [100, 400]);
  for (const row of rows) {
    assert.equal(row.lost + row.duplicated + row.refused, 0);
    assert.equal(row.requestRows, row.expectedRequestRows);
    // 40 interactions at `rate` a second take at least 39 intervals.
    assert.ok(row.seconds >= 39 / row.rate! - 0.01, `${row.seconds} s at ${row.rate}/s`);
  }
  assert.ok(rows[0].seconds > rows[1].seconds * 2);
  assert.match(formatLoadTable(rows), /\| paced, 400\/s \| idle \|/);
});

test('the plan: the asked numbers of each kind, spread evenly over members', () => {
  const recommender = new Recommender(tinyModel());
  const plan = makePlan(recommender, 40, 30, 7, 3);
  assert.equal(plan.filter((item) => item.kind === 'similar').length, 40);
  assert.equal(plan.filter((item) => item.kind === 'autocomplete').length, 30);
  const perMember = Array.from({ length: 7 }, (_, member) =>
    plan.filter((item) => item.member === member).length);
  assert.ok(Math.max(...perMember) - Math.min(...perMember) <= 2, `${perMember}`);
  const names = new Set(recommender.data.artists.map((artist) => artist.name));
  for (const item of plan) {
    if (item.kind === 'similar') assert.ok(names.has(item.text), item.text);
    else assert.ok([...names].some((name) => name.startsWith(item.text)), item.text);
  }
  assert.deepEqual(makePlan(recommender, 40, 30, 7, 3), plan);
});
