/**
 * The swarm node's peer-fault policy: who is banned, for what, and what a ban does. A peer that
 * breaks the protocol (a bad control message, malformed mux frames, replication data failing
 * verification) is told why, hung up on and refused at the handshake until the ban ends; bad
 * replication handshakes are ambiguous, so they are counted per identity and ban past a threshold.
 * Network errors are nobody's fault. The tables are bounded (ban-list.ts, fault-tally.ts); the
 * classification is stream-errors.ts. docs/wire.md ("Ban policy") has the long story.
 */
import type Hyperswarm from 'hyperswarm'
import { TandemError } from '../api/errors.js'
import { BanList, type Ban } from './ban-list.js'
import type { NodeCounters } from './counters.js'
import { FaultTally } from './fault-tally.js'
import type { Peer } from './peer.js'
import type { ReplicationFault } from './replication-guard.js'
import { isPeerFault, isReplicationFault } from './stream-errors.js'

export const DEFAULT_BAN_MS = 10 * 60_000
export const DEFAULT_REPLICATION_FAULT_LIMIT = 3

export interface PeerFaultsOptions {
  /** How long a ban lasts unless the caller says otherwise; also the fault-counting window. */
  banMs: number
  /** Most bans (and most identities with counted faults) held at once. */
  maxBans: number
  /** Bad replication handshakes (per identity, within `banMs`) that earn a ban. */
  replicationFaultLimit: number
  counters: NodeCounters
  /** The connection's peer under a hex key, hello or not: its counters, its hang-up. */
  peer: (hexKey: string) => Peer | undefined
  /** A ban ended: hyperswarm marks a peer the firewall refused as banned, which sticks; lift it. */
  lift: (hexKey: string) => void
  onBan: (ban: Ban, reason: TandemError) => void
}

export class PeerFaults {
  private readonly bans: BanList
  private readonly replicationFaults: FaultTally

  constructor(private readonly opts: PeerFaultsOptions) {
    this.bans = new BanList({
      maxBans: opts.maxBans,
      onEnd: (ban, evicted) => {
        if (evicted) opts.counters.bansEvicted++
        opts.lift(ban.key)
      },
    })
    this.replicationFaults = new FaultTally({ windowMs: opts.banMs, maxEntries: opts.maxBans })
  }

  /** The swarm's firewall: refuses a banned key at the handshake. */
  refuses(remote: Uint8Array): boolean {
    if (!this.bans.has(remote)) return false
    this.opts.counters.refused++
    return true
  }

  isBanned(key: Uint8Array): boolean {
    return this.bans.has(key)
  }

  /** Active bans, for the node's status. */
  active(): Ban[] {
    return this.bans.active()
  }

  /** Disconnects and bans a peer for `ms` (default: the node's ban time). */
  ban(key: Uint8Array, reason: TandemError, ms = this.opts.banMs): void {
    // The firewall refuses the peer from now on; the ban list lifts hyperswarm's own ban at the end.
    const ban = this.bans.add(key, ms, reason.code)
    this.opts.counters.bans++
    const peer = this.opts.peer(ban.key)
    if (peer) {
      peer.channel.sendFinalError(reason)
      // end() flushes the error frame; destroy() follows in case the peer never closes its side.
      peer.conn.end()
      const kill = setTimeout(() => peer.conn.destroy(), 1000)
      kill.unref()
    }
    this.opts.onBan(ban, reason)
  }

  /** Peer faults ban at once, replication-handshake faults past a threshold; the rest is the network. */
  onConnectionError(conn: Hyperswarm.Connection, err: unknown): void {
    const key = conn.remotePublicKey
    if (this.bans.has(key)) return
    const counters = this.opts.counters
    if (isPeerFault(err)) {
      counters.invalid++
      this.ban(key, new TandemError('WIRE_MALFORMED', `connection failed: ${describe(err)}`))
      return
    }
    if (!isReplicationFault(err)) return // a network error: not the peer's fault
    counters.replicationFaults++
    const faults = this.replicationFaults.add(key)
    if (faults < this.opts.replicationFaultLimit) return
    this.replicationFaults.delete(key)
    counters.invalid++
    this.ban(
      key,
      new TandemError(
        'WIRE_BAD_REPLICATION',
        `${faults} bad replication handshakes (${describe(err)})`,
        { cause: err },
      ),
    )
  }

  /** Replication data from this peer failed verification: the same ban as a bad control message. */
  onReplicationFault({ remotePublicKey, stream, error }: ReplicationFault): void {
    const peer = this.opts.peer(remotePublicKey.toString('hex'))
    if (peer?.conn === stream) peer.counters.invalid++
    this.opts.counters.invalid++
    if (this.bans.has(remotePublicKey)) return // several bad blocks may arrive before the hang-up
    const why = error.code ?? error.message
    this.ban(
      remotePublicKey,
      new TandemError('WIRE_BAD_REPLICATION', `replication data failed verification (${why})`, {
        cause: error,
      }),
    )
  }

  /** Stops the ban timer and forgets every ban (the node is going away). */
  clear(): void {
    this.bans.clear()
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
