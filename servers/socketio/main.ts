/**
 * `npm run serve:socketio -- [--port N] [--namespace /chat] [--event news] [--recovery 2m]`:
 * the reference Socket.IO server (server.ts) as a process of its own. Prints
 * `socketio: listening on http://HOST:PORT` once it listens; stops on SIGINT/SIGTERM.
 */
import { parseOptions, type OptionSpec } from '../../core/options.ts';
import { SOCKETIO_DEFAULTS, startSocketioServer } from './server.ts';

const SPECS: readonly OptionSpec[] = [
  { name: 'port', kind: 'int', arg: 'N', help: 'port (0: any free one)', default: 0, min: 0, max: 65535 },
  { name: 'host', kind: 'string', arg: 'ADDR', help: 'address to listen on', default: SOCKETIO_DEFAULTS.host },
  { name: 'namespace', kind: 'string', arg: 'NSP', help: 'namespace the clients connect to', default: SOCKETIO_DEFAULTS.namespace },
  { name: 'event', kind: 'string', arg: 'NAME', help: 'event each publish is emitted as', default: SOCKETIO_DEFAULTS.event },
  { name: 'recovery', kind: 'durationMs', arg: 'TIME', help: 'connection-state recovery window (0: off)', default: 0, min: 0 },
  { name: 'ping-interval', kind: 'durationMs', arg: 'TIME', help: 'Engine.IO ping interval', default: SOCKETIO_DEFAULTS.pingIntervalMs, min: 100 },
];

const parsed = parseOptions(process.argv.slice(2), SPECS);
if (parsed.problems.length > 0) {
  process.stderr.write(`${parsed.problems.join('\n')}\n`);
  process.exit(2);
}
const v = parsed.values;
const server = await startSocketioServer({
  port: v.port as number, host: v.host as string, namespace: v.namespace as string, event: v.event as string,
  recoveryMs: v.recovery as number, pingIntervalMs: v.pingInterval as number,
});
process.stdout.write(`socketio: listening on ${server.url}\n`);
const stop = (): void => void server.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
