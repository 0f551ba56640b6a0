/**
 * Loading the model for a CLI command: `--model FILE`, else the serving model path. Problems
 * with the file become one-line UsageErrors.
 */
import { ModelFileError } from '../model/modelFile.ts';
import { DEFAULT_MODEL_PATH, servingModelPath } from '../model/modelPaths.ts';
import { Recommender } from '../model/recommender.ts';
import { UsageError } from './command.ts';

/** A loaded model, where it came from and how long loading took. */
export interface LoadedModel {
  recommender: Recommender;
  path: string;
  loadMilliseconds: number;
}

/**
 * Loads `modelOption` if given, else `servingModelPath()`. Throws UsageError naming the file and
 * the problem (missing, not a model file, corrupt). O(file size).
 */
export function loadModelForCli(modelOption: string | undefined): LoadedModel {
  const path = modelOption ?? servingModelPath();
  const start = performance.now();
  try {
    const recommender = Recommender.load(path);
    return { recommender, path, loadMilliseconds: performance.now() - start };
  } catch (error) {
    if (!(error instanceof ModelFileError)) throw error;
    const hint =
      modelOption === undefined && path === DEFAULT_MODEL_PATH
        ? ' (train one with `npm run cli -- train`, or pass --model FILE)'
        : '';
    throw new UsageError(`${error.message}${hint}`);
  }
}
