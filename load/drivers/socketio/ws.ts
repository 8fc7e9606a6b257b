/** `socketio-ws`: a Socket.IO client on WebSocket from the start (`transports: ['websocket']`). */
import type { Driver } from '../types.ts';
import { socketioDescriptor } from './descriptor.ts';

export const socketioWsDriver: Driver = socketioDescriptor({
  transport: 'socketio-ws', title: 'Socket.IO over WebSocket', colour: '#1b9e77', mode: 'websocket',
});
