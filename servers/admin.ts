/**
 * Fault injection for `run --fault`: the admin endpoints (`--admin`, off unless asked for) and what
 * a fault does to one process. `POST /admin/stall?ms=M` (0 < M ≤ 60000) answers
 * `{"stallMs":M,"processes":n}` and then blocks the event loop; `POST /admin/cut?fraction=F`
 * (0 < F ≤ 1) drops that share of the connections and answers `{"cut":n}`. A bad parameter is a
 * 400 (`bad_stall`, `bad_fraction`).
 */
import type { Socket } from 'node:net';
import { HttpError, sendJson } from './http.ts';
import type { Route } from './router.ts';
import { wireSocket } from './stats.ts';

/** A fault the admin endpoints inject: block the event loop, or drop a share of the connections. */
export type AdminAction = { kind: 'stall'; ms: number } | { kind: 'cut'; fraction: number };

/**
 * How the admin endpoints inject a fault: resolves with the connections cut (a stall: the
 * processes stalled). `spare` is the asking request's socket, never cut.
 */
export type AdminInjector = (action: AdminAction, spare: Socket) => Promise<number>;

/**
 * Inject `a` into this process, whose open connections are `sockets`: returns the connections
 * cut (a stall: 1). `spare` is never cut.
 */
export function injectHere(sockets: ReadonlySet<Socket>, a: AdminAction, spare?: Socket): number {
  if (a.kind === 'stall') {
    // Block the event loop once the current callback (the answer) is done: every connection
    // stalls, none closes.
    setImmediate(() => {
      const until = Date.now() + a.ms;
      while (Date.now() < until);
    });
    return 1;
  }
  const spared = spare && wireSocket(spare);
  const victims = [...sockets].filter((x) => x !== spared);
  const n = Math.round(victims.length * a.fraction);
  // Every k-th socket, so the cut spreads over topics and source addresses alike.
  const step = victims.length / Math.max(1, n);
  for (let i = 0; i < n; i++) victims[Math.floor(i * step)].destroy();
  return n;
}

/**
 * One admin endpoint: the query parameter `param` must be in (0, max], else 400 `code`; the
 * fault it names goes to `admin`, and `answer` is the JSON body (from the parameter and the count).
 */
function adminRoute(
  admin: AdminInjector,
  param: string,
  max: number,
  code: string,
  action: (x: number) => AdminAction,
  answer: (x: number, n: number) => string,
): Route {
  return {
    method: 'POST',
    async handle({ req, res, query }) {
      const x = Number(query.get(param));
      if (!(x > 0 && x <= max)) throw new HttpError(400, code, `${param} must be in (0, ${max}]`);
      const n = await admin(action(x), req.socket);
      sendJson(res, 200, answer(x, n));
    },
  };
}

/** The admin endpoints by path, each injecting through `admin`. */
export function adminRoutes(admin: AdminInjector): [string, Route][] {
  return [
    ['/admin/stall', adminRoute(admin, 'ms', 60_000, 'bad_stall', (ms) => ({ kind: 'stall', ms }), (ms, processes) => `{"stallMs":${ms},"processes":${processes}}`)],
    ['/admin/cut', adminRoute(admin, 'fraction', 1, 'bad_fraction', (fraction) => ({ kind: 'cut', fraction }), (_, n) => `{"cut":${n}}`)],
  ];
}
