import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distance } from 'fastest-levenshtein';
import {
  ArtistSearch,
  artistSearchIndexProblem,
  buildArtistSearchIndex,
  trigramSegments,
  upgradeStoredIndex,
} from '../src/model/artistSearch.ts';
import { lookupKey } from '../src/model/lookupKey.ts';
import type { ModelArtist } from '../src/model/types.ts';
import { tinyModel } from './support/tinyModel.ts';

function artist(name: string, listeners: number, id = 0): ModelArtist {
  return { id, name, key: lookupKey(name), listeners, tags: [], url: null };
}

function names(search: ArtistSearch, artists: ModelArtist[], query: string, limit = 10): string[] {
  return search.search(query, limit).map((match) => artists[match.index].name);
}

test('exact, prefix, later-word and typo classes come in that order', () => {
  const artists = [
    artist('Muse', 10),
    artist('Museum of Love', 50),
    artist('The Muses', 5),
    artist('Mouse on Mars', 40),
    artist('Amuse', 1),
    artist('Fuse', 80),
  ];
  const search = new ArtistSearch(artists);
  const matches = search.search('muse', 10);
  assert.deepEqual(
    matches.map((m) => [artists[m.index].name, m.kind, m.distance]),
    [
      ['Muse', 'exact', 0],
      ['Museum of Love', 'prefix', 0],
      ['The Muses', 'prefix', 0],
      ['Fuse', 'typo', 1],
      ['Mouse on Mars', 'typo', 1],
      ['Amuse', 'typo', 1],
    ],
  );
});

test('within a class the most listened comes first, and limit is respected', () => {
  const artists = [
    artist('Radio Moscow', 5),
    artist('Radiohead', 600),
    artist('Radio Dept.', 40),
    artist('Talk Talk Radio', 900),
  ];
  const search = new ArtistSearch(artists);
  assert.deepEqual(names(search, artists, 'radio'), [
    'Radiohead',
    'Radio Dept.',
    'Radio Moscow',
    'Talk Talk Radio',
  ]);
  assert.deepEqual(names(search, artists, 'RADIO', 2), ['Radiohead', 'Radio Dept.']);
  assert.deepEqual(search.search('radio', 0), []);
});

test('a later word of the name is found by its prefix', () => {
  const model = tinyModel();
  const search = new ArtistSearch(model.artists);
  assert.deepEqual(names(search, model.artists, 'gaga'), ['Lady Gaga']);
  assert.deepEqual(names(search, model.artists, 'west'), ['Kanye West']);
  assert.deepEqual(names(search, model.artists, 'national'), ['The National']);
  assert.deepEqual(names(search, model.artists, '東方'), ['東方神起']);
  assert.deepEqual(names(search, model.artists, 'SIGUR ROS'), ['Sigur Rós']);
});

test('typos are found, within an edit budget that grows with the query', () => {
  const model = tinyModel();
  const search = new ArtistSearch(model.artists);
  assert.equal(names(search, model.artists, 'metalica')[0], 'Metallica');
  assert.equal(names(search, model.artists, 'radiohed')[0], 'Radiohead');
  assert.equal(names(search, model.artists, 'kendrik lamarr')[0], 'Kendrick Lamar');
  assert.equal(names(search, model.artists, 'beyonse')[0], 'Beyoncé');
  // Half-typed with a typo: compared with the name's prefix of the same length.
  assert.equal(names(search, model.artists, 'iron maim')[0], 'Iron Maiden');
  // Two characters allow no typo; far-off strings match nothing.
  assert.deepEqual(names(search, model.artists, 'zq'), []);
  assert.deepEqual(names(search, model.artists, 'qqqqqqqqqq'), []);
  // Every reported typo distance is real and within budget.
  for (const query of ['metalica', 'radiohed', 'madona', 'slayr', 'coldply']) {
    for (const match of search.search(query, 25)) {
      if (match.kind !== 'typo') continue;
      const key = model.artists[match.index].key;
      const words = key.split(' ').map((_, i, all) => all.slice(i).join(' '));
      const best = Math.min(
        ...words.flatMap((w) => [
          distance(query, w),
          ...[...Array(w.length).keys()]
            .filter((cut) => cut + 1 >= query.length)
            .map((cut) => distance(query, w.slice(0, cut + 1))),
        ]),
      );
      assert.equal(match.distance, best, `${query} -> ${key}`);
      assert.ok(best >= 1 && best <= 2);
    }
  }
});

