/** The Socket.IO transports' descriptors, in the order tables and option choices list them. */
import type { Driver } from '../types.ts';
import { socketioPollingDriver } from './polling.ts';
import { socketioUpgradeDriver } from './upgrade.ts';
import { socketioWsDriver } from './ws.ts';

export const SOCKETIO_DRIVERS: readonly Driver[] = [socketioWsDriver, socketioPollingDriver, socketioUpgradeDriver];
export { isSocketioTransport, socketioDriver, socketioTransports } from './descriptor.ts';
export type { SocketioOptions } from './client.ts';
