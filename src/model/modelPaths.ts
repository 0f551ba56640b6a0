/**
 * Where model files live: the shipped default, the nightly retrained ones, and which one to
 * serve.
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `<repo>/models/default.nmf`: the model trained on the Last.fm data. */
export const DEFAULT_MODEL_PATH = join(REPOSITORY_ROOT, 'models', 'default.nmf');

/** `<repo>/models/retrained`: nightly models, named `model-YYYYMMDDTHHMMSSZ.nmf`. */
export const RETRAINED_MODEL_DIR = join(REPOSITORY_ROOT, 'models', 'retrained');

const RETRAINED_NAME = /^model-\d{8}T\d{6}Z\.nmf$/;

/**
 * The model file to serve: `MODEL_PATH` from `env` if set (relative to the working directory);
 * else the newest `models/retrained/model-*.nmf` by name (names sort by time); else
 * DEFAULT_MODEL_PATH. Only looks at names: the caller reports a missing or broken file.
 * `retrainedDir` is for tests. O(files in the folder).
 */
export function servingModelPath(
  env: NodeJS.ProcessEnv = process.env,
  retrainedDir: string = RETRAINED_MODEL_DIR,
): string {
  const configured = env.MODEL_PATH?.trim();
  if (configured) return resolve(configured);

  let names: string[];
  try {
    names = readdirSync(retrainedDir);
  } catch {
    return DEFAULT_MODEL_PATH;
  }
  const newest = names
    .filter((name) => RETRAINED_NAME.test(name))
    .sort()
    .at(-1);
  return newest === undefined ? DEFAULT_MODEL_PATH : join(retrainedDir, newest);
}
