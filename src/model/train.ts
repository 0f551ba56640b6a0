/**
 * The training pipeline: listening data in, a servable model out.
 *
 * Steps: keep artists with at least `minListeners` listeners (and users left with something),
 * weight the counts (src/model/weighting.ts), factorize the weighted artists x user matrix X ~ W H
 * with non-negative factors, either confidence-weighted on played / not played (`solver:
 * 'implicit'`, src/model/implicitNmf.ts) or penalised Frobenius NMF of the weights themselves
 * (`'frobenius'`, src/model/nmf.ts; objectives and update rules at the top of each), then derive
 * what serving needs: the similarity embedding (unit rows, cosine of reconstructed rows), the
 * Gram matrix W^T W for fold-in, listeners per artist and the header.
 */
import type { SparseMatrix } from './sparse.ts';
import { nonzeros, rowCounts, selectRows, transposeCsr } from './sparse.ts';
import type {
  ListeningData,
  ModelArtist,
  ModelData,
  Solver,
  TrainingParameters,
} from './types.ts';
import { applyWeighting, WEIGHTINGS } from './weighting.ts';
import { factorize } from './nmf.ts';
import { factorizeImplicit } from './implicitNmf.ts';
import type { ImplicitNmfOptions } from './implicitNmf.ts';
import type { NmfProgress } from './nmf.ts';
import { gram, similarityEmbedding } from './embedding.ts';
import { MODEL_FORMAT_VERSION } from './modelFile.ts';
import { Recommender } from './recommender.ts';

/**
 * `/similar` lists are precomputed for this many of the most listened artists (all of them up to
 * that size): O(lists x artists x k) of training, under 2 s for the shipped model, and 100 bytes
 * of file per list; the rest are ranked when asked (O(artists k)) and cached.
 */
export const NEIGHBOUR_LIST_ARTISTS = 10_000;

/**
 * The settings chosen by the evaluation (src/eval/, `npm run eval`; held-out Recall@10 / nDCG@10,
 * seed 1 unless said): the implicit solver (src/model/implicitNmf.ts: played / not played with
 * confidence 1 + log(1 + count), W, H >= 0), log1p weighting, confidence 1, L2 30 on both sides,
 * k = 256, 25 iterations, artists with at least two listeners; served through
 * Recommender.recommend (fold-in on the training objective, blended with neighbours,
 * IMPLICIT_NEIGHBOUR_BLEND), mean of seeds 1 and 2: 0.205 / 0.247; k = 192 0.203 / 0.245 (seeds
 * 1 / 2 0.205 / 0.247 and 0.201 / 0.244), k = 128 0.204 / 0.245 and 0.201 / 0.243 in a quarter
 * of the training time. k = 256 is served for its margin over tuned ALS (below). The Frobenius
 * model below: 0.188 / 0.228; tuned implicit ALS without the sign constraint (Python, mean of
 * the seeds): 0.202 / 0.245.
 * Grid, user factors scored directly (no blend), 15 iterations: k = 64 with bm25 weights,
 * confidence 0.01 / 0.02, L2 30: 0.192 / 0.233, 0.192 / 0.229; k = 64, log1p, confidence
 * 0.5 / 1 / 3 (L2 15 / 30 / 30): 0.191 / 0.229, 0.195 / 0.236, 0.185 / 0.213; k = 128, log1p,
 * confidence 1, L2 20 / 30 / 45: 0.194 / 0.229, 0.200 / 0.241, 0.190 / 0.231. At k = 128:
 * 25 iterations 0.202 / 0.243, 40 iterations 0.201 / 0.241; 1 coordinate sweep per row and
 * 40 iterations 0.187 / 0.225, 6 sweeps 0.200 / 0.240 (3 are used).
 * Training takes about 5.4 s on two threads (10.3 s on one) at this size (`npm run bench`),
 * bit-identical to the single-threaded plain-JS solver it replaced (38 s at k = 192).
 */
export const DEFAULT_PARAMETERS: TrainingParameters = {
  solver: 'implicit',
  confidence: 1,
  components: 256,
  weighting: 'log1p',
  seed: 42,
  maxIterations: 25,
  tolerance: 1e-5,
  l1Artist: 0,
  l2Artist: 30,
  l1User: 0,
  l2User: 30,
  minListeners: 2,
};

