/**
 * `--socketio [--namespace NSP] [--event NAME]`: the --target is a Socket.IO server
 * (docs/socketio.md). Checked with the other load options; every problem listed.
 */
import type { OptionSpec, OptionValues } from '../core/options.ts';
import type { TransportName } from '../core/wire.ts';
import type { WorkloadName } from '../core/record.ts';
import { TARGET_ONLY_TRANSPORTS } from '../load/drivers/index.ts';
import { isSocketioTransport } from '../load/drivers/socketio/index.ts';
import type { Profile } from '../load/target/profile.ts';
import { NAMESPACE_RE, SOCKETIO_PUBLISH_PATH, SOCKETIO_TARGET_DEFAULTS, socketioProfile } from '../load/target/socketio.ts';

export const SOCKETIO_OPTION_SPECS: readonly OptionSpec[] = Object.freeze([
  { name: 'socketio', kind: 'bool', help: `the --target is a Socket.IO server: clients speak Engine.IO/Socket.IO, pushbench publishes by POST ${SOCKETIO_PUBLISH_PATH} (docs/socketio.md)` },
  { name: 'namespace', kind: 'string', arg: 'NSP', help: `with --socketio: the namespace clients connect to (default ${SOCKETIO_TARGET_DEFAULTS.namespace})` },
  { name: 'event', kind: 'string', arg: 'NAME', help: `with --socketio: the event that carries each message (default ${SOCKETIO_TARGET_DEFAULTS.event})` },
]);

/** Event names socket.io keeps for itself: an emit under one of them never reaches a client's handler. */
const RESERVED_EVENTS = ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'];

/**
 * The profile of the Socket.IO target `--socketio` names, or null without `--socketio`;
 * `problems` gets every misuse (also of a Socket.IO transport without it).
 */
export function checkSocketio(v: OptionValues, transport: TransportName, workload: WorkloadName, target: string | null, problems: string[]): Profile | null {
  const namespace = v.namespace as string | undefined;
  const event = v.event as string | undefined;
  if (!v.socketio) {
    if (isSocketioTransport(transport)) problems.push(`--transport ${transport} speaks Socket.IO: it needs --socketio and the --target of a Socket.IO server`);
    if (namespace !== undefined || event !== undefined) problems.push('--namespace and --event describe a Socket.IO target: give --socketio too');
    return null;
  }
  if (target === null && v.target === undefined) problems.push('--socketio measures a Socket.IO server: give its address with --target URL (the reference one: npm run serve:socketio)');
  if (target?.startsWith('https:')) problems.push('--socketio speaks plain http:// and ws:// to its target (no TLS yet)');
  if (v.profile !== undefined) problems.push('--socketio and --profile are two kinds of target: give one');
  if (!isSocketioTransport(transport)) problems.push(`--socketio takes a Socket.IO transport: --transport ${TARGET_ONLY_TRANSPORTS.join(', ')} (got ${transport})`);
  if (workload === 'chat') problems.push('--socketio publishes through the server\'s hook: --workload broadcast or fanout, not chat');
  if (namespace !== undefined && !NAMESPACE_RE.test(namespace)) problems.push(`--namespace must start with / and hold only A-Z a-z 0-9 . _ ~ - / (got "${namespace}")`);
  if (event !== undefined && (event === '' || RESERVED_EVENTS.includes(event))) problems.push(`--event must be a name of your own, not empty nor one socket.io reserves (${RESERVED_EVENTS.join(', ')}) (got "${event}")`);
  return socketioProfile({ namespace: namespace ?? SOCKETIO_TARGET_DEFAULTS.namespace, event: event ?? SOCKETIO_TARGET_DEFAULTS.event });
}
