/**
 * The training pipeline: listening data in, a servable model out.
 *
 * Steps: keep artists with at least `minListeners` listeners (and users left with something),
 * weight the counts (src/model/weighting.ts), factorize the weighted artists x user matrix X ~ W H
 * with penalised NMF (objective and update rule in src/model/nmf.ts), then derive what serving
 * needs: the similarity embedding (unit rows, cosine of reconstructed rows), the Gram matrix
 * W^T W for fold-in, listeners per artist and the header.
 */
import type { SparseMatrix } from './sparse.ts';
import { nonzeros, rowCounts, selectRows, transposeCsr } from './sparse.ts';
import type { ListeningData, ModelArtist, ModelData, TrainingParameters } from './types.ts';
import { applyWeighting, WEIGHTINGS } from './weighting.ts';
import { factorize } from './nmf.ts';
import type { NmfProgress } from './nmf.ts';
import { gram, similarityEmbedding } from './embedding.ts';
import { MODEL_FORMAT_VERSION } from './modelFile.ts';

/**
 * The settings chosen by the evaluation (src/eval/, `npm run eval`): BM25 weighting (B = 0.3, see
 * src/model/weighting.ts), k = 128, artists with at least two listeners, tolerance 1e-5, and L2
 * penalties that keep the model from overfitting: strong on the artist factors, weaker on the
 * user factors. Their product sets the strength (unpenalised: Recall@10 0.124; a few times this
 * product narrows the picks to a few % of the catalogue, more collapses the model); the split
 * sets the scale of W that the fold-in penalty is measured against.
 * Seed 1, Recall@10 / nDCG@10 through Recommender.recommend (fold-in blended with neighbours):
 * k = 128 with l2Artist 4500 0.187 / 0.226, 6000 0.188 / 0.228; k = 192 with 4500 0.191 / 0.229,
 * 6000 0.191 / 0.229, 8000 0.190 / 0.231; k = 256 with 6000 0.191 / 0.230 (a third slower).
 * k = 128 is served: within 0.003 of k = 192, a third smaller and faster to train and to query.
 * L1 penalties and log1p weighting did no better; neither did KL-divergence NMF (multiplicative
 * updates, k = 64: log1p 0.168 / 0.204, bm25 0.121 / 0.137, raw counts 0.078 / 0.088).
 * TODO: tuned implicit ALS still ranks better (0.202 / 0.245 on this protocol); a
 * confidence-weighted non-negative factorization reached 0.193 / 0.230 on seed 1 in an
 * experiment (110 s on one thread) and is the next candidate once it trains in seconds.
 * TODO: the penalties are absolute, tuned to BM25 weights of play counts (mean ~290 a cell);
 * data on another scale (taste weights only, log1p) needs them retuned or scaled with the data.
 */
export const DEFAULT_PARAMETERS: TrainingParameters = {
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
 * Penalties for folding a new user in against W (stored in the model header). Far above the
 * training penalty on H: the recommendations lean towards W W^T x, which ranked better.
 */
export const DEFAULT_FOLD_IN: { l1: number; l2: number } = { l1: 0, l2: 100_000 };

export interface TrainOptions {
  /** Called after each NMF iteration. */
  onIteration?(progress: NmfProgress): void;
  /** Worker threads for the factorization; the factorizer's default when absent. */
  threads?: number;
  /** Fold-in penalties to record in the header; DEFAULT_FOLD_IN when absent. */
  foldIn?: { l1: number; l2: number };
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
  const foldIn = options.foldIn ?? DEFAULT_FOLD_IN;
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
  const result = await factorize(weighted, {
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
  return {
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
}

function validatePenalty(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a number >= 0, got ${value}`);
  }
}