test('prefix classes agree with a brute-force scan on a random catalogue', () => {
  const letters = ['a', 'b', 'c', 'ab', 'ba', 'é', ' '];
  let state = 777;
  const random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const byKey = new Map<string, ModelArtist>();
  while (byKey.size < 400) {
    let name = '';
    const length = 1 + Math.floor(random() * 7);
    for (let i = 0; i < length; i++) name += letters[Math.floor(random() * letters.length)];
    const candidate = artist(name, Math.floor(random() * 50), byKey.size);
    if (candidate.key.length > 0 && !byKey.has(candidate.key)) byKey.set(candidate.key, candidate);
  }
  const artists = [...byKey.values()];
  const search = new ArtistSearch(artists);
  const rank = (a: ModelArtist, b: ModelArtist) =>
    b.listeners - a.listeners || artists.indexOf(a) - artists.indexOf(b);

  for (const query of ['a', 'b', 'ab', 'a b', 'ba', 'c a', 'abc', 'b a b', 'cc']) {
    const exact = artists.filter((a) => a.key === query);
    const prefix = artists.filter((a) => a.key !== query && a.key.startsWith(query)).sort(rank);
    const words = artists
      .filter(
        (a) =>
          !a.key.startsWith(query) &&
          a.key
            .split(' ')
            .slice(1)
            .some((_, i, rest) => rest.slice(i).join(' ').startsWith(query)),
      )
      .sort(rank);
    const expected = [...exact, ...prefix, ...words].map((a) => a.key);
    for (const limit of [3, 25, 1000]) {
      const got = search.search(query, limit, { typos: false }).map((m) => artists[m.index].key);
      assert.deepEqual(got, expected.slice(0, limit), `${query} @ ${limit}`);
    }
  }
});

test('typo search can be switched off', () => {
  const model = tinyModel();
  const search = new ArtistSearch(model.artists);
  assert.deepEqual(search.search('metalica', 5, { typos: false }), []);
});

test('keys, duplicates and popularity order', () => {
  const artists = [artist('Beyonce', 10, 1), artist('Beyoncé', 90, 2), artist('Drake', 50, 3)];
  const search = new ArtistSearch(artists);
  assert.equal(search.size, 3);
  assert.equal(search.rowOfKey('beyonce'), 1);
  assert.equal(search.rowOfKey('nobody'), undefined);
  assert.deepEqual(search.mostListened(2), [1, 2]);
  assert.deepEqual(search.mostListened(10), [1, 2, 0]);
  assert.deepEqual(search.mostListened(-1), []);
});

test('odd queries never throw and empty keys match nothing', () => {
  const model = tinyModel();
  const search = new ArtistSearch(model.artists);
  const odd = [
    '',
    ' ',
    '🎵🎶',
    '\u200b\u200b',
    '\ud800',
    '!!!',
    'a'.repeat(10_000),
    'Ω'.repeat(5000),
    '\u0000',
    'drake\u0000',
    '%s%n',
    '<@123>',
  ];
  for (const query of odd) {
    const result = search.search(query, 25);
    assert.ok(Array.isArray(result) && result.length <= 25);
  }
  assert.deepEqual(search.search('🎵', 5), []);
});

test('answers a query in well under 5 ms (median) at 17,000 artists', () => {
  const syllables = ['ka', 'ne', 'ro', 'mi', 'sa', 'to', 'lu', 'ver', 'dan', 'gol', 'the ', 'and '];
  let state = 12345;
  const random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const seen = new Set<string>();
  const artists: ModelArtist[] = [];
  while (artists.length < 17_000) {
    const parts = 2 + Math.floor(random() * 5);
    let name = '';
    for (let p = 0; p < parts; p++) name += syllables[Math.floor(random() * syllables.length)];
    if (random() < 0.4) name += ` ${syllables[Math.floor(random() * 10)]}${artists.length}`;
    const key = lookupKey(name);
    if (seen.has(key)) continue;
    seen.add(key);
    artists.push(artist(name, Math.floor(1000 * random() ** 4), artists.length));
  }
  const search = new ArtistSearch(artists);
  const queries = [
    'k',
    'ka',
    'kane',
    'verdan',
    'golsato',
    'rovermi',
    'lumisa',
    'xyzzy',
    'danka',
    'tolumi',
    'kanerovr',
    'samisatolu',
  ];
  const times: number[] = [];
  for (let round = 0; round < 20; round++) {
    for (const query of queries) {
      const start = performance.now();
      search.search(query, 25);
      times.push(performance.now() - start);
    }
  }
  times.sort((a, b) => a - b);
  const median = times[times.length >> 1];
  assert.ok(median < 5, `median ${median.toFixed(3)} ms`);
});

