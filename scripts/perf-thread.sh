#!/usr/bin/env bash
# npm run profile:perf -- PID [SECONDS] [OUT]: what one busy thread of a running node process spends
# its CPU on, sampled by the kernel's timer (perf cpu-clock), not by a thread of the same process as
# the inspector's profiler is — which, on a generator pinned to one CPU, runs only when the worker
# yields and so over-counts idle time (docs/generator-bench.md, "Profiles with perf").
#
# Start the process with `node --perf-basic-prof …` (from a scratch directory: it writes
# isolate-*-v8.log files into the working directory) so JIT frames get names. Prints, over the
# window: each thread's CPU (% of one core, from /proc/PID/task/*/stat), the process's read and
# write syscalls per second (/proc/PID/io), then `perf report` of the busiest thread (self time;
# OUT keeps the samples, with call graphs, for `perf report -i OUT --children`), and where the
# thread's samples were by origin (kernel write/read, libraries, node, the program, GC) with the µs
# of the thread per read syscall.
set -euo pipefail
pid=${1:?usage: profile:perf -- PID [SECONDS] [OUT]}
secs=${2:-15}
out=${3:-perf-thread-$pid.data}
command -v perf >/dev/null || { echo "profile:perf: perf is not installed (Debian: linux-perf)" >&2; exit 2; }
[[ -d /proc/$pid/task ]] || { echo "profile:perf: no process $pid" >&2; exit 2; }
hz=$(getconf CLK_TCK)

# tid -> utime+stime ticks, one line each
threads() { for t in /proc/"$pid"/task/*; do s=$(<"$t/stat") || continue; s=${s##*) }; set -- $s; echo "${t##*/} $(( ${12} + ${13} ))"; done; }
io() { awk '/^syscr|^syscw/ {printf "%s ", $2}' /proc/"$pid"/io; }

before=$(threads); io0=$(io); t0=$(date +%s.%N)
busiest=$(sleep 1; join <(echo "$before" | sort) <(threads | sort) | awk '{print $3 - $2, $1}' | sort -n | tail -1 | awk '{print $2}')
perf record -q -g -e cpu-clock -F 1999 -t "$busiest" -o "$out" -- sleep "$secs" 2>/dev/null
after=$(threads); io1=$(io); t1=$(date +%s.%N)
dt=$(echo "$t1 - $t0" | bc -l)

echo "process $pid, $(printf '%.1f' "$dt") s; busiest thread $busiest (sampled for ${secs} s into $out)"
echo "thread CPU, % of one core:"
join <(echo "$before" | sort) <(echo "$after" | sort) | awk -v hz="$hz" -v dt="$dt" -v pid="$pid" \
  '{ p = 100 * ($3 - $2) / hz / dt; if (p > 0) printf "  %-8s %6.1f %%%s\n", $1, p, ($1 == pid ? " (main)" : "") }' | sort -k2 -rn
read -r r0 w0 <<<"$io0"; read -r r1 w1 <<<"$io1"
printf 'syscalls/s: read %.0f, write %.0f\n' "$(echo "($r1 - $r0) / $dt" | bc -l)" "$(echo "($w1 - $w0) / $dt" | bc -l)"
echo "perf report (self time of the busiest thread's samples):"
perf report -i "$out" --no-children --sort sym --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -40 || true  # head closes the pipe early: not a failure

# Where the samples were, by origin (each sample counted once, by its first match below), with the
# thread's µs per read syscall of the process (a request/response client reads once per answer:
# µs per read ≈ µs per request). GC: anywhere under a collection; the write syscall: anywhere under
# libc's write/writev; then by the leaf: kernel (read, epoll, other); else the innermost JavaScript
# frame: a library under node_modules (HTTP/WebSocket clients, llhttp's wasm, histograms), node's
# own (node:…), or the program's; else native code (V8 builtins and runtime, libuv, malloc).
read -r tid_pct <<<"$(join <(echo "$before" | sort) <(echo "$after" | sort) | awk -v hz="$hz" -v dt="$dt" -v t="$busiest" '$1 == t { printf "%.4f", 100 * ($3 - $2) / hz / dt }')"
reads_per_s=$(echo "($r1 - $r0) / $dt" | bc -l)
echo "where the busiest thread's samples were (share; µs of the thread per read syscall):"
perf script -i "$out" -F ip,sym,dso 2>/dev/null | awk -v pct="$tid_pct" -v rps="$reads_per_s" '
  function classify(   i, all, leaf) {
    all = ""; for (i = 0; i < n; i++) all = all "\n" f[i]
    leaf = f[0]
    if (all ~ /CollectGarbage|Scavenge|MinorGC/) return "GC"
    if (all ~ /__GI___libc_write|writev/) return "write syscall (kernel: TCP, loopback delivery)"
    if (leaf ~ /kernel\.kallsyms/) {
      if (all ~ /uv__read|[ \t]read[ \t+]/) return "read syscall"
      if (all ~ /epoll/) return "epoll"
      return "kernel, other"
    }
    for (i = 0; i < n; i++) if (f[i] ~ /JS:|RegExp:/) {
      if (f[i] ~ /node_modules|wasm/) return "libraries (JavaScript and wasm)"
      if (f[i] ~ /node:/) return "node'"'"'s own JavaScript"
      return "the program'"'"'s own JavaScript"
    }
    return "native, other (V8, libuv, malloc)"
  }
  function flush() { if (n > 0) { c[classify()]++; total++ } n = 0 }
  /^[ \t]*$/ { flush(); next }
  { f[n++] = $0 }
  END {
    flush()
    if (total == 0) exit
    per = rps > 0 ? pct / 100 * 1e6 / rps : 0
    for (k in c) printf "  %5.1f %%  %6.2f µs  %s\n", 100 * c[k] / total, per * c[k] / total, k | "sort -rn"
    close("sort -rn")
    printf "  (%d samples; the thread at %.1f %% of a core, %.0f reads/s: %.2f µs per read)\n", total, pct, rps, per
  }'
