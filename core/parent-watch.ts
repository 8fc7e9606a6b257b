/**
 * A child that pushbench started (PUSHBENCH_PARENT_PID in its environment: the reference server,
 * the latency proxy) stops itself, through its normal SIGTERM path, once that parent is gone.
 * A generator killed with SIGKILL, or a test runner that gave up on a run, must not leave a server
 * or a proxy behind holding its port; Linux gives an orphan a new parent, which is what we watch.
 */
const PARENT_ENV = 'PUSHBENCH_PARENT_PID';
const CHECK_MS = 500;

/** The environment for a child that should end with this process. */
export function childEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, [PARENT_ENV]: String(process.pid) };
}

/** Call once at start-up in a child; does nothing when the variable is absent. */
export function exitWithParent(): void {
  const parent = Number(process.env[PARENT_ENV]);
  // not inherited further: a cluster worker's parent is the primary, not the generator
  delete process.env[PARENT_ENV];
  if (!Number.isInteger(parent) || parent <= 0) return;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    process.stderr.write(`pushbench: parent process ${parent} is gone, stopping\n`);
    process.kill(process.pid, 'SIGTERM');
  }, CHECK_MS);
  timer.unref();
}
