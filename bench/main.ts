/**
 * The entry of a bench script: run its main with the command line, and end with its exit code;
 * a PushbenchError is a sentence on stderr and exit 2 for bad input, 1 otherwise (as the CLI).
 */
import { exitCodeOf, PushbenchError } from '../core/errors.ts';

export async function runBenchMain(name: string, main: (argv: string[]) => Promise<number>): Promise<void> {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof PushbenchError)) throw err;
    process.stderr.write(`${name}: ${err.message}\n`);
    process.exitCode = exitCodeOf(err);
  }
}
