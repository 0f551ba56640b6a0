/**
 * Autocomplete choices for artist options, kept per model: a repeated text gets the same
 * answer as a fresh search, callers cannot spoil the kept answer, and a swapped-in model answers
 * from its own artists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { artistChoices, CHOICE_CACHE_SIZE } from '../src/interactions/artists.ts';
import { lookupKey } from '../src/model/lookupKey.ts';
import { Recommender } from '../src/model/recommender.ts';
import { tinyModel } from './support/tinyModel.ts';

test('a repeated text gets the same choices as the search itself', () => {
  const recommender = new Recommender(tinyModel());
  for (const typed of ['ra', 'ra', 'Mu', '  ra ', '', 'zzzz', 'ra']) {
    const expected = recommender.autocomplete(typed.trim(), 25).map((artist) => artist.name);
    const choices = artistChoices(recommender, typed);
    assert.deepEqual(choices.map((choice) => choice.name), expected, typed);
    assert.deepEqual(choices.map((choice) => choice.value), expected, typed);
  }
  assert.ok(artistChoices(recommender, 'ra').some((choice) => choice.name === 'Radiohead'));
});

test('a caller changing its choices leaves the next answer intact', () => {
  const recommender = new Recommender(tinyModel());
  const first = artistChoices(recommender, 'ra');
  const expected = structuredClone(first);
  first.length = 0;
  assert.throws(() => {
    (artistChoices(recommender, 'ra')[0] as { name: string }).name = 'spoilt';
  }, TypeError);
  assert.deepEqual(artistChoices(recommender, 'ra'), expected);
});

test('each model answers from its own artists, however many texts were asked', () => {
  const served = new Recommender(tinyModel());
  const renamed = tinyModel();
  renamed.artists = renamed.artists.map((artist) => artist.name === 'Radiohead'
    ? { ...artist, name: 'Radiohead Redux', key: lookupKey('Radiohead Redux') }
    : artist);
  const retrained = new Recommender(renamed);

  const names = (recommender: Recommender) =>
    artistChoices(recommender, 'radio').map((choice) => choice.name);
  assert.ok(names(served).includes('Radiohead'));
  assert.ok(names(retrained).includes('Radiohead Redux'));
  assert.ok(!names(retrained).includes('Radiohead'));

  // Past the cache's size, old texts are searched again and still answer right.
  for (let i = 0; i < CHOICE_CACHE_SIZE + 10; i++) artistChoices(served, `x${i}`);
  assert.ok(names(served).includes('Radiohead'));
});
