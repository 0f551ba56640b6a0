/**
 * The methods compared by `npm run eval`, each fitted on the train split only:
 * popularity, item-kNN, the original pipeline this project replaces, and this project's model
 * with its recommendations made exactly as the bot makes them for a member (Recommender.recommend:
 * fold-in blended with neighbours in the similarity embedding).
 */
import type { ListeningData, ModelData, TrainingParameters } from '../model/types.ts';
import { applyWeighting } from '../model/weighting.ts';
import { rowCounts, transposeCsr } from '../model/sparse.ts';
import { foldIn } from '../model/foldIn.ts';
import { Recommender } from '../model/recommender.ts';
import { filterListening, trainModel } from '../model/train.ts';
import type { RankArtists } from './baselines.ts';
import { factorCosineRanker, itemKnnRanker, popularityRanker } from './baselines.ts';
import { topN } from './metrics.ts';
import type { EvaluationMethod } from './protocol.ts';

export const popularityMethod: EvaluationMethod = {
  name: 'popularity',
  fit: async (train) => popularityRanker(train.counts),
};

export const itemKnnMethod: EvaluationMethod = {
  name: 'item-kNN (log1p cosine)',
  fit: async (train) => itemKnnRanker(train.counts),
};

/**
 * The original pipeline's scikit-learn settings. sklearn's NMF objective on X (n_samples x
 * n_features; here artists x users), with r = l1_ratio, is
 *   0.5 ||X - W H||^2
 *     + alpha_W r n_features |W|_1 + 0.5 alpha_W (1 - r) n_features ||W||^2
 *     + alpha_H r n_samples |H|_1 + 0.5 alpha_H (1 - r) n_samples ||H||^2,
 * so its effective absolute penalties are the alphas scaled by the number of users (on W, the
 * artist factors) and by the number of artists (on H, the user factors). max_iter and tol are
 * sklearn's defaults.
 */
export const ORIGINAL_SKLEARN = {
  components: 60,
  alpha: 0.1,
  l1Ratio: 0.5,
  maxIterations: 200,
  tolerance: 1e-4,
};

/** The absolute penalties sklearn applied for a matrix of `artists` x `users`. */
export function originalPenalties(artists: number, users: number) {
  const { alpha, l1Ratio } = ORIGINAL_SKLEARN;
  return {
    l1Artist: alpha * l1Ratio * users,
    l2Artist: alpha * (1 - l1Ratio) * users,
    l1User: alpha * l1Ratio * artists,
    l2User: alpha * (1 - l1Ratio) * artists,
  };
}

/**
 * The original pipeline: per-user max scaling, NMF k = 60 with sklearn's effective penalties,
 * L2-normalised artist rows, score = sum of cosines to the user's artists.
 *
 * At the Last.fm size those penalties (W: l1 = l2 = 94.6, H: l1 = l2 = 876) against values of at
 * most 1 zero every factor within two iterations, so every score ties and the list is the
 * tie-break order. Ties are broken by popularity (train listeners), as the reference pipeline's
 * ranking effectively did, so this row reads like the popularity row rather than the lowest
 * artist rows (which scored Recall@10 0.002).
 */
export function originalPipelineMethod(seed: number): EvaluationMethod {
  return {
    name: 'original pipeline (user-max, NMF k=60, sklearn penalties)',
    fit: async (train) => {
      const model = await trainModel(train, {
        components: ORIGINAL_SKLEARN.components,
        weighting: 'user-max',
        seed,
        maxIterations: ORIGINAL_SKLEARN.maxIterations,
        tolerance: ORIGINAL_SKLEARN.tolerance,
        minListeners: 1,
        ...originalPenalties(countPlayedArtists(train), countActiveUsers(train)),
      }, { neighbourListArtists: 0 });
      const rows = modelRows(train, model);
      const listeners = rowCounts(train.counts);
      return factorCosineRanker(model.artistFactors, model.components, rows, listeners);
    },
  };
}

/**
 * This project's model trained with `parameters` and `foldInPenalties` in its header, asked for
 * picks exactly as the bot asks: `Recommender.recommend` with the user's train artists and their
 * raw counts as the taste profile. Artists the model dropped are never recommended.
 */
