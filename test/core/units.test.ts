import { describe, expect, it } from 'vitest';
import { formatBytes, formatUs, parseBytes, parseDurationMs, parseFraction, parseRatePerS } from '../../core/units.ts';

describe('units', () => {
  it('parses durations with units and bare numbers', () => {
    expect(parseDurationMs('30s')).toBe(30_000);
    expect(parseDurationMs('250ms')).toBe(250);
    expect(parseDurationMs('2m')).toBe(120_000);
    expect(parseDurationMs('5')).toBe(5000);
    expect(parseDurationMs('5', 'ms')).toBe(5);
    expect(parseDurationMs('0')).toBe(0);
    expect(parseDurationMs('-1s')).toBeUndefined();
    expect(parseDurationMs('abc')).toBeUndefined();
  });
  it('parses sizes, rates and fractions', () => {
    expect(parseBytes('64')).toBe(64);
    expect(parseBytes('10KB')).toBe(10_240);
    expect(parseBytes('1mb')).toBe(1_048_576);
    expect(parseBytes('x')).toBeUndefined();
    expect(parseRatePerS('500/s')).toBe(500);
    expect(parseRatePerS('120/m')).toBe(2);
    expect(parseRatePerS('10')).toBe(10);
    expect(parseFraction('5%')).toBeCloseTo(0.05);
    expect(parseFraction('0.25')).toBe(0.25);
  });
  it('formats µs and bytes for people', () => {
    expect(formatUs(812)).toBe('812µs');
    expect(formatUs(12_345)).toBe('12.3ms');
    expect(formatUs(1_200_000)).toBe('1.20s');
    expect(formatBytes(512)).toBe('512B');
    expect(formatBytes(1536)).toBe('1.5KiB');
  });
});
