/**
 * Choosing the model to serve at start-up: the newest retrained model that reads back and is
 * numerically sound; with none, a model trained now from the database when it holds listening
 * data or members' tastes and it passes the retrain checks against the shipped model; else the
 * shipped default model.
 */
import { existsSync, renameSync } from 'node:fs';

import { ModelFileError, readModel } from '../model/modelFile.ts';
import { DEFAULT_MODEL_PATH, RETRAINED_MODEL_DIR } from '../model/modelPaths.ts';
import { Recommender } from '../model/recommender.ts';
import { listServedModels } from './modelStore.ts';
import { runRetrain } from './retrainRun.ts';
import type { RetrainSettings } from './retrainRun.ts';
import { findNumericalProblem } from './validateModel.ts';
import { openStorage } from '../storage/storage.ts';

/** Options of `prepareServingModel`: the retrain settings plus the shipped model. */
export interface PrepareOptions extends RetrainSettings {
  /** The model shipped with the bot; defaults to models/default.nmf. */
  defaultModelPath?: string;
}

/** The model to start serving, and where it came from. */
export interface PreparedModel {
  recommender: Recommender;
  path: string;
  origin: 'retrained' | 'trained-at-start' | 'default';
}

/**
 * Returns the model to serve (see above). A retrained file that does not read back is moved
 * aside to `<name>.rejected` and the next newest tried. Throws `ModelFileError` only when
 * nothing can be served at all (no usable retrained model, no training possible, and the
 * default model missing or broken). Cost: one model read, or one training run.
 */
export async function prepareServingModel(options: PrepareOptions): Promise<PreparedModel> {
  const directory = options.modelDirectory ?? RETRAINED_MODEL_DIR;
  const defaultPath = options.defaultModelPath ?? DEFAULT_MODEL_PATH;
  const logger = options.logger;

  // The newest retrained model that is sound.
  for (const path of listServedModels(directory)) {
    const problem = loadProblem(path);
    if (typeof problem !== 'string') {
      logger.info({ path, artists: problem.artistCount }, 'serving the newest retrained model');
      return { recommender: problem, path, origin: 'retrained' };
    }
    const movedTo = `${path}.rejected`;
    renameSync(path, movedTo);
    logger.error({ path, movedTo }, `retrained model refused at start: ${problem}`);
  }

  // None: train one now if the database has something to train on, checked against the shipped
  // model like any nightly candidate (members' tastes alone must not shrink its catalogue).
  const shipped = loadProblem(defaultPath);
  if (existsSync(options.databasePath) && databaseHasTrainingData(options.databasePath)) {
    logger.info({ database: options.databasePath }, 'no retrained model: training one before serving');
    const compareWith = typeof shipped === 'string' ? undefined : shipped;
    const result = await runRetrain(options, compareWith, 'start-up');
    if (result.recommender !== undefined && result.path !== undefined) {
      return { recommender: result.recommender, path: result.path, origin: 'trained-at-start' };
    }
    logger.warn({ reason: result.message }, 'no model trained at start');
  }

  // Neither: the shipped model.
  if (typeof shipped === 'string') {
    throw new ModelFileError(`${shipped}; and there is no retrained model and nothing to ` +
      'train one from: import listening data (`npm run cli -- import`) or train the default ' +
      'model (`npm run cli -- train`)');
  }
  logger.info({ path: defaultPath, artists: shipped.artistCount },
    'serving the shipped default model (no usable retrained model)');
  return { recommender: shipped, path: defaultPath, origin: 'default' };
}

/** The loaded model, or why it cannot be served. */
function loadProblem(path: string): Recommender | string {
  try {
    const model = readModel(path);
    return findNumericalProblem(model) ?? new Recommender(model);
  } catch (error) {
    if (error instanceof ModelFileError) return error.message;
    throw error;
  }
}

/** Whether the database holds anything to train on; an unreadable one answers true, so the
 * retrain runs and reports why it cannot. */
function databaseHasTrainingData(path: string): boolean {
  try {
    const storage = openStorage(path, { readonly: true });
    try {
      return storage.hasTrainingData();
    } finally {
      storage.close();
    }
  } catch {
    return true;
  }
}
