/**
 * Workloads (docs/running.md): which topic each client subscribes to and, for chat, when it
 * publishes. `ratePerS` is always the message rate of one topic, so deliveries are comparable
 * across workloads: broadcast and fanout topics are fed by the server's publisher, chat rooms by
 * their members taking turns.
 */
import type { WorkloadName } from '../core/record.ts';

export const WORKLOADS: readonly WorkloadName[] = ['broadcast', 'fanout', 'chat'];

/**
 * Topic of client `id`: broadcast and chat spread clients over `topics`; fanout gives each its own.
 * Its name is `prefix` + `t` + its index (a profile run's prefix, load/run/settings.ts).
 */
export function topicOf(workload: WorkloadName, id: number, topics: number, prefix = ''): string {
  return `${prefix}t${topicIndexOf(workload, id, topics)}`;
}

/** The index of client `id`'s topic: the `i` of `t<i>`, its place in the publisher's timetable. */
export function topicIndexOf(workload: WorkloadName, id: number, topics: number): number {
  return workload === 'fanout' ? id : id % topics;
}

/** Number of topics the server's publisher must feed for this workload (chat: none). */
export function publisherTopics(workload: WorkloadName, clients: number, topics: number): number {
  if (workload === 'chat') return 0;
  return workload === 'fanout' ? clients : topics;
}

/** Members of room `topic` (index) when `clients` are spread over `topics` rooms by id % topics. */
export function roomSize(topicIndex: number, clients: number, topics: number): number {
  return Math.floor(clients / topics) + (topicIndex < clients % topics ? 1 : 0);
}

/**
 * Chat: member k of a room of m takes turn k; each member publishes every m / rate seconds, offset
 * by k / rate, so the room carries `ratePerS` evenly. Undefined when the room publishes nothing.
 */
export function chatSchedule(id: number, clients: number, topics: number, ratePerS: number): { periodUs: number; offsetUs: number } | undefined {
  if (ratePerS <= 0) return undefined;
  const m = roomSize(id % topics, clients, topics);
  const k = Math.floor(id / topics);
  return { periodUs: (m / ratePerS) * 1e6, offsetUs: (k / ratePerS) * 1e6 };
}

