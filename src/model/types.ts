/**
 * The shapes that cross module boundaries: listening data going into training, and the trained
 * model that every command reads. Plain data, no behaviour.
 */
import type { ArtistSearchIndex } from './artistSearch.ts';
import type { SparseMatrix } from './sparse.ts';

/** One artist as the catalogue knows it. */
export interface CatalogueArtist {
  /** Stable id in the data source (the database id, or the dataset's own id). */
  id: number;
  /** Display name, in its real spelling. */
  name: string;
  /** `lookupKey(name)`: unique within a catalogue. */
  key: string;
  /** Most-applied tags first; may be empty. */
  tags: string[];
  /** A link for the artist, or null. */
  url: string | null;
}

/**
 * Listening data ready to factorize: `counts` is artists x users (row i = artists[i], column j =
 * users[j]) holding raw weights (play counts, track counts, taste weights). No weighting applied.
 */
export interface ListeningData {
  artists: CatalogueArtist[];
  /** External user ids, one per column (dataset user ids, `discord:<snowflake>` for members). */
  users: string[];
  counts: SparseMatrix;
  /** Where it came from, for the model header: `hetrec:/path`, `sqlite:/path`. */
  source: string;
}

/** One artist in a trained model. */
export interface ModelArtist extends CatalogueArtist {
  /** Number of users with a nonzero count for this artist in the training data. */
  listeners: number;
}

/** How `counts` were turned into the matrix that was factorized. */
export type Weighting = 'raw' | 'log1p' | 'bm25' | 'user-max';

/**
 * Which objective the factorization minimises: 'frobenius' fits the weighted counts (HALS,
 * src/model/nmf.ts), 'implicit' fits played / not played with confidence weights
 * (src/model/implicitNmf.ts).
 */
export type Solver = 'frobenius' | 'implicit';

/** Settings of one training run, stored in the model header. */
export interface TrainingParameters {
  /** Absent in models written before the implicit solver: 'frobenius'. */
  solver?: Solver;
  /** Implicit solver only: confidence 1 + confidence x weighted count on played cells. */
  confidence?: number;
  components: number;
  weighting: Weighting;
  seed: number;
  maxIterations: number;
  tolerance: number;
  /** Penalties on the artist factors W and user factors H (objective in src/model/nmf.ts). */
  l1Artist: number;
  l2Artist: number;
  l1User: number;
  l2User: number;
  /** Artists with fewer listeners were left out of training. */
  minListeners: number;
}

/** Everything the model header says about a model. */
export interface ModelMeta {
  formatVersion: number;
  /** ISO 8601 time the model was written. */
  createdAt: string;
  parameters: TrainingParameters;
  data: { source: string; artists: number; users: number; nonzeros: number };
  objective: number;
  iterations: number;
  trainingSeconds: number;
  /** Penalties used when folding a new user in against the artist factors. */
  foldIn: { l1: number; l2: number };
}

/**
 * A trained model in memory. Factor arrays are row-major, artists x components.
 * - `artistFactors` (W) is what fold-in solves against.
 * - `artistGram` is W^T W (components x components), stored so fold-in needs no O(artists k^2) work.
 * - `similarityEmbedding` holds one unit-length row per artist; cosine similarity is a dot product.
 */
export interface ModelData {
  meta: ModelMeta;
  artists: ModelArtist[];
  components: number;
  artistFactors: Float32Array;
  artistGram: Float64Array;
  similarityEmbedding: Float32Array;
  /** The artist search index when it came with the model file (version 2 on); else built on use. */
  searchIndex?: ArtistSearchIndex;
  /** Precomputed `/similar` lists (version 4 on), written by the trainer; else ranked on use. */
  neighbourLists?: NeighbourLists;
}

/**
 * The best neighbours of the most listened artists, as Recommender.similarArtists ranks them:
 * artist `artists[i]` (a row) has its `width` best neighbours at
 * `neighbours[i * width .. (i + 1) * width)`, rows best first, padded with -1 when it has fewer.
 */
export interface NeighbourLists {
  width: number;
  artists: Int32Array;
  neighbours: Int32Array;
}
