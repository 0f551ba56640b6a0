/**
 * The checks a retrained model passes before the bot serves it:
 *
 * 1. the file reads back (`readModel` checks magic, version, shapes and the CRC-32);
 * 2. it has artists, and every artist factor, Gram entry and embedding value is finite (and the
 *    factors non-negative, as NMF guarantees); and it has not collapsed, i.e. the mean cosine
 *    similarity of random artist pairs stays below `COLLAPSED_MEAN_COSINE` (0.09 to 0.18 for
 *    HetRec models, 0.3 for the four-genre test model; penalties too strong for the data give
 *    every artist the same direction and a mean near 1);
 * 3. it knows at least MIN_CATALOGUE_RATIO of the served model's artists: a database that holds
 *    only the members' own tastes (no imported listening data) would otherwise replace a
 *    catalogue of thousands with the few dozen artists members named, and a small catalogue
 *    passes the held-out check below all too easily;
 * 4. on held-out cases (a listener's artists minus one, see heldOut.ts) its `recommend` puts the
 *    hidden artist in the top 50 at least `minimumHitRateRatio` times as often as the served
 *    model does on the same cases.
 *
 * Cost: one file read, O(artists x k) for the scan, and per case one fold-in and one O(artists x k)
 * scoring pass per model. The parent runs this on its event loop, so it yields between cases.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

import { artistCount, artistTableOf } from '../model/artistTable.ts';
import { ModelFileError, readModel } from '../model/modelFile.ts';
import { Recommender } from '../model/recommender.ts';
import type { ModelData } from '../model/types.ts';
import type { HeldOutCase } from './protocol.ts';

/** Rank within which a hidden artist counts as found. */
export const HIT_RANK = 50;

/** A model whose random artist pairs are this similar on average says nothing about anyone. */
export const COLLAPSED_MEAN_COSINE = 0.95;

/** A new model must know at least this share of the served model's artists. */
export const MIN_CATALOGUE_RATIO = 0.5;

/** Random artist pairs sampled for the collapse check. */
const COLLAPSE_PAIRS = 2000;

/** Options of `checkCandidate`. */
export interface CandidateCheckOptions {
  /** The model being served, to compare with; none on a first training. */
  serving?: Recommender;
  cases: readonly HeldOutCase[];
  /** Refuse when new hit rate < ratio x served hit rate. */
  minimumHitRateRatio: number;
  /** Rank within which a hidden artist counts as found; defaults to HIT_RANK. */
  hitRank?: number;
}

/** The figures of a check, accepted or not. */
export interface CheckFigures {
  /** Held-out cases evaluated. */
  cases: number;
  newHitRate?: number;
  servedHitRate?: number;
}

/** The outcome of `checkCandidate`. */
export type CandidateCheck =
  | (CheckFigures & { accepted: true; recommender: Recommender })
  | (CheckFigures & { accepted: false; reason: string });

/**
 * Reads the model at `path` and runs the checks above. Never throws for a bad model: a refusal
 * comes back as `{ accepted: false, reason }`.
 */
