/**
 * The evaluation driver: split the listening data per seed, fit every method on the train part,
 * ask each for N artists per evaluated user (never one of their train artists) and average
 * Recall@N, nDCG@N and catalogue coverage over the seeds.
 */
import type { ListeningData } from '../model/types.ts';
import type { RankArtists } from './baselines.ts';
import type { HoldoutSplit } from './split.ts';
import { holdoutSplit, PROTOCOL_HOLDOUT } from './split.ts';
import { catalogueCoverage, ndcgAtN, recallAtN } from './metrics.ts';

/** One recommender under evaluation. `fit` sees only the train split. */
export interface EvaluationMethod {
  name: string;
  fit(train: ListeningData): Promise<RankArtists>;
}

/** Scores of one method, averaged over seeds. */
export interface MethodScore {
  method: string;
  recall: number;
  ndcg: number;
  coverage: number;
  /** Mean seconds spent in `fit`. */
  trainSeconds: number;
  /** Mean seconds spent producing every user's list. */
  rankSeconds: number;
}

export interface EvaluationOptions {
  seeds: number[];
  /** List length: 10 in the protocol. */
  listLength: number;
  /** Called after each method on each seed, for progress output. */
  onResult?(result: MethodScore & { seed: number }): void;
}

/** Recall@N, nDCG@N (means over evaluated users) and coverage of one ranker on one split. */
export function scoreSplit(
  split: HoldoutSplit,
  rank: RankArtists,
  listLength: number,
  catalogueSize: number,
) {
  let recall = 0;
  let ndcg = 0;
  const lists: Int32Array[] = [];
  for (let i = 0; i < split.users.length; i++) {
    const list = rank(split.trainArtists[i], listLength, split.users[i]);
    lists.push(list);
    recall += recallAtN(list, split.heldOut[i], listLength);
    ndcg += ndcgAtN(list, split.heldOut[i], listLength);
  }
  const users = Math.max(split.users.length, 1);
  return {
    recall: recall / users,
    ndcg: ndcg / users,
    coverage: catalogueCoverage(lists, catalogueSize),
  };
}

/**
 * Runs every method on every seed's split of `data`; returns one averaged score per method, in the
 * order given. Cost: the methods' own fit and ranking costs, times the number of seeds.
 */
export async function evaluateMethods(
  data: ListeningData,
  methods: EvaluationMethod[],
  options: EvaluationOptions,
): Promise<MethodScore[]> {
  if (options.seeds.length === 0) throw new RangeError('evaluateMethods: no seeds given');
  const totals = methods.map((method) => ({
    method: method.name, recall: 0, ndcg: 0, coverage: 0, trainSeconds: 0, rankSeconds: 0,
  }));
  const catalogueSize = data.artists.length;

  for (const seed of options.seeds) {
    const split = holdoutSplit(data.counts, { ...PROTOCOL_HOLDOUT, seed });
    const train: ListeningData = { ...data, counts: split.train };

    for (let m = 0; m < methods.length; m++) {
      const fitStarted = performance.now();
      const rank = await methods[m].fit(train);
      const trainSeconds = (performance.now() - fitStarted) / 1000;

      const rankStarted = performance.now();
      const scores = scoreSplit(split, rank, options.listLength, catalogueSize);
      const rankSeconds = (performance.now() - rankStarted) / 1000;

      const result = { method: methods[m].name, ...scores, trainSeconds, rankSeconds };
      options.onResult?.({ ...result, seed });
      const total = totals[m];
      total.recall += scores.recall;
      total.ndcg += scores.ndcg;
      total.coverage += scores.coverage;
      total.trainSeconds += trainSeconds;
      total.rankSeconds += rankSeconds;
    }
  }

  const seeds = options.seeds.length;
  return totals.map((total) => ({
    method: total.method,
    recall: total.recall / seeds,
    ndcg: total.ndcg / seeds,
    coverage: total.coverage / seeds,
    trainSeconds: total.trainSeconds / seeds,
    rankSeconds: total.rankSeconds / seeds,
  }));
}

/** The results as a markdown table, one row per method. */
export function formatResultsTable(results: MethodScore[], listLength: number): string {
  const header = `| method | Recall@${listLength} | nDCG@${listLength} | coverage | train s |`;
  const rows = results.map((result) =>
    `| ${result.method} | ${result.recall.toFixed(3)} | ${result.ndcg.toFixed(3)} | ` +
    `${result.coverage.toFixed(3)} | ${result.trainSeconds.toFixed(1)} |`);
  return [header, '| --- | ---: | ---: | ---: | ---: |', ...rows].join('\n');
}
