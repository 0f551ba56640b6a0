import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPlaceholderArtist, lookupKey } from '../src/model/lookupKey.ts';

test('case and accents fold to one key', () => {
  assert.equal(lookupKey('Beyoncé'), 'beyonce');
  assert.equal(lookupKey('BEYONCÉ'), 'beyonce');
  assert.equal(lookupKey('beyonce'), 'beyonce');
  assert.equal(lookupKey('Mötley Crüe'), lookupKey('motley crue'));
});

test('punctuation, & / and, and a leading The fold away', () => {
  assert.equal(lookupKey('Simon & Garfunkel'), lookupKey('Simon and Garfunkel'));
  assert.equal(lookupKey('The Beatles'), lookupKey('beatles'));
  assert.equal(lookupKey("Guns N' Roses"), lookupKey('guns n roses'));
  assert.equal(lookupKey('AC/DC'), lookupKey('ac dc'));
  assert.equal(lookupKey('  Sigur   Rós  '), 'sigur ros');
});

test('a band called The The keeps a key', () => {
  assert.equal(lookupKey('The The'), 'the');
});

test('non-Latin names keep their letters, marks included', () => {
  assert.equal(lookupKey('東方神起'), '東方神起');
  assert.equal(lookupKey('방탄소년단'), '방탄소년단');
  // The voiced mark changes a kana: it must not be dropped like an accent.
  assert.notEqual(lookupKey('ド'), lookupKey('ト'));
  assert.equal(lookupKey('Ελένη'), 'ελενη');
});

test('names made of punctuation only still get a key', () => {
  assert.equal(lookupKey('!!!'), '!!!');
  assert.equal(isPlaceholderArtist('!!!'), false);
});

test('placeholders are recognised, real artists are not', () => {
  for (const name of ['Various Artists', '[unknown]', 'Unknown Artist', '', '   ', 'VA']) {
    assert.equal(isPlaceholderArtist(name), true, name);
  }
  for (const name of ['Drake', 'Radiohead', 'The The', '東方神起']) {
    assert.equal(isPlaceholderArtist(name), false, name);
  }
});
