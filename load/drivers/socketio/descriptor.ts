/**
 * What the three Socket.IO transports share as descriptors (ws.ts, polling.ts, upgrade.ts). They
 * run only against a Socket.IO server (`--socketio`, load/target/): their `create` needs the
 * target's namespace, event and the run id, which {@link socketioDriver} binds; called without
 * them it throws. They are registered apart from the reference transports
 * (load/drivers/index.ts `TARGET_ONLY`), so nothing that iterates `TRANSPORTS` meets them.
 */
import type { TransportName } from '../../../core/wire.ts';
import { profileRules } from '../profile-rules.ts';
import type { Driver } from '../types.ts';
import { SocketioClient, type SocketioOptions } from './client.ts';
import type { EngineMode } from './engine.ts';

/** The modes of the registered Socket.IO descriptors, by transport (filled as they are made). */
const MODES = new Map<TransportName, EngineMode>();

export function socketioDescriptor(d: { transport: TransportName; title: string; colour: string; mode: EngineMode }): Driver {
  MODES.set(d.transport, d.mode);
  return {
    transport: d.transport,
    title: d.title,
    colour: d.colour,
    traits: { pollInterval: false, longPollTimeout: false, publishesInBand: false },
    // no profile describes a Socket.IO transport: its wire is Engine.IO's, not a profile's
    profile: profileRules({ reference: {} }),
    create: () => {
      throw new Error(`${d.transport} runs against a Socket.IO server only (--target URL --socketio)`);
    },
  };
}

/** Whether `transport` is one of the Socket.IO transports. */
export function isSocketioTransport(transport: TransportName): boolean {
  return MODES.has(transport);
}

/** The Socket.IO transports, in registration order. */
export function socketioTransports(): TransportName[] {
  return [...MODES.keys()];
}

/** The driver of Socket.IO transport `transport` with the target's options bound. */
export function socketioDriver(base: Driver, o: SocketioOptions): Driver {
  const mode = MODES.get(base.transport);
  if (mode === undefined) throw new Error(`${base.transport} is not a Socket.IO transport`);
  return { ...base, create: (spec, events) => new SocketioClient(mode, spec, events, o) };
}
