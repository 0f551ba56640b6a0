/**
 * Artist lookup keys: the one place that decides when two spellings name the same artist.
 *
 * `lookupKey('Beyoncé')`, `lookupKey('beyonce')` and `lookupKey('BEYONCÉ')` are all `beyonce`;
 * `The Beatles` and `Beatles` share `beatles`; `Simon & Garfunkel` and `Simon and Garfunkel`
 * share `simon and garfunkel`. Letters from any script are kept (`東方神起` stays `東方神起`), so
 * non-Latin names stay findable. Importers merge artists by this key and every lookup uses it.
 */

// Accents are dropped from Latin, Greek and Cyrillic letters only: in Japanese or Korean a mark
// changes the letter itself.
const ACCENTS = /([\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}])\p{M}+/gu;
const NOT_LETTER_OR_DIGIT = /[^\p{L}\p{N}]+/gu;
const LEADING_THE = /^the /;

/** Folds case, accents, punctuation, `&`/`and` and a leading `The`. O(length). */
export function lookupKey(name: string): string {
  const folded = name
    .normalize('NFKD')
    .replace(ACCENTS, '$1')
    .normalize('NFC')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/['’`´]/g, '')
    .replace(NOT_LETTER_OR_DIGIT, ' ')
    .trim();
  const withoutThe = folded.replace(LEADING_THE, '');
  if (withoutThe.length > 0) return withoutThe;
  if (folded.length > 0) return folded;

  // Names made only of punctuation (`!!!`, `+/-`) keep their characters, without spaces.
  return name.normalize('NFKC').toLowerCase().replace(/\s+/g, '');
}

const PLACEHOLDER_KEYS = new Set([
  'various artists',
  'various',
  'va',
  'unknown',
  'unknown artist',
  'artist',
  'no artist',
  'none',
  'n a',
  'null',
  'undefined',
  'soundtrack',
  'original soundtrack',
]);

/** True for names that stand for no real artist (`Various Artists`, `[unknown]`, empty). */
export function isPlaceholderArtist(name: string): boolean {
  const key = lookupKey(name);
  return key.length === 0 || PLACEHOLDER_KEYS.has(key);
}
