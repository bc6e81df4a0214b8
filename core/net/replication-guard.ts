/**
 * Notices peers that send replication data failing verification. Hypercore 11 does not error the
 * stream for that: it drops the data, pauses that peer for that core and emits `verification-error`
 * on the core's sessions (lib/replicator.js, `_oninvaliddata`), so a connection-level error handler
 * never hears of it. Corestore replicates many cores over one connection, so the guard watches every
 * core the store opens through a weak session (which does not keep the core open, see corestore's
 * `watch`) and reports the replicator's peer, whose stream is the connection and whose key is the
 * remote's Noise key. Cores opened before the guard started are not watched: start it first.
 */
import type Corestore from 'corestore'
import Hypercore from 'hypercore'
import type { Duplex } from 'node:stream'

export interface ReplicationFault {
  /** The remote's public key (the Noise key of the connection). */
  remotePublicKey: Buffer
  /** The connection the bad data came over. */
  stream: Duplex
  /** Hypercore's error, e.g. INVALID_SIGNATURE or INVALID_CHECKSUM. */
  error: Error & { code?: string }
}

export class ReplicationGuard {
  private readonly sessions = new Set<Hypercore>()
  private readonly onCore = (core: unknown) => this.watch(core)
  private closed = false

  constructor(
    private readonly store: Corestore,
    private readonly onFault: (fault: ReplicationFault) => void,
  ) {
    store.watch(this.onCore)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.store.unwatch(this.onCore)
    // A weak session that fails to close is one whose core is already closing or closed (the store
    // going away first): there is nothing left to release, and the node's stop must not fail on it.
    await Promise.all([...this.sessions].map((s) => s.close().catch(() => {})))
  }

  private watch(core: unknown): void {
    if (this.closed) return
    const session = new Hypercore({ core, weak: true })
    this.sessions.add(session)
    session.on('close', () => this.sessions.delete(session))
    session.on('verification-error', (error, _req, _res, from) => {
      this.onFault({ remotePublicKey: from.remotePublicKey, stream: from.stream, error })
    })
    // A core that fails to open closes its sessions, and whoever opened the core gets the error;
    // this watcher has nothing to report for it.
    session.ready().catch(() => {})
  }
}
