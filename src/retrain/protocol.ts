/**
 * The messages the retrain parent and its forked worker exchange over the IPC channel. The parent
 * sends one `job`; the worker answers with any number of `progress` messages and exactly one of
 * `done`, `skipped` or `failed`, then exits. Plain data only: every message is JSON-serialised.
 */
import type { TrainingParameters } from '../model/types.ts';
import type { MemberWeights } from '../storage/listeningData.ts';

/** How strongly a member's tastes and requests count, in play-count equivalents. */
export type { MemberWeights };

/** One held-out case: a listener's other artists, and the artist hidden from them. */
export interface HeldOutCase {
  /** The artists left in the profile (lookup keys) with the listener's raw counts. */
  profile: { artistKey: string; weight: number }[];
  /** Lookup key of the hidden artist. */
  hidden: string;
}

/** Test-only faults the worker can be told to simulate. */
export type WorkerFault = 'crash' | 'hang' | 'corrupt-output' | 'out-of-memory';

/** What the worker is asked to do. */
export interface RetrainJob {
  /** SQLite database, opened read-only. */
  databasePath: string;
  /** Where the worker writes the candidate model; the parent promotes it after checking it. */
  candidatePath: string;
  members: MemberWeights;
  /** Artists with fewer listeners are left out; undefined keeps the training default. */
  minListeners?: number;
  /** Number of held-out cases to draw for the parent's check. */
  heldOutCases: number;
  /** Overrides of the training defaults (`DEFAULT_PARAMETERS`); tests use small ones. */
  parameters?: Partial<TrainingParameters>;
  /** Threads for the factorization; 1 leaves the other core to the bot. */
  threads?: number;
  /** Seed for the held-out sample (training keeps its own, fixed, seed). */
  seed: number;
  /** Simulate a failure (tests only). */
  fault?: WorkerFault;
}

/** Figures of one finished training run. */
export interface RetrainSummary {
  artists: number;
  /** Users in the matrix, members included. */
  users: number;
  /** Discord members among the users. */
  members: number;
  nonzeros: number;
  iterations: number;
  objective: number;
  trainingSeconds: number;
  /** Peak resident memory of the worker, in MiB. */
  peakRssMb: number;
  heldOut: HeldOutCase[];
}

/** Parent to worker. */
export interface JobMessage {
  type: 'job';
  job: RetrainJob;
}

/** Worker to parent. */
export type WorkerMessage =
  | {
      type: 'progress';
      stage: 'reading' | 'training' | 'writing';
      iteration?: number;
      maxIterations?: number;
      objective?: number;
      rssMb: number;
    }
  | { type: 'done'; summary: RetrainSummary }
  | { type: 'skipped'; reason: string }
  | { type: 'failed'; message: string; code?: string };

/** Narrows an unknown IPC payload to a worker message (the channel carries anything). */
export function isWorkerMessage(value: unknown): value is WorkerMessage {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === 'progress' || type === 'done' || type === 'skipped' || type === 'failed';
}
