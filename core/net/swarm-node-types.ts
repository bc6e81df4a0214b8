/**
 * The swarm node's public types: its options, states, status and events. Apart from swarm-node.ts
 * so that the parts it composes (peer-connections.ts emits its events) need not import it back.
 * swarm-node.ts re-exports them; docs/wire.md describes what they carry.
 */
import type Corestore from 'corestore'
import type Hyperswarm from 'hyperswarm'
import type { TandemError } from '../api/errors.js'
import type { RoleName, WireMessage } from '../wire/messages.js'
import type { Ban } from './ban-list.js'
import type { NodeCounters } from './counters.js'
import type { PeerLimits } from './limits.js'
import type { Peer, PeerStatus } from './peer.js'
import type { RefreshSchedule } from './topic-refresher.js'

export type NodeState = 'offline' | 'online' | 'suspended' | 'destroyed'

export interface SwarmNodeOptions {
  keyPair: { publicKey: Buffer; secretKey: Buffer }
  /** host:port of a private DHT; absent means the public DHT. */
  bootstrap?: string[]
  roles?: RoleName[]
  agent?: string
  limits?: Partial<PeerLimits>
  maxPeers?: number
  /** How long a peer that broke the protocol stays banned. */
  banMs?: number
  /** Most bans held at once; when full, the ban ending soonest makes room. */
  maxBans?: number
  /** Bad replication handshakes (per identity, within `banMs`) that earn a ban. */
  replicationFaultLimit?: number
  /**
   * How long destroy() waits for the swarm to unannounce before tearing the DHT down: with the DHT
   * unreachable, every unannounce waits out its request timeouts (seconds each).
   */
  stopGraceMs?: number
  refresh?: Partial<RefreshSchedule>
  /**
   * The node's corestore: replicated on every connection (before the control channel opens, on the
   * same mux), and watched for peers sending data that fails verification, who are banned. The
   * node does not close it. Give it before opening cores: cores already open are not watched.
   */
  corestore?: Corestore
  /**
   * Called with every accepted connection before anything reads or writes it (before replication
   * and the control channel): e.g. the contributor's rate limiter (core/node/rate-limit.ts).
   */
  wrapConnection?: (conn: Hyperswarm.Connection) => void
}

export interface NodeStatus {
  state: NodeState
  key: string
  displayId: string
  roles: RoleName[]
  projects: string[]
  topics: number
  peers: PeerStatus[]
  counters: NodeCounters
  bans: Ban[]
}

export interface NodeEvents {
  /** A peer's first hello arrived: it is ready for messages. */
  peer: [Peer]
  /** A later hello (e.g. it joined a project). */
  'peer-update': [Peer]
  'peer-leave': [Peer]
  /**
   * A listener may be async: the message's bytes count as in flight (the inbound limit) until it
   * settles. Throwing a coded WIRE_* error rejects the peer's message (ban); anything else thrown
   * or rejected is our bug (`handlerErrors`, `warning`).
   */
  message: [Peer, WireMessage]
  ban: [Ban, TandemError]
  state: [NodeState]
  /** A local handler failed; the peer is not blamed. */
  warning: [unknown]
}