export function projectMethod(
  name: string,
  parameters: TrainingParameters,
  foldInPenalties: { l1: number; l2: number },
  threads?: number,
): EvaluationMethod {
  return {
    name,
    fit: async (train) => {
      const model = await trainModel(train, parameters,
        { foldIn: foldInPenalties, threads, neighbourListArtists: 0 });
      return recommenderRanker(train, model);
    },
  };
}

/**
 * Ranks through `Recommender.recommend`, the bot's path: taste = the user's train artists with
 * their raw counts (the recommender weights them as training did). O(entries k + sweeps k^2 + n k).
 */
export function recommenderRanker(train: ListeningData, model: ModelData): RankArtists {
  const recommender = new Recommender(model);
  const rowOfKey = new Map(train.artists.map((artist, row) => [artist.key, row]));
  const byUser = transposeCsr(train.counts);

  return (_trainArtists, n, user) => {
    const taste: { artistKey: string; weight: number }[] = [];
    for (let i = byUser.rowPointers[user]; i < byUser.rowPointers[user + 1]; i++) {
      const artist = train.artists[byUser.columnIndices[i]];
      taste.push({ artistKey: artist.key, weight: byUser.values[i] });
    }
    const picks = recommender.recommend(taste, n);
    return Int32Array.from(picks, (pick) => rowOfKey.get(pick.artist.key) ?? -1);
  };
}

/**
 * Ranks by fold-in against `model` (trained on `train`) from the user's exactly weighted train
 * row: the same filter and weighting as training, including BM25's per-artist length norm that
 * the serving path leaves out. For comparison with `recommenderRanker`. O(entries k + sweeps k^2
 * + n k).
 */
export function foldInRanker(train: ListeningData, model: ModelData): RankArtists {
  const k = model.components;
  const rowOf = modelRows(train, model);

  // The user's weighted row as training saw it: same filter, same weighting.
  const filtered = filterListening(train, model.meta.parameters.minListeners);
  const weighting = model.meta.parameters.weighting;
  const weightedByUser = transposeCsr(applyWeighting(filtered.counts, weighting));
  const filteredColumn = new Map(filtered.users.map((user, column) => [user, column]));
  const scores = new Float64Array(train.artists.length);

  return (trainArtists, n, user) => {
    const column = filteredColumn.get(train.users[user]);
    const entries: { index: number; weight: number }[] = [];
    if (column !== undefined) {
      const { rowPointers, columnIndices, values } = weightedByUser;
      for (let i = rowPointers[column]; i < rowPointers[column + 1]; i++) {
        entries.push({ index: columnIndices[i], weight: values[i] });
      }
    }
    const factors = foldIn(model, entries);

    scores.fill(Number.NEGATIVE_INFINITY);
    for (let artist = 0; artist < rowOf.length; artist++) {
      const row = rowOf[artist];
      if (row < 0) continue;
      let score = 0;
      for (let c = 0; c < k; c++) score += model.artistFactors[row * k + c] * factors[c];
      scores[artist] = score;
    }
    return topN(scores, n, trainArtists);
  };
}

/** For each artist row of `data`, its row in `model` (matched by key), or -1. */
export function modelRows(data: ListeningData, model: ModelData): Int32Array {
  const rowOfKey = new Map(model.artists.map((artist, row) => [artist.key, row]));
  return Int32Array.from(data.artists, (artist) => rowOfKey.get(artist.key) ?? -1);
}

function countPlayedArtists(data: ListeningData): number {
  let played = 0;
  for (let artist = 0; artist < data.counts.rows; artist++) {
    if (data.counts.rowPointers[artist + 1] > data.counts.rowPointers[artist]) played++;
  }
  return played;
}

function countActiveUsers(data: ListeningData): number {
  const seen = new Set<number>();
  for (let i = 0; i < data.counts.rowPointers[data.counts.rows]; i++) {
    seen.add(data.counts.columnIndices[i]);
  }
  return seen.size;
}
