/**
 * Parsing of the units users type: durations (`30s`, `250ms`, `2m`), sizes (`64`, `10KB`),
 * rates (`500/s`), percentages (`5%`). Each parser returns a number or undefined; callers
 * collect problems and report them all at once.
 */

const DURATION_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `30s` → 30000. A bare number is taken as `bareUnit` (seconds by default). */
export function parseDurationMs(text: string, bareUnit: keyof typeof DURATION_MS = 's'): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|m|h)?\s*$/.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * DURATION_MS[m[2] ?? bareUnit];
}

const SIZE_BYTES: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** `64` → 64, `10KB` → 10240 (binary units, case-insensitive). */
export function parseBytes(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(text);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * SIZE_BYTES[(m[2] ?? 'b').toLowerCase()]);
}

/** `500/s`, `500`, `30/m` → per second. */
export function parseRatePerS(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(s|m|h))?\s*$/.exec(text);
  if (!m) return undefined;
  const per = { s: 1, m: 60, h: 3600 }[(m[2] ?? 's') as 's' | 'm' | 'h'];
  return Number(m[1]) / per;
}

/** `5%` or `0.05` → 0.05. */
export function parseFraction(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%)?\s*$/.exec(text);
  if (!m) return undefined;
  return m[2] ? Number(m[1]) / 100 : Number(m[1]);
}

/** Human-readable µs: `812µs`, `12.3ms`, `1.20s`. */
export function formatUs(us: number): string {
  if (!Number.isFinite(us)) return String(us);
  if (us < 1000) return `${Math.round(us)}µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)}ms`;
  return `${(us / 1e6).toFixed(2)}s`;
}

/** Human-readable bytes: `512B`, `1.5KiB`, `12.0MiB`. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (n < 1024) return `${Math.round(n)}B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)}KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)}MiB`;
  return `${(n / 1024 ** 3).toFixed(2)}GiB`;
}
