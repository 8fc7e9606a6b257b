/**
 * A profile target driven by a multi-process generator (`--generator-procs 2`): share 0 alone
 * publishes, every share's clients receive, and the merged record keeps the publisher's figures
 * whichever record carries them.
 */
import { describe, expect, it } from 'vitest';
import { runMulti } from '../../../load/multi.ts';
import { mergeRecords } from '../../../core/record.ts';
import { runSettings } from '../settings.ts';
import { SHAPED_CLIENTS, SHAPED_PROFILE, SHAPED_DURATION_S, SHAPED_RATE, SHAPED_WARMUP_S, shapedRunArgs, shapedServerPerFile } from './shaped-server.ts';

const PROFILE = SHAPED_PROFILE;
const CLIENTS = SHAPED_CLIENTS;
const RATE = SHAPED_RATE;
const shaped = shapedServerPerFile();

describe('a profile target over 2 generator processes', () => {
  it('one publisher for the run: valid, 0 lost, every client fed, publisher kept in the merged record', async () => {
    const server = shaped();
    const s = runSettings('ws', shapedRunArgs(server.url, { extra: ['--workers', '1'] }));
    const before = server.published();
    const r = await runMulti(s, 2);
    expect(r.invalidReasons.join('; ')).toBe('');
    expect(r.config.profile).toBe('shaped-server');
    expect(r.config.clients).toBe(CLIENTS);
    expect(r.generator.workers.reduce((n, w) => n + w.clients, 0)).toBe(CLIENTS);
    expect(r.summary.lost).toBe(0);
    expect(r.summary.duplicates).toBe(0);
    // the measured seconds × 10 msg/s to 20 clients, ± one message per client at each window edge:
    // the clients of share 1 are fed by share 0's publisher as well as share 0's own.
    const measuredS = SHAPED_DURATION_S - SHAPED_WARMUP_S;
    expect(r.summary.delivered).toBeGreaterThanOrEqual(measuredS * RATE * CLIENTS - 2 * CLIENTS);
    expect(r.summary.delivered).toBeLessThanOrEqual(measuredS * RATE * CLIENTS + 2 * CLIENTS);
    // One publisher, not one per process: 2 topics × 10 msg/s over the whole run on the run's topics; each
    // process's probe adds a few on its own topic (10/s for at most the 5 s probe deadline).
    expect(r.publisher).toMatchObject({ published: 2 * RATE * SHAPED_DURATION_S, failed: 0 });
    expect(server.published() - before).toBeLessThan(2 * RATE * SHAPED_DURATION_S + 2 * 50);

    // The merge keeps the publisher whichever record holds it, and adds counts across records.
    const { publisher, ...withoutPublisher } = r;
    expect(mergeRecords([withoutPublisher, r]).publisher).toEqual(publisher);
    expect(mergeRecords([withoutPublisher, withoutPublisher]).publisher).toBeUndefined();
    expect(mergeRecords([r, r]).publisher).toMatchObject({ published: 2 * publisher!.published, failed: 0, lateUs: publisher!.lateUs });
  }, 45_000);
});