/**
 * The best settings found for the Frobenius solver (HALS, src/model/nmf.ts, kept for the bench
 * against scikit-learn): BM25 weights (B = 0.3), k = 128, L2 6000 on W and 400 on H, at most 100
 * iterations (seed 1: 0.188 / 0.228 through Recommender.recommend, NEIGHBOUR_BLEND); k = 192
 * 0.191 / 0.229. L1 penalties, log1p weighting and KL-divergence NMF did no better.
 */
export const FROBENIUS_PARAMETERS: TrainingParameters = {
  solver: 'frobenius',
  components: 128,
  weighting: 'bm25',
  seed: 42,
  maxIterations: 100,
  tolerance: 1e-5,
  l1Artist: 0,
  l2Artist: 6_000,
  l1User: 0,
  l2User: 400,
  minListeners: 2,
};

/**
 * The fold-in penalties that go with `parameters`: for the implicit solver the training penalty
 * on the user factors (the fold-in is the user's row of the training objective); for the
 * Frobenius solver l2 = 100000, far above the training penalty on H, so that recommendations lean
 * towards W W^T x, which ranked better.
 */
export function defaultFoldIn(parameters: TrainingParameters): { l1: number; l2: number } {
  return (parameters.solver ?? 'frobenius') === 'implicit'
    ? { l1: 0, l2: parameters.l2User }
    : { l1: 0, l2: 100_000 };
}

/** Fold-in penalties of DEFAULT_PARAMETERS (stored in the model header). */
export const DEFAULT_FOLD_IN: { l1: number; l2: number } = defaultFoldIn(DEFAULT_PARAMETERS);

/** The solvers `trainModel` knows, for validating user input. */
export const SOLVERS: readonly Solver[] = ['frobenius', 'implicit'];

export interface TrainOptions {
  /** Called after each NMF iteration. */
  onIteration?(progress: NmfProgress): void;
  /** Worker threads for the factorization; the factorizer's default when absent. */
  threads?: number;
  /** Fold-in penalties to record in the header; `defaultFoldIn(parameters)` when absent. */
  foldIn?: { l1: number; l2: number };
  /**
   * Precompute `/similar` lists for this many artists (default NEIGHBOUR_LIST_ARTISTS; 0 for
   * none, as the evaluation, which never serves them, does).
   */
  neighbourListArtists?: number;
}

/** Listening data after the listener filter: what was actually factorized. */
export interface FilteredListening {
  artists: ModelArtist[];
  users: string[];
  counts: SparseMatrix;
}

/**
 * Trains a model from `data` with `parameters`. Throws RangeError with a readable message for a
 * bad parameter, when nothing is left after filtering, or when `components` exceeds
 * min(artists, users) of the filtered data. Cost: the factorization, O(nnz k + (artists + users)
 * k^2) per iteration, plus O(artists k^2) for the embedding.
 */
export async function trainModel(
  data: ListeningData,
  parameters: TrainingParameters,
  options: TrainOptions = {},
): Promise<ModelData> {
  validateParameters(parameters);
  const foldIn = options.foldIn ?? defaultFoldIn(parameters);
  validatePenalty('fold-in l1', foldIn.l1);
  validatePenalty('fold-in l2', foldIn.l2);

  const filtered = filterListening(data, parameters.minListeners);
  const artistCount = filtered.artists.length;
  const userCount = filtered.users.length;
  const k = parameters.components;
  if (k > Math.min(artistCount, userCount)) {
    throw new RangeError(
      `components (${k}) must be at most min(artists, users) = ` +
        `min(${artistCount}, ${userCount}) after filtering`,
    );
  }

  const weighted = applyWeighting(filtered.counts, parameters.weighting);
  const started = performance.now();
  const result =
    (parameters.solver ?? 'frobenius') === 'implicit'
      ? await factorizeImplicit(weighted, implicitOptionsOf(parameters, options))
      : await factorize(weighted, {
          components: k,
          maxIterations: parameters.maxIterations,
          tolerance: parameters.tolerance,
          seed: parameters.seed,
          l1Artist: parameters.l1Artist,
          l2Artist: parameters.l2Artist,
          l1User: parameters.l1User,
          l2User: parameters.l2User,
          threads: options.threads,
          onIteration: options.onIteration,
        });
  const trainingSeconds = (performance.now() - started) / 1000;

  const artistFactors = result.artistFactors;
  const embedding = similarityEmbedding(
    artistFactors,
    result.userFactors,
    artistCount,
    userCount,
    k,
  );
  const model: ModelData = {
    meta: {
      formatVersion: MODEL_FORMAT_VERSION,
      createdAt: new Date().toISOString(),
      parameters: { ...parameters },
      data: {
        source: data.source,
        artists: artistCount,
        users: userCount,
        nonzeros: nonzeros(weighted),
      },
      objective: result.objective,
      iterations: result.iterations,
      trainingSeconds,
      foldIn: { ...foldIn },
    },
    artists: filtered.artists,
    components: k,
    artistFactors,
    artistGram: gram(artistFactors, artistCount, k),
    similarityEmbedding: embedding,
  };
  const listArtists = options.neighbourListArtists ?? NEIGHBOUR_LIST_ARTISTS;
  if (listArtists > 0) model.neighbourLists = new Recommender(model).neighbourLists(listArtists);
  return model;
}

