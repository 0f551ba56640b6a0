/**
 * Reads a V8 CPU profile (`.cpuprofile`, e.g. from `bench/load.ts --profile DIR`) and prints
 * where the time went: by area of the stack (discord.js, the gateway, REST, the model, SQLite,
 * logging...), then the functions with the most self time.
 *
 * A sample is charged to the area of the innermost frame that belongs to one, so V8 builtins
 * and Node internals count towards the code that called them.
 *
 * Run: `npx tsx bench/profileSummary.ts FILE.cpuprofile [--interactions N] [--top N]`.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Areas, innermost match wins; checked in this order against a frame's url and name. */
const AREAS: { area: string; matches(url: string, name: string): boolean }[] = [
  { area: 'idle', matches: (_url, name) => name === '(idle)' },
  { area: 'garbage collector', matches: (_url, name) => name === '(garbage collector)' },
  { area: 'request log (SQLite)', matches: (url) => url.includes('src/storage/') ||
    url.includes('better-sqlite3') },
  { area: 'logging (pino)', matches: (url) => url.includes('/pino') ||
    url.includes('src/logger.ts') || url.includes('sonic-boom') },
  { area: 'model: autocomplete search', matches: (url) => url.includes('artistSearch.ts') },
  { area: 'model: similar, resolve', matches: (url) => url.includes('src/model/') },
  { area: 'our commands and replies', matches: (url) => url.includes('src/commands/') ||
    url.includes('src/interactions/') },
  { area: 'our transport', matches: (url) => url.includes('src/transports/') },
  { area: 'REST (@discordjs/rest)', matches: (url) => url.includes('@discordjs/rest') },
  { area: 'HTTP client (undici)', matches: (url) => url.includes('undici') },
  { area: 'gateway (@discordjs/ws, ws)', matches: (url) => url.includes('@discordjs/ws') ||
    url.includes('/ws/lib/') || url.includes('zlib') },
  { area: 'discord.js (structures, caches, events)', matches: (url) =>
    url.includes('discord.js/') || url.includes('@discordjs/') ||
    url.includes('async_event_emitter') || url.includes('@sapphire') },
  { area: 'Node internals (net, streams, timers)', matches: (url) => url.startsWith('node:') },
];

/** The summary of `profile` as text; per-interaction columns when `interactions` is given. */
export function summariseProfile(profile: Profile, interactions?: number, top = 25): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parent.set(child, node.id);
  }

  // The area of each node: its own, else its nearest caller's.
  const areaOf = new Map<number, string>();
  const resolveArea = (id: number): string => {
    const known = areaOf.get(id);
    if (known !== undefined) return known;
    const { url, functionName } = byId.get(id)!.callFrame;
    const own = AREAS.find((rule) => rule.matches(url, functionName))?.area;
    const up = parent.get(id);
    const area = own ?? (up === undefined ? 'other' : resolveArea(up));
    areaOf.set(id, area);
    return area;
  };

  const areaTime = new Map<string, number>();
  const selfTime = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const micros = profile.timeDeltas[index] ?? 0;
    total += micros;
    const area = resolveArea(id);
    areaTime.set(area, (areaTime.get(area) ?? 0) + micros);
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where = url.replace(/^.*node_modules\//, 'nm/')
      .replace(/^file:\/\/.*?\/(src|bench|test)\//, '$1/');
    const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
    selfTime.set(key, (selfTime.get(key) ?? 0) + micros);
  });

  const busy = total - (areaTime.get('idle') ?? 0);
  const line = (label: string, micros: number) => {
    const perInteraction = interactions === undefined ? ''
      : `  ${(micros / 1000 / interactions).toFixed(3).padStart(7)} ms/interaction`;
    return `${(micros / 1000).toFixed(0).padStart(7)} ms ${(100 * micros / busy).toFixed(1)
      .padStart(5)}%${perInteraction}  ${label}`;
  };
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]);
  return [
    `${(total / 1000).toFixed(0)} ms sampled, ${(busy / 1000).toFixed(0)} ms busy ` +
      '(percentages of busy time)',
    '--- by area',
    ...sorted(areaTime).filter(([area]) => area !== 'idle').map(([area, t]) => line(area, t)),
    '--- self time',
    ...sorted(selfTime).filter(([key]) => !key.startsWith('(idle)')).slice(0, top)
      .map(([key, t]) => line(key, t)),
  ].join('\n');
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { interactions: { type: 'string' }, top: { type: 'string' } },
});
for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const interactions = values.interactions === undefined ? undefined : Number(values.interactions);
  process.stdout.write(`== ${file}\n${summariseProfile(profile, interactions,
    Number(values.top ?? 25))}\n\n`);
}
