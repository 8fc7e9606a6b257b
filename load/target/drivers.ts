/**
 * Drivers for a target described by a profile (profile.ts): each transport's own driver, speaking
 * the profile's dialect (profile-codec.ts) instead of the reference contract.
 */
import type { TransportName } from '../../core/wire.ts';
import { driverFor } from '../drivers/index.ts';
import type { Driver } from '../drivers/types.ts';
import { socketioDriver } from '../drivers/socketio/index.ts';
import { profileDialect, type ProfileDialectOptions } from './profile-codec.ts';

export type ProfileDriverOptions = ProfileDialectOptions;

/** The driver of `transport` on a profile target (the profile must describe that transport). */
export function profileDriver(transport: TransportName, opts: ProfileDriverOptions): Driver {
  const native = driverFor(transport);
  const sio = opts.profile.socketio;
  if (sio) return socketioDriver(native, { ...sio, run: opts.run, onProblem: opts.onProblem });
  const dialect = profileDialect(transport, opts);
  return { ...native, create: (spec, events) => native.create(spec, events, dialect) };
}
