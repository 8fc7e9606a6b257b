/**
 * A reconnect storm under TLS (docs/tls.md): `--fault restart-server --tls` kills the reference
 * server and starts another on the same port with the same certificate and ticket keys, so every
 * client's reconnect resumes the session the first server issued.
 */
import { describe, expect, it } from 'vitest';
import { TRANSPORTS } from '../../load/drivers/index.ts';
import { runOnce } from '../../load/runner.ts';
import { runSettings } from './settings.ts';

const CLIENTS = 20;

describe('run --tls --fault restart-server', () => {
  it('every client comes back to the new server on a resumed handshake', async () => {
    const [transport] = TRANSPORTS;
    const s = runSettings(transport, ['--tls', '--clients', String(CLIENTS), '--duration', '2s', '--warmup', '500ms', '--rate', '10', '--fault', 'restart-server@1s']);
    const r = await runOnce(s);
    expect(r.invalidReasons.join('; ')).toBe('');
    const [fault] = r.faults!;
    expect(fault.disconnects).toBe(CLIENTS);
    expect(fault.reconnectUs.count).toBe(CLIENTS);
    const tls = r.tls!;
    // one full handshake per client at its arrival; attempts while no server listens are refused
    // before any TLS, so each client's one handshake after the restart is the resumed one
    expect(tls.full).toBe(CLIENTS);
    expect(tls.resumed).toBe(CLIENTS);
  }, 20_000);
});
