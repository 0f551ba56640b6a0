/**
 * `npm run bench`: every benchmark, each in a process of its own (so that one's memory and
 * threads do not colour the next), one after another; their tables go to stdout and to
 * bench/results.md with the machine they ran on.
 *
 * `npm run bench -- serving load` runs only the named ones. The whole set takes 10-20 minutes
 * on a 2-core machine, most of it scikit-learn and the two full retrains.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

interface Benchmark {
  name: string;
  title: string;
  script: string;
  args: string[];
}

const BENCHMARKS: Benchmark[] = [
  { name: 'serving', title: 'Model load and queries', script: 'serving.ts',
    args: ['--model', fileURLToPath(new URL('../models/default.nmf', import.meta.url))] },
  { name: 'training', title: 'Training against scikit-learn', script: 'training.ts', args: [] },
  { name: 'synthetic', title: 'A 360K-shaped matrix', script: 'synthetic.ts',
    args: ['--scale', '1', '--iterations', '4'] },
  { name: 'load', title: 'The bot under load, through the Discord stand-in', script: 'load.ts',
    args: ['--modes', 'members,burst,paced', '--rate', '100,500,1000', '--during-retrain'] },
  { name: 'retrain', title: '/similar latency while a retrain runs', script: 'retrainLatency.ts',
    args: [] },
];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !BENCHMARKS.some((bench) => bench.name === name));
if (unknown.length > 0) {
  console.error(`Unknown benchmark ${unknown.join(', ')}: choose from ` +
    BENCHMARKS.map((bench) => bench.name).join(', '));
  process.exit(1);
}

// Sections already in results.md stay unless this run measures them again.
const resultsFile = fileURLToPath(new URL('results.md', import.meta.url));
const sections = new Map<string, string>();
if (existsSync(resultsFile)) {
  for (const block of readFileSync(resultsFile, 'utf8').split('\n## ').slice(1)) {
    sections.set(block.slice(0, block.indexOf('\n')), `## ${block.trimEnd()}`);
  }
}

const machine = `${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), ` +
  `${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
let failures = 0;
for (const bench of BENCHMARKS) {
  if (wanted.length > 0 && !wanted.includes(bench.name)) continue;
  console.error(`\n== ${bench.title} (bench/${bench.script}) ==`);
  const started = performance.now();
  const run = spawnSync(process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL(bench.script, import.meta.url)), ...bench.args],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
  const seconds = (performance.now() - started) / 1000;
  const output = run.stdout.trim();
  console.log(output);
  if (run.status !== 0) failures++;
  sections.set(bench.title, [`## ${bench.title}`, '',
    `\`npx tsx bench/${bench.script} ${bench.args.join(' ')}\`` +
      ` (${new Date().toISOString().slice(0, 16)}Z, ${seconds.toFixed(0)} s` +
      `${run.status === 0 ? '' : `, exit ${run.status}`})`,
    '', output].join('\n'));
}

const ordered = BENCHMARKS.map((bench) => sections.get(bench.title))
  .filter((section): section is string => section !== undefined);
writeFileSync(resultsFile, [
  '# Benchmark results',
  '',
  `Machine: ${machine}. Ratios and medians are from one run each; the machine may be shared,` +
    ' so CPU-time columns are the steadier ones. `npm run bench` rewrites this file.',
  '',
  ordered.join('\n\n'),
  '',
].join('\n'));
console.error(`\nWrote ${resultsFile}`);
process.exitCode = failures > 0 ? 1 : 0;
