/**
 * The command line: `npm run cli -- <command> [options]`, `npm run cli -- <command> --help`.
 * Each command lives in its own file under src/cli/.
 */
import type { CliCommand } from './cli/command.ts';
import { UsageError } from './cli/command.ts';
import { importCommand } from './cli/import.ts';
import { trainCommand } from './cli/train.ts';
import { evaluateCommand } from './cli/evaluate.ts';
import { similarCommand } from './cli/similar.ts';
import { recommendCommand } from './cli/recommend.ts';
import { infoCommand } from './cli/info.ts';
import { retrainCommand } from './cli/retrain.ts';

const COMMANDS: CliCommand[] = [
  importCommand, trainCommand, evaluateCommand, similarCommand, recommendCommand, infoCommand,
  retrainCommand,
];

function overview(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length), 8);
  const lines = COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`);
  return ['Usage: npm run cli -- <command> [options]', '', 'Commands:', ...lines, '',
    'Run a command with --help for its options.'].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(overview());
    return name === undefined ? 1 : 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command === undefined) {
    console.error(`Unknown command "${name}".\n\n${overview()}`);
    return 1;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${command.name}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
