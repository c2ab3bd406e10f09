// The `bitlens` command: a table of subcommands (others, e.g. `serve`, register theirs here).
import { bench, BENCH_USAGE } from './bench.js';
import { generate, GENERATE_USAGE } from './generate.js';
import { importCommand, IMPORT_USAGE } from './import.js';
import { UsageError } from './options.js';

export interface Subcommand {
  usage: string;
  run(argv: string[]): Promise<void>;
}

export const SUBCOMMANDS: Record<string, Subcommand> = {
  generate: { usage: GENERATE_USAGE, run: generate },
  bench: { usage: BENCH_USAGE, run: bench },
  import: { usage: IMPORT_USAGE, run: importCommand },
  // The browser host (server/), loaded only when asked for.
  serve: {
    usage: 'bitlens serve [--port N] [--data-dir DIR] [--models-dir DIR] [--api-token TOKEN]',
    run: async (argv) => (await import('../server/serve-command.js')).serve(argv),
  },
};

const usage = () => `usage:\n${Object.values(SUBCOMMANDS).map((s) => `  ${s.usage}`).join('\n')}\n`;

/** Runs the command line; returns the exit code (errors are printed, never thrown). */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const cmd = SUBCOMMANDS[name];
  if (!cmd) {
    process.stderr.write(`bitlens: unknown command ${JSON.stringify(name)} (commands: ${Object.keys(SUBCOMMANDS).join(', ')})\n${usage()}`);
    return 2;
  }
  try {
    await cmd.run(rest);
    return 0;
  } catch (e) {
    const err = e as Error;
    if (err instanceof UsageError) {
      process.stderr.write(`bitlens ${name}: ${err.message}\nusage: ${cmd.usage}\n`);
      return 2;
    }
    process.stderr.write(`bitlens ${name}: ${err.message}\n`);
    return 1;
  }
}