export async function checkCandidate(
  path: string,
  options: CandidateCheckOptions,
): Promise<CandidateCheck> {
  let model: ModelData;
  try {
    model = readModel(path);
  } catch (error) {
    if (!(error instanceof ModelFileError)) throw error;
    return { accepted: false, reason: `the file does not read back (${error.message})`, cases: 0 };
  }

  // Each step below costs tens of milliseconds at most; interactions run between them.
  await nextTurn();
  const problem = findNumericalProblem(model);
  if (problem !== undefined) return { accepted: false, reason: problem, cases: 0 };
  await nextTurn();

  const served = options.serving?.artistCount;
  const artists = artistCount(model);
  if (served !== undefined && artists < MIN_CATALOGUE_RATIO * served) {
    return {
      accepted: false,
      reason: `the new model knows ${artists} artists where the served one knows ` +
        `${served} (at least ${MIN_CATALOGUE_RATIO * 100}% is required): the database probably ` +
        'holds only members\' tastes; import listening data (`npm run cli -- import`) first',
      cases: 0,
    };
  }

  const recommender = new Recommender(model);
  await nextTurn();
  const cases = options.cases;
  if (cases.length === 0) return { accepted: true, recommender, cases: 0 };

  const rank = options.hitRank ?? HIT_RANK;
  const newHitRate = await hitRate(recommender, cases, rank);
  if (options.serving === undefined) {
    return { accepted: true, recommender, cases: cases.length, newHitRate };
  }

  const servedHitRate = await hitRate(options.serving, cases, rank);
  const figures = { cases: cases.length, newHitRate, servedHitRate };
  if (newHitRate < options.minimumHitRateRatio * servedHitRate) {
    return {
      accepted: false,
      reason: `held-out hit rate in the top ${rank} fell from ${rate(servedHitRate)} to ` +
        `${rate(newHitRate)} on ${cases.length} cases (minimum ${options.minimumHitRateRatio} ` +
        'of the served model)',
      ...figures,
    };
  }
  return { accepted: true, recommender, ...figures };
}

/**
 * The first numerical problem of a model (empty, non-finite or negative factors, non-finite
 * Gram or embedding, collapse), or undefined. O(artists x k + k^2).
 */
export function findNumericalProblem(model: ModelData): string | undefined {
  if (artistCount(model) === 0) return 'the model has no artists';
  const k = model.components;
  const factors = model.artistFactors;
  for (let index = 0; index < factors.length; index++) {
    const value = factors[index];
    if (!Number.isFinite(value) || value < 0) {
      const artist = artistTableOf(model).artist(Math.floor(index / k));
      return `artist "${artist.name}" has an invalid factor (${value})`;
    }
  }
  const embedding = model.similarityEmbedding;
  for (let index = 0; index < embedding.length; index++) {
    if (!Number.isFinite(embedding[index])) {
      const artist = artistTableOf(model).artist(Math.floor(index / k));
      return `artist "${artist.name}" has a non-finite similarity embedding`;
    }
  }
  if (!model.artistGram.every(Number.isFinite)) return 'the Gram matrix W^T W is not finite';

  const meanCosine = meanPairCosine(model);
  if (meanCosine > COLLAPSED_MEAN_COSINE) {
    return `the model has collapsed: random artist pairs have a mean cosine similarity of ` +
      `${meanCosine.toFixed(3)} (at most ${COLLAPSED_MEAN_COSINE}); the training penalties are ` +
      'probably too strong for this data';
  }
  return undefined;
}

/**
 * Mean cosine similarity (dot product of unit embedding rows) over COLLAPSE_PAIRS seeded random
 * pairs of distinct artists; 0 for fewer than two artists. O(pairs x k).
 */
export function meanPairCosine(model: ModelData): number {
  const n = artistCount(model);
  const k = model.components;
  const embedding = model.similarityEmbedding;
  if (n < 2) return 0;
  let state = 0x9e3779b9;
  const nextRow = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.floor((state / 4294967296) * n);
  };
  let total = 0;
  for (let pair = 0; pair < COLLAPSE_PAIRS; pair++) {
    const a = nextRow();
    let b = nextRow();
    if (b === a) b = (a + 1) % n;
    let dot = 0;
    for (let c = 0; c < k; c++) dot += embedding[a * k + c] * embedding[b * k + c];
    total += dot;
  }
  return total / COLLAPSE_PAIRS;
}

/** Share of cases whose hidden artist `recommender` ranks in its top `rank`. */
export async function hitRate(
  recommender: Recommender,
  cases: readonly HeldOutCase[],
  rank: number,
): Promise<number> {
  if (cases.length === 0) return 0;
  let hits = 0;
  for (const entry of cases) {
    const picks = recommender.recommend(entry.profile, rank);
    if (picks.some((pick) => pick.artist.key === entry.hidden)) hits++;
    // Let interactions run between cases: each costs a few milliseconds.
    await nextTurn();
  }
  return hits / cases.length;
}

function rate(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}
