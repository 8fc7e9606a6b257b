/**
 * The stamp stream of the latency proxy's measurements (bench:proxy and its test): each line is the
 * sender's clock in µs (core/wire.ts nowUs), so the reader gets each line's one-way delay.
 */
import type net from 'node:net';
import { nowUs } from '../core/wire.ts';

/** Newline-separated µs stamps read from `s`; calls `onStamp(sentUs, recvUs)` per line. */
export function readStamps(s: net.Socket, onStamp: (sentUs: number, recvUs: number) => void): void {
  let buf = '';
  s.setEncoding('utf8');
  s.on('data', (text: string) => {
    const recvUs = nowUs();
    buf += text;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      onStamp(Number(buf.slice(0, i)), recvUs);
      buf = buf.slice(i + 1);
    }
  });
}
