/** `socketio-upgrade`: a Socket.IO client as browsers run it: long polling first, then the upgrade to WebSocket. */
import type { Driver } from '../types.ts';
import { socketioDescriptor } from './descriptor.ts';

export const socketioUpgradeDriver: Driver = socketioDescriptor({
  transport: 'socketio-upgrade', title: 'Socket.IO polling → WebSocket', colour: '#7570b3', mode: 'upgrade',
});
