/**
 * A Socket.IO target as a profile (profile.ts `socketio`): pushbench publishes each token through
 * the server's HTTP publish hook, and the clients speak Engine.IO / Socket.IO
 * (load/drivers/socketio/). The hook is one request a user's server implements in a few lines
 * (docs/socketio.md; servers/socketio/server.ts is the reference):
 *
 *   POST /pushbench/publish   content-type: application/json   {"topic": "<room>", "data": "<token>"}
 *   → io.of(namespace).to(topic).emit(event, data); any 2xx
 *
 * and a client's room is the `auth.topic` of its CONNECT.
 */
import type { Profile } from './profile.ts';

/** The publish hook's path on the target. */
export const SOCKETIO_PUBLISH_PATH = '/pushbench/publish';

export interface SocketioTarget {
  /** the namespace clients CONNECT to (`/` by default) */
  namespace: string;
  /** the event that carries each message (`message` by default) */
  event: string;
}

export const SOCKETIO_TARGET_DEFAULTS: Readonly<SocketioTarget> = Object.freeze({ namespace: '/', event: 'message' });

/** What a namespace may look like: `/` and then URL-safe characters. */
export const NAMESPACE_RE = /^\/[A-Za-z0-9._~\-/]{0,100}$/;

/** The profile of a Socket.IO target. */
export function socketioProfile(t: SocketioTarget): Profile {
  return {
    name: 'socketio',
    publish: {
      method: 'POST', url: SOCKETIO_PUBLISH_PATH, headers: { 'content-type': 'application/json' },
      body: '{"topic":"{topic}","data":"{payload}"}',
    },
    transports: {},
    socketio: { namespace: t.namespace, event: t.event },
  };
}
