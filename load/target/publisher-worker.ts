/**
 * Thread entry of the profile publisher (publisher-thread.ts): runs one {@link ProfilePublisher}
 * on a loop of its own, so the runner's sampling and anything else on the main thread never
 * delays a publish. Messages: `{type:'start', options}` in; `{type:'close'}` in → stats out.
 */
import { parentPort } from 'node:worker_threads';
import { ProfilePublisher, type PublisherOptions } from './publisher.ts';

let publisher: ProfilePublisher | undefined;
parentPort!.on('message', (m: { type: 'start'; options: PublisherOptions } | { type: 'close' }) => {
  if (m.type === 'start') {
    publisher = new ProfilePublisher(m.options);
    publisher.start();
  } else {
    void (publisher?.close() ?? Promise.resolve()).then(() => {
      parentPort!.postMessage({ type: 'stats', stats: publisher?.stats() ?? null });
      parentPort!.close();
    });
  }
});
parentPort!.postMessage({ type: 'ready' });
