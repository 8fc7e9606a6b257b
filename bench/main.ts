/**
 * The entry of a bench script: run its main with the command line, and end with its exit code;
 * a PushbenchError is a sentence on stderr and exit 2 for bad input, 1 otherwise (as the CLI).
 */
import { exitCodeOf, PushbenchError, validationError } from '../core/errors.ts';
import { formatHelp, parseOptions, type OptionSpec, type OptionValues } from '../core/options.ts';

export async function runBenchMain(name: string, main: (argv: string[]) => Promise<number>): Promise<void> {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof PushbenchError)) throw err;
    process.stderr.write(`${name}: ${err.message}\n`);
    process.exitCode = exitCodeOf(err);
  }
}

/**
 * A bench script's options: their values, or null after printing the help (`--help`); throws
 * PB_BAD_OPTION with every problem.
 */
export function benchOptions(argv: string[], specs: readonly OptionSpec[], usage: string, about: string): OptionValues | null {
  const p = parseOptions(argv, specs);
  if (p.help) {
    process.stdout.write(formatHelp(usage, about, specs));
    return null;
  }
  if (p.problems.length) throw validationError(p.problems);
  return p.values;
}
