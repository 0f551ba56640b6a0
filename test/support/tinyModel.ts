/**
 * A small, valid trained model built in memory for tests: 31 artists in four obvious genre
 * clusters over 4 components, so every test can predict what "similar" means without the
 * Last.fm data.
 *
 * - Component 0, hip-hop / R&B: Drake, Kanye West, Jay-Z, Kendrick Lamar, Beyoncé, Rihanna,
 *   Nicki Minaj, Lil Wayne.
 * - Component 1, alternative / post-rock: Radiohead, Sigur Rós, Coldplay, Muse, Arcade Fire,
 *   Björk, Portishead, The National.
 * - Component 2, metal: Metallica, Iron Maiden, Slayer, Megadeth, Black Sabbath, Pantera,
 *   Motörhead.
 * - Component 3, pop / J-pop / K-pop: Lady Gaga, Britney Spears, Madonna, Katy Perry, 東方神起,
 *   BoA, 宇多田ヒカル, and `@everyone` (a name that must never ping a Discord server).
 *
 * Each artist loads mostly on its cluster's component with small deterministic cross-loadings,
 * so cosine similarity within a cluster is close to 1 and across clusters small. Artist ids are
 * 1001, 1002, ... (never equal to the row index, so id/index mix-ups fail tests). Listener counts
 * differ within every cluster, so "most listened first" orders are unambiguous.
 *
 * The result is a fresh object every call: tests may mutate it.
 */
import type { ModelArtist, ModelData, ModelMeta } from '../../src/model/types.ts';
import { lookupKey } from '../../src/model/lookupKey.ts';
import { mulberry32 } from '../../src/model/random.ts';

/** Genre clusters in component order; names with listener counts, most listened first. */
export const TINY_CLUSTERS: { genre: string; tag: string; artists: [string, number][] }[] = [
  {
    genre: 'hip-hop',
    tag: 'hip-hop',
    artists: [
      ['Drake', 540],
      ['Kanye West', 510],
      ['Rihanna', 480],
      ['Beyoncé', 450],
      ['Jay-Z', 300],
      ['Lil Wayne', 260],
      ['Kendrick Lamar', 220],
      ['Nicki Minaj', 180],
    ],
  },
  {
    genre: 'alternative',
    tag: 'alternative',
    artists: [
      ['Radiohead', 620],
      ['Coldplay', 590],
      ['Muse', 430],
      ['Björk', 350],
      ['Arcade Fire', 280],
      ['Portishead', 240],
      ['Sigur Rós', 200],
      ['The National', 150],
    ],
  },
  {
    genre: 'metal',
    tag: 'metal',
    artists: [
      ['Metallica', 570],
      ['Iron Maiden', 400],
      ['Black Sabbath', 330],
      ['Slayer', 250],
      ['Megadeth', 210],
      ['Pantera', 170],
      ['Motörhead', 140],
    ],
  },
  {
    genre: 'pop',
    tag: 'pop',
    artists: [
      ['Lady Gaga', 660],
      ['Britney Spears', 520],
      ['Katy Perry', 470],
      ['Madonna', 390],
      ['東方神起', 160],
      ['BoA', 120],
      ['宇多田ヒカル', 90],
      ['@everyone', 3],
    ],
  },
];

/** Number of artists in `tinyModel()`. */
export const TINY_ARTIST_COUNT = TINY_CLUSTERS.reduce((sum, c) => sum + c.artists.length, 0);

/** Components in `tinyModel()`: one per genre cluster. */
export const TINY_COMPONENTS = TINY_CLUSTERS.length;

/** Builds the model described at the top of this file. Deterministic; O(artists x k^2). */
export function tinyModel(): ModelData {
  const k = TINY_COMPONENTS;
  const random = mulberry32(20111);
  const artists: ModelArtist[] = [];
  const clusterOf: number[] = [];

  // Artists, cluster by cluster.
  for (const [cluster, { tag, artists: members }] of TINY_CLUSTERS.entries()) {
    for (const [name, listeners] of members) {
      const id = 1001 + artists.length;
      artists.push({
        id,
        name,
        key: lookupKey(name),
        listeners,
        tags: [tag, 'seen live'],
        url: `https://www.last.fm/music/${encodeURIComponent(name)}`,
      });
      clusterOf.push(cluster);
    }
  }

  // W: a strong loading on the artist's own component that grows with popularity, small noise
  // elsewhere.
  const n = artists.length;
  const artistFactors = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      artistFactors[i * k + c] = 0.02 + 0.08 * random();
    }
    artistFactors[i * k + clusterOf[i]] = 0.5 + artists[i].listeners / 400 + 0.2 * random();
  }

  // W^T W in double precision from the stored float32 values.
  const artistGram = new Float64Array(k * k);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) {
        artistGram[a * k + b] += artistFactors[i * k + a] * artistFactors[i * k + b];
      }
    }
  }

  // Unit rows of W as the similarity embedding.
  const similarityEmbedding = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let c = 0; c < k; c++) norm += artistFactors[i * k + c] ** 2;
    norm = Math.sqrt(norm);
    for (let c = 0; c < k; c++) similarityEmbedding[i * k + c] = artistFactors[i * k + c] / norm;
  }

  const meta: ModelMeta = {
    formatVersion: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    parameters: {
      components: k,
      weighting: 'log1p',
      seed: 7,
      maxIterations: 200,
      tolerance: 1e-4,
      l1Artist: 0,
      l2Artist: 0,
      l1User: 0,
      l2User: 0,
      minListeners: 1,
    },
    data: { source: 'test:tinyModel', artists: n, users: 700, nonzeros: 10_000 },
    objective: 123.25,
    iterations: 42,
    trainingSeconds: 0.5,
    foldIn: { l1: 0, l2: 0.01 },
  };

  return { meta, artists, components: k, artistFactors, artistGram, similarityEmbedding };
}

