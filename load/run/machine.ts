/**
 * The machine a run is on: the record's environment, the default split of its CPUs between
 * server and generator, and the loopback source addresses clients spread over.
 */
import os from 'node:os';
import type { Environment } from '../../core/record.ts';
import { PUSHBENCH_VERSION } from '../../core/version.ts';
import { generatorGcMode } from '../../core/tsx.ts';
import { cpuCount, cpuListNumbers, cpuModel } from '../resources.ts';
import type { RunSettings } from './settings.ts';

/** Split the machine: the server gets the first half of the CPUs, the generator the rest. */
export function defaultCpuSplit(cores = cpuCount()): { serverCpus: string | null; loadCpus: string | null } {
  if (cores < 2) return { serverCpus: null, loadCpus: null };
  const half = Math.floor(cores / 2);
  const list = (a: number, b: number) => (a === b ? `${a}` : `${a}-${b}`);
  return { serverCpus: list(0, half - 1), loadCpus: list(half, cores - 1) };
}

/** Number of CPUs in a taskset list like `0-1,3`. */
export function countCpus(list: string | null): number {
  return list ? cpuListNumbers(list).length : cpuCount();
}

/** Source addresses to spread clients over so one target is not capped by the ephemeral ports. */
export function sourceAddresses(targetHost: string, clients: number): string[] {
  if (!/^127\./.test(targetHost) && targetHost !== 'localhost') return [];
  const n = Math.min(250, 4 + Math.ceil(clients / 5000));
  return Array.from({ length: n }, (_, i) => `127.0.0.${i + 2}`);
}

export function environment(s: RunSettings): Environment {
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpuModel: cpuModel(),
    cores: cpuCount(),
    totalMemBytes: os.totalmem(),
    hostname: os.hostname(),
    serverCpus: s.serverCpus,
    loadCpus: s.loadCpus,
    network: s.network,
    pushbenchVersion: PUSHBENCH_VERSION,
    generatorGc: generatorGcMode(),
  };
}
