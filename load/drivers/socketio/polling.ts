/** `socketio-polling`: a Socket.IO client on Engine.IO long polling only (`transports: ['polling']`). */
import type { Driver } from '../types.ts';
import { socketioDescriptor } from './descriptor.ts';

export const socketioPollingDriver: Driver = socketioDescriptor({
  transport: 'socketio-polling', title: 'Socket.IO long polling', colour: '#d95f02', mode: 'polling',
});
