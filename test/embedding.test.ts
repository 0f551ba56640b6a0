import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gram, similarityEmbedding } from '../src/model/embedding.ts';

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

/** Row-major factors with about half the entries zero. */
function factors(rows: number, k: number, seed: number): Float32Array {
  const next = random(seed);
  return Float32Array.from({ length: rows * k }, () => (next() < 0.5 ? next() : 0));
}

/** Row i of W H, computed directly: users values. */
function reconstructedRow(w: Float32Array, ht: Float32Array, i: number, users: number, k: number) {
  const row = new Float64Array(users);
  for (let j = 0; j < users; j++) {
    for (let t = 0; t < k; t++) row[j] += w[i * k + t] * ht[j * k + t];
  }
  return row;
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    normA += a[i] * a[i];
    normB += b[i] * b[i];
  }
  return dot / Math.sqrt(normA * normB);
}

test('cosine of embedding rows equals cosine of the rows of W H', () => {
  const artists = 25;
  const users = 40;
  const k = 6;
  const w = factors(artists, k, 3);
  const ht = factors(users, k, 5);
  const embedding = similarityEmbedding(w, ht, artists, users, k);

  const rows = Array.from({ length: artists }, (_, i) => reconstructedRow(w, ht, i, users, k));
  for (let i = 0; i < artists; i++) {
    const zi = embedding.subarray(i * k, (i + 1) * k);
    if (rows[i].every((x) => x === 0)) continue;
    let norm = 0;
    for (const x of zi) norm += x * x;
    assert.ok(Math.abs(norm - 1) < 1e-5, `row ${i} has squared norm ${norm}`);
    for (let j = 0; j < artists; j++) {
      if (rows[j].every((x) => x === 0)) continue;
      const zj = embedding.subarray(j * k, (j + 1) * k);
      let dot = 0;
      for (let t = 0; t < k; t++) dot += zi[t] * zj[t];
      const expected = cosine(rows[i], rows[j]);
      assert.ok(Math.abs(dot - expected) < 1e-5, `(${i}, ${j}): ${dot} vs ${expected}`);
    }
  }
});

test('an artist with zero factors keeps a zero embedding row', () => {
  const k = 3;
  const w = Float32Array.from([1, 0, 2, 0, 0, 0, 0.5, 0.5, 0]);
  const ht = Float32Array.from([1, 1, 0, 0, 2, 1, 3, 0, 1, 0.5, 0.5, 0.5]);
  const embedding = similarityEmbedding(w, ht, 3, 4, k);

  assert.deepEqual(Array.from(embedding.subarray(3, 6)), [0, 0, 0]);
  const first = embedding.subarray(0, 3);
  assert.ok(Math.abs(first[0] ** 2 + first[1] ** 2 + first[2] ** 2 - 1) < 1e-6);
});

test('an embedding for the wrong shapes is a RangeError', () => {
  assert.throws(
    () => similarityEmbedding(new Float32Array(5), new Float32Array(6), 3, 3, 2),
    RangeError,
  );
});

test('gram is F^T F computed entry by entry', () => {
  const rows = 7;
  const k = 4;
  const f = factors(rows, k, 9);
  const result = gram(f, rows, k);

  for (let s = 0; s < k; s++) {
    for (let t = 0; t < k; t++) {
      let expected = 0;
      for (let r = 0; r < rows; r++) expected += f[r * k + s] * f[r * k + t];
      assert.ok(Math.abs(result[s * k + t] - expected) < 1e-9, `(${s}, ${t})`);
    }
  }
});
