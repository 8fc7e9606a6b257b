/**
 * The machine a run is on: the record's environment, the default split of its CPUs between
 * server and generator, and the source addresses clients spread over (loopback's by default,
 * `--source-ips` when given).
 */
import net from 'node:net';
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

/** More source addresses than this never help: each carries ~28,000 connections to one target. */
export const MAX_SOURCE_IPS = 1024;

/**
 * `--source-ips LIST|CIDR`: addresses of this machine the clients spread over (client i takes
 * address i mod n), so one target is not capped by one address's ephemeral ports. A comma list
 * of IPv4/IPv6 addresses, or one IPv4 CIDR (its network and broadcast addresses left out below
 * /31). Every address must belong to an interface here (127.0.0.0/8 does, through lo); the
 * problem is a sentence, listing what is not local.
 */
export function parseSourceIps(text: string, interfaces = os.networkInterfaces()): string[] | string {
  const cidr = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(text.trim());
  let ips: string[];
  if (cidr) {
    const bits = Number(cidr[2]);
    const base = net.isIPv4(cidr[1]) ? ipv4ToInt(cidr[1]) : NaN;
    if (Number.isNaN(base) || bits > 32) return `--source-ips ${text}: not an IPv4 CIDR such as 127.0.0.0/24`;
    const size = 2 ** (32 - bits);
    const inner = bits < 31 ? size - 2 : size;
    if (inner > MAX_SOURCE_IPS) return `--source-ips ${text}: ${inner} addresses, more than ${MAX_SOURCE_IPS} (each carries ~28,000 connections to one target); give a narrower CIDR`;
    const first = (base & (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0)) >>> 0;
    ips = Array.from({ length: inner }, (_, i) => intToIpv4(first + (bits < 31 ? i + 1 : i)));
  } else {
    ips = text.split(',').map((x) => x.trim()).filter(Boolean);
    const bad = ips.filter((ip) => net.isIP(ip) === 0);
    if (ips.length === 0 || bad.length > 0) return `--source-ips ${text}: not addresses (${bad.join(', ') || 'none given'}); give a comma list such as 127.0.0.2,127.0.0.3 or a CIDR`;
    if (ips.length > MAX_SOURCE_IPS) return `--source-ips: ${ips.length} addresses, more than ${MAX_SOURCE_IPS}`;
  }
  const foreign = ips.filter((ip) => !isLocal(ip, interfaces));
  if (foreign.length > 0) return `--source-ips: ${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ` and ${foreign.length - 5} more` : ''} not on this machine's interfaces (a client cannot send from them)`;
  return ips;
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0);
}

function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.');
}

/** Whether `ip` lies in the subnet of an interface of this machine. */
function isLocal(ip: string, interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>): boolean {
  const list = new net.BlockList();
  for (const infos of Object.values(interfaces)) {
    for (const info of infos ?? []) {
      if (!info.cidr) continue;
      const [addr, prefix] = info.cidr.split('/');
      list.addSubnet(addr, Number(prefix), info.family === 'IPv6' ? 'ipv6' : 'ipv4');
    }
  }
  return list.check(ip, net.isIPv6(ip) ? 'ipv6' : 'ipv4');
}
