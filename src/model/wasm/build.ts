/**
 * Assembles the hand-written WebAssembly kernels: every `*.wat` in this folder becomes the `.wasm`
 * beside it, which is committed so that running the bot needs no build step. Run after editing a
 * kernel: `npm run build:wasm`. test/wasmKernels.test.ts re-assembles and compares the bytes, so
 * a .wat and its .wasm cannot drift apart.
 */
import {
  closeSync,
  fsyncSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import wabt from 'wabt';

/** The folder holding the kernels. */
export const WASM_FOLDER = dirname(fileURLToPath(import.meta.url));

/** The `.wat` files of the folder, by name, sorted. */
export function kernelSources(): string[] {
  return readdirSync(WASM_FOLDER)
    .filter((name) => name.endsWith('.wat'))
    .sort();
}

/**
 * The binary of one text-format kernel, with SIMD and threads (shared memory, atomics) enabled.
 * Throws with wabt's message (file, line, column) on a syntax or validation error.
 */
export async function assembleKernel(watPath: string): Promise<Uint8Array> {
  const toolkit = await wabt();
  const features = { simd: true, threads: true, bulk_memory: true };
  const module = toolkit.parseWat(watPath, readFileSync(watPath, 'utf8'), features);
  try {
    // wabt's own typings omit validate's features argument.
    (module.validate as (options: typeof features) => void)(features);
    return module.toBinary({ log: false, write_debug_names: false }).buffer;
  } finally {
    module.destroy();
  }
}

/** Writes `bytes` to `path` through a synced temporary file, so a reader never sees half of it. */
function writeAtomically(path: string, bytes: Uint8Array): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, bytes);
  const descriptor = openSync(temporary, 'r');
  fsyncSync(descriptor);
  closeSync(descriptor);
  renameSync(temporary, path);
}

async function main(): Promise<void> {
  for (const name of kernelSources()) {
    const bytes = await assembleKernel(join(WASM_FOLDER, name));
    const target = join(WASM_FOLDER, name.replace(/\.wat$/, '.wasm'));
    writeAtomically(target, bytes);
    console.log(`${name} -> ${bytes.length} bytes`);
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
