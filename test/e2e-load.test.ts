/**
 * The load benchmark (bench/load.ts) at a small size: it must count every reply exactly once,
 * every /similar as exactly one request-log row, and run the `during` hook alongside.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchLoad, formatLoadTable, summarise } from '../bench/load.ts';
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

test('a small burst and a paced run: nothing lost or doubled, one log row per /similar', async () => {
  let hookStarted = 0;
  let hookFinished = 0;
  const rows = await benchLoad({
    recommender: new Recommender(tinyModel()),
    similar: 60,
    autocomplete: 60,
    members: 12,
    ratePerSecond: 400,
    during: async () => {
      hookStarted += 1;
      await new Promise((resolve) => setTimeout(resolve, 30));
      hookFinished += 1;
    },
    duringLabel: 'a 30 ms wait',
  });

  assert.deepEqual(
    rows.map((row) => row.mode),
    ['burst', 'paced'],
  );
  assert.equal(hookStarted, 2);
  assert.equal(hookFinished, 2);
  for (const row of rows) {
    assert.equal(row.interactions, 120);
    assert.equal(row.similar.count, 60);
    assert.equal(row.autocomplete.count, 60);
    assert.equal(row.lost, 0);
    assert.equal(row.duplicated, 0);
    assert.equal(row.refused, 0);
    assert.equal(row.requestRows, row.expectedRequestRows);
    assert.ok(row.similar.median > 0 && row.similar.median <= row.similar.p99);
    assert.equal(row.during, 'a 30 ms wait');
  }
  const table = formatLoadTable(rows);
  assert.equal(table.split('\n').length, 4);
  assert.match(table, /\| paced \| a 30 ms wait \| given model \(31\) \|/);
});
