#!/usr/bin/env node
// The npm registry reachable here serves only the platform packages of this machine, so
// `npm install` leaves rollup's other-platform optional dependencies out of package-lock.json and
// `npm ci` then refuses the lock as out of sync. This adds a lock entry, marked optional and
// limited to its platform, for each missing one: npm ci skips them on this platform without
// fetching, exactly as it would with a complete lock. Run after any `npm install`.
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const pkgs = lock.packages;
let added = 0;
for (const [key, entry] of Object.entries(pkgs)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const at = `node_modules/${name}`;
    if (pkgs[at] || pkgs[`${key}/${at}`]) continue;
    const m = /(android|darwin|freebsd|linux|openbsd|openharmony|win32|sunos|aix|netbsd)-([a-z0-9]+)(?:-(gnu|musl|msvc|gnueabihf|musleabihf|eabi))?/.exec(name);
    if (!m) continue;
    const cpu = m[2];
    const os = m[1];
    const e = { version, cpu: [cpu === 'ia32' ? 'ia32' : cpu], os: [os], optional: true };
    if (entry.dev) e.dev = true;
    if (m[3] === 'gnu' || m[3] === 'gnueabihf') e.libc = ['glibc'];
    if (m[3] === 'musl' || m[3] === 'musleabihf') e.libc = ['musl'];
    pkgs[at] = e;
    added++;
  }
}
writeFileSync(path, JSON.stringify(lock, null, 2) + '\n');
console.log(`lock-platforms: added ${added} platform-limited entries`);