/** The implicit solver's options for `parameters` (its confidence as alpha). */
export function implicitOptionsOf(
  parameters: TrainingParameters,
  options: Pick<TrainOptions, 'threads' | 'onIteration'> = {},
): ImplicitNmfOptions {
  return {
    components: parameters.components,
    maxIterations: parameters.maxIterations,
    tolerance: parameters.tolerance,
    seed: parameters.seed,
    alpha: parameters.confidence ?? 0,
    l2Artist: parameters.l2Artist,
    l2User: parameters.l2User,
    threads: options.threads,
    onIteration: options.onIteration,
  };
}

/**
 * Keeps artists with at least `minListeners` listeners, then users with at least one kept artist.
 * Throws RangeError when nothing is left. O(nnz).
 */
export function filterListening(data: ListeningData, minListeners: number): FilteredListening {
  const listeners = rowCounts(data.counts);
  const keptArtists: number[] = [];
  for (let artist = 0; artist < data.counts.rows; artist++) {
    if (listeners[artist] >= minListeners) keptArtists.push(artist);
  }
  const byArtist = selectRows(data.counts, keptArtists);

  const byUser = transposeCsr(byArtist);
  const keptUsers: number[] = [];
  for (let user = 0; user < byUser.rows; user++) {
    if (byUser.rowPointers[user + 1] > byUser.rowPointers[user]) keptUsers.push(user);
  }
  if (keptArtists.length === 0 || keptUsers.length === 0) {
    throw new RangeError(
      `nothing left to train on: no artist has ${minListeners} or more listeners ` +
        `(${data.counts.rows} artists, ${data.counts.columns} users in the data)`,
    );
  }
  const counts = transposeCsr(selectRows(byUser, keptUsers));

  return {
    artists: keptArtists.map((row) => ({ ...data.artists[row], listeners: listeners[row] })),
    users: keptUsers.map((column) => data.users[column]),
    counts,
  };
}

/** Throws RangeError naming the first parameter that is out of range. */
export function validateParameters(parameters: TrainingParameters): void {
  const { components, maxIterations, tolerance, minListeners, weighting } = parameters;
  if (!Number.isInteger(components) || components < 1) {
    throw new RangeError(`components must be a whole number >= 1, got ${components}`);
  }
  if (!Number.isInteger(maxIterations) || maxIterations < 1) {
    throw new RangeError(`maxIterations must be a whole number >= 1, got ${maxIterations}`);
  }
  if (!Number.isFinite(tolerance) || tolerance < 0) {
    throw new RangeError(`tolerance must be a number >= 0, got ${tolerance}`);
  }
  if (!Number.isInteger(minListeners) || minListeners < 1) {
    throw new RangeError(`minListeners must be a whole number >= 1, got ${minListeners}`);
  }
  if (!Number.isInteger(parameters.seed)) {
    throw new RangeError(`seed must be a whole number, got ${parameters.seed}`);
  }
  if (!WEIGHTINGS.includes(weighting)) {
    throw new RangeError(`weighting must be one of ${WEIGHTINGS.join(', ')}, got ${weighting}`);
  }
  validatePenalty('l1Artist', parameters.l1Artist);
  validatePenalty('l2Artist', parameters.l2Artist);
  validatePenalty('l1User', parameters.l1User);
  validatePenalty('l2User', parameters.l2User);
  const solver = parameters.solver ?? 'frobenius';
  if (!SOLVERS.includes(solver)) {
    throw new RangeError(`solver must be one of ${SOLVERS.join(', ')}, got ${solver}`);
  }
  if (solver === 'implicit') {
    if (parameters.l1Artist !== 0 || parameters.l1User !== 0) {
      throw new RangeError('the implicit solver takes no L1 penalties: set l1Artist = l1User = 0');
    }
    validatePenalty('confidence', parameters.confidence ?? Number.NaN);
  }
}

function validatePenalty(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a number >= 0, got ${value}`);
  }
}
