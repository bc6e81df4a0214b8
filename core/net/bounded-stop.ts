/**
 * Stopping a swarm without waiting on a DHT that has gone. With the DHT unreachable every
 * unannounce (a topic's on leave, the server's in hyperswarm's destroy) waits out its request
 * timeouts, seconds each; a node that stops offline, or whose bootstrap vanished, must still stop
 * promptly. docs/wire.md ("Stopping") has the policy; test/integration/net/resilience.test.ts checks it.
 */
import type Hyperswarm from 'hyperswarm'

export const DEFAULT_STOP_GRACE_MS = 1500

/** Whether `work` settled within `graceMs`; it keeps running either way. */
export async function withinGrace(work: Promise<unknown>, graceMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const grace = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), graceMs)
  })
  try {
    return await Promise.race([work.then(() => true), grace])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Destroying the DHT fails its pending requests at once, so whatever waits on them settles right
 * after; the discoveries and the server still get closed (their timers hold the event loop open
 * otherwise). Offline, the DHT goes at once. Online, the swarm unannounces politely for `graceMs`,
 * then the DHT goes (the bootstrap may have vanished while the node still counted as online).
 */
export async function destroySwarm(
  swarm: Hyperswarm,
  offline: boolean,
  graceMs: number,
): Promise<void> {
  if (offline) {
    const closing = Promise.all([swarm.clear(), swarm.destroy({ force: true })])
    await swarm.dht.destroy({ force: true })
    await closing
    return
  }
  const polite = swarm.destroy()
  if (await withinGrace(polite, graceMs)) return
  await swarm.dht.destroy({ force: true })
  await polite
}