test('trigram postings past 2^16 rows live in later segments and are found by typo', () => {
  const words = ['zephyr', 'quartz', 'jukebox', 'vortex', 'mirage', 'basalt', 'cobalt'];
  const artists = Array.from({ length: 70_000 }, (_, row) =>
    artist(`${words[row % 7]} ${words[(row * 3) % 7]} ${row}`, 1 + (row % 97), row),
  );
  const index = buildArtistSearchIndex(artists);
  assert.equal(trigramSegments(artists.length), 2);
  assert.equal(trigramSegments(65_536), 1);
  assert.equal(trigramSegments(0), 1);
  assert.ok(index.trigramRows instanceof Uint16Array);
  assert.equal(index.trigramStarts.length, 2 * 65_536 + 1);
  assert.equal(artistSearchIndexProblem(index, artists.length), undefined);

  // A row of the second segment, found from a typo of its name (one letter dropped).
  const search = new ArtistSearch(artists, index);
  for (const row of [65_536, 69_999, 30_000]) {
    const name = artists[row].name;
    const typo = name.slice(0, 2) + name.slice(3);
    const found = search.search(typo, 10).map((match) => match.index);
    assert.ok(found.includes(row), `${typo}: ${found}`);
  }

  // The same postings as whole rows grouped by hash alone, and the word pairs as two values each
  // (versions 2 and 3), come back to these.
  const hashStarts = new Int32Array(65_537);
  const wholeRows: number[] = [];
  for (let hash = 0; hash < 65_536; hash++) {
    for (let segment = 0; segment < 2; segment++) {
      const group = segment * 65_536 + hash;
      for (let i = index.trigramStarts[group]; i < index.trigramStarts[group + 1]; i++) {
        wholeRows.push(segment * 65_536 + index.trigramRows[i]);
      }
    }
    hashStarts[hash + 1] = wholeRows.length;
  }
  const pairs = Int32Array.from(
    Array.from(index.wordBucketPairs).flatMap((pair) => [pair >>> 7, pair & 127]),
  );
  const legacy = {
    ...index,
    wordBucketStarts: index.wordBucketStarts.map((start) => 2 * start),
    wordBucketPairs: pairs,
    trigramStarts: hashStarts,
    trigramRows: Int32Array.from(wholeRows),
  };
  assert.deepEqual(upgradeStoredIndex(legacy, artists.length), index);
  const outside = Int32Array.from(wholeRows);
  outside[5] = 70_000;
  assert.match(
    String(upgradeStoredIndex({ ...legacy, trigramRows: outside }, artists.length)),
    /trigrams name a row out of range/,
  );
  const farStart = pairs.slice();
  farStart[1] = 128;
  assert.match(
    String(upgradeStoredIndex({ ...legacy, wordBucketPairs: farStart }, artists.length)),
    /word start past 127/,
  );

  // Only the last segment can name a row that does not exist.
  const damaged = { ...index, trigramRows: index.trigramRows.slice() };
  const lastGroup = index.trigramStarts.findIndex(
    (start, group) => group >= 65_536 && index.trigramStarts[group + 1] > start,
  );
  damaged.trigramRows[index.trigramStarts[lastGroup]] = 70_000 - 65_536;
  assert.match(String(artistSearchIndexProblem(damaged, artists.length)), /row out of range/);
  damaged.trigramRows[index.trigramStarts[lastGroup]] = 70_000 - 65_536 - 1;
  assert.equal(artistSearchIndexProblem(damaged, artists.length), undefined);
});
