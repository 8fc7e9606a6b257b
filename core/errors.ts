/**
 * One error catalogue. Setup paths throw {@link PushbenchError} (a stable `code` and a sentence
 * that says what to do); hot paths count codes instead of throwing.
 */
export const ERROR_CODES = {
  PB_BAD_OPTION: 'an option or file failed validation',
  PB_TARGET_UNREACHABLE: 'the target server did not answer',
  PB_TARGET_SHAPE: 'the target answered in a shape its profile does not describe',
  PB_SERVER_START: 'the reference server did not start',
  PB_RESULT_FILE: 'a result file could not be read',
  PB_SCHEMA: 'a result file has an unsupported schema version',
  PB_INTERRUPTED: 'the run was interrupted',
  PB_MACHINE_LIMIT: 'a machine limit was reached (open files, ports, memory)',
  PB_BARRIER: 'the shards did not all meet at the start barrier',
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

export class PushbenchError extends Error {
  readonly code: ErrorCode;
  /** Every problem found, for validation errors (printed one per line). */
  readonly problems: string[];
  constructor(code: ErrorCode, message: string, problems: string[] = []) {
    super(message);
    this.name = 'PushbenchError';
    this.code = code;
    this.problems = problems;
  }
}

/** Thrown by validators with every problem at once; the CLI prints them and exits 2. */
/** The codes that mean the input was bad (exit 2); any other failure of a command exits 1. */
const BAD_INPUT: ReadonlySet<ErrorCode> = new Set(['PB_BAD_OPTION', 'PB_RESULT_FILE', 'PB_SCHEMA', 'PB_TARGET_UNREACHABLE', 'PB_TARGET_SHAPE']);

/** A command's exit code for `err`: 2 for bad input (options, files, a target), else 1. */
export function exitCodeOf(err: PushbenchError): 1 | 2 {
  return BAD_INPUT.has(err.code) ? 2 : 1;
}

export function validationError(problems: string[], what = 'invalid options'): PushbenchError {
  return new PushbenchError('PB_BAD_OPTION', `${what}:\n${problems.map((p) => `  - ${p}`).join('\n')}`, problems);
}

/** Error code for a caught network/system error, for counting by code on the hot path. */
export function codeOf(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; name?: unknown };
    if (typeof e.code === 'string' && e.code) return e.code;
    if (typeof e.name === 'string' && e.name) return e.name;
  }
  return 'EUNKNOWN';
}
