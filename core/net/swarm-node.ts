/**
 * A Tandem node on the swarm: its identity as the Hyperswarm key, the online/offline/suspended
 * state, and the public face composing its parts: topic membership (topic-membership.ts: the
 * discovery, project and dataset topics), connections (peer-connections.ts: a Peer with a `tandem/1`
 * control channel on every connection, sharing the mux with the node's corestore replication), the
 * peer-fault policy (peer-faults.ts: bans, replication faults) and the bounded stop
 * (bounded-stop.ts). Peer input never throws out of here: violations end in a ban. docs/wire.md.
 */
import { EventEmitter } from 'node:events'
import type Hyperswarm from 'hyperswarm'
import { TandemError } from '../api/errors.js'
import type { MessageBodies, MessageKind, RoleName } from '../wire/messages.js'
import { DEFAULT_MAX_BANS } from './ban-list.js'
import { DEFAULT_STOP_GRACE_MS, destroySwarm } from './bounded-stop.js'
import { nodeCounters } from './counters.js'
import { displayId } from './identity.js'
import { DEFAULT_LIMITS } from './limits.js'
import { PeerConnections } from './peer-connections.js'
import { DEFAULT_BAN_MS, DEFAULT_REPLICATION_FAULT_LIMIT, PeerFaults } from './peer-faults.js'
import type { Peer } from './peer.js'
import { ReplicationGuard } from './replication-guard.js'
import { createSwarm } from './swarm.js'
import { TopicMembership } from './topic-membership.js'
import type { NodeEvents, NodeState, NodeStatus, SwarmNodeOptions } from './swarm-node-types.js'
import { DEFAULT_REFRESH } from './topic-refresher.js'

export { DEFAULT_BAN_MS, DEFAULT_REPLICATION_FAULT_LIMIT, DEFAULT_STOP_GRACE_MS }
export type { NodeEvents, NodeState, NodeStatus, SwarmNodeOptions } from './swarm-node-types.js'

const STATE_POLL_MS = 1000

export class SwarmNode extends EventEmitter<NodeEvents> {
  readonly swarm: Hyperswarm
  readonly counters = nodeCounters()
  readonly key: Buffer
  readonly displayId: string
  private readonly roles: RoleName[]
  private readonly faults: PeerFaults
  private readonly connections: PeerConnections
  private readonly topics: TopicMembership
  private readonly poll: NodeJS.Timeout
  private readonly guard: ReplicationGuard | null
  private readonly stopGraceMs: number
  private current: NodeState = 'offline'

  constructor(opts: SwarmNodeOptions) {
    super()
    this.key = opts.keyPair.publicKey
    this.displayId = displayId(this.key)
    this.roles = opts.roles ?? ['contributor']
    this.stopGraceMs = opts.stopGraceMs ?? DEFAULT_STOP_GRACE_MS
    const maxPeers = opts.maxPeers ?? 64
    this.faults = new PeerFaults({
      banMs: opts.banMs ?? DEFAULT_BAN_MS,
      maxBans: opts.maxBans ?? DEFAULT_MAX_BANS,
      replicationFaultLimit: opts.replicationFaultLimit ?? DEFAULT_REPLICATION_FAULT_LIMIT,
      counters: this.counters,
      peer: (hexKey) => this.connections.byHexKey(hexKey),
      lift: (hexKey) => this.swarm.peers.get(hexKey)?.ban(false),
      onBan: (ban, reason) => this.emit('ban', ban, reason),
    })
    this.swarm = createSwarm(opts.bootstrap, {
      keyPair: opts.keyPair,
      maxPeers,
      firewall: (remote) => this.faults.refuses(remote),
    })
    this.connections = new PeerConnections({
      limits: { ...DEFAULT_LIMITS, ...opts.limits },
      maxPeers,
      counters: this.counters,
      roles: this.roles,
      agent: opts.agent ?? 'tandem',
      projects: () => this.topics.projectKeys(),
      isBanned: (key) => this.faults.isBanned(key),
      ban: (key, reason) => this.ban(key, reason),
      onConnectionError: (conn, err) => this.faults.onConnectionError(conn, err),
      wrapConnection: opts.wrapConnection,
      corestore: opts.corestore,
      events: this,
      onOpen: () => this.updateState(),
      onClose: () => {
        this.topics.resetEmpty() // reconnect: look for peers again, fast
        this.updateState()
      },
    })
    this.topics = new TopicMembership({
      swarm: this.swarm,
      schedule: { ...DEFAULT_REFRESH, ...opts.refresh },
      stopGraceMs: this.stopGraceMs,
      peerCount: (project) => (project ? this.projectPeers(project) : this.peers()).length,
      onLookup: () => this.updateState(),
      onProjectsChanged: () => this.connections.sendHelloToAll(),
      onWarning: (err) => this.emit('warning', err),
    })
    this.guard = opts.corestore
      ? new ReplicationGuard(opts.corestore, (fault) => this.faults.onReplicationFault(fault))
      : null
    this.swarm.on('connection', (conn) => this.connections.accept(conn))
    this.swarm.dht.on('network-update', () => this.onNetworkUpdate())
    // The DHT has no event for "routing table filled"; a cheap poll keeps the state honest.
    this.poll = setInterval(() => this.updateState(), STATE_POLL_MS)
    this.poll.unref()
  }

  get state(): NodeState {
    return this.current
  }

  /** Peers that sent their hello, i.e. ready for messages. */
  peers(): Peer[] {
    return this.connections.ready()
  }

  peer(key: Uint8Array): Peer | undefined {
    return this.connections.peer(key)
  }

  projectPeers(project: Uint8Array): Peer[] {
    return this.connections.projectPeers(project)
  }

  /** Joins the global discovery topic; hosts announce there, everyone looks up. */
  joinDiscovery(): void {
    this.topics.joinDiscovery(this.roles.includes('host'))
  }

  /** Joins a project's topic (announce and look up) and tells connected peers. */
  joinProject(project: Uint8Array): void {
    this.topics.joinProject(project)
  }

  /** Leaves a project's topic and tells connected peers; waits at most `stopGraceMs`. */
  leaveProject(project: Uint8Array): Promise<void> {
    return this.topics.leaveProject(project)
  }

  /**
   * Announces this node on a dataset's own topic (datasetTopic: the core's discovery key) and looks
   * it up, so that a client holding only the dataset key finds it, and so do other holders. The
   * host and every participant call this for their project's dataset; the connections it brings
   * replicate the node's corestore like any other. Counted: each call needs one leaveDataset.
   * Resolves once the announcement is out; never rejects (offline, hyperswarm announces again).
   */
  joinDataset(datasetKey: Uint8Array): Promise<void> {
    return this.topics.joinDataset(datasetKey)
  }

  /** Drops one joinDataset; the last one leaves the topic. Never rejects. */
  leaveDataset(datasetKey: Uint8Array): Promise<void> {
    return this.topics.leaveDataset(datasetKey)
  }

  /** Hex discovery keys of the dataset topics this node is on. */
  datasetTopics(): string[] {
    return this.topics.datasetTopics()
  }

  /** Sends to one peer; throws PEER_UNKNOWN or the channel's coded errors. */
  send<K extends MessageKind>(key: Uint8Array, kind: K, body: MessageBodies[K]): void {
    const peer = this.peer(key)
    if (!peer) throw new TandemError('PEER_UNKNOWN', `no ready peer ${displayId(key)}`)
    peer.send(kind, body)
  }

  /**
   * Sends to every ready peer (of one project if given); returns how many took it. A peer that is
   * not draining is skipped, not fatal: the others still get the message.
   */
  broadcast<K extends MessageKind>(kind: K, body: MessageBodies[K], project?: Uint8Array): number {
    let sent = 0
    for (const peer of project ? this.projectPeers(project) : this.peers()) {
      try {
        peer.send(kind, body)
        sent++
      } catch (err) {
        if (!(err instanceof TandemError) || err.code === 'BAD_ARGUMENT') throw err
      }
    }
    return sent
  }

  /** Disconnects and bans a peer for `ms` (default: the node's ban time). */
  ban(key: Uint8Array, reason: TandemError, ms?: number): void {
    this.faults.ban(key, reason, ms)
  }

  isBanned(key: Uint8Array): boolean {
    return this.faults.isBanned(key)
  }

  /** Before the machine sleeps: drop connections and stop announcing, cleanly. */
  async suspend(): Promise<void> {
    this.topics.pause()
    await this.swarm.suspend()
    this.updateState()
  }

  /** After wake-up: rejoin the DHT and look every topic up again right away. */
  async resume(): Promise<void> {
    await this.swarm.resume()
    this.topics.reset()
    this.updateState()
  }

  status(): NodeStatus {
    return {
      state: this.current,
      key: this.key.toString('hex'),
      displayId: this.displayId,
      roles: [...this.roles],
      projects: this.topics.projectKeys().map((p) => p.toString('hex')),
      topics: this.topics.size,
      peers: this.peers().map((p) => p.status()),
      counters: { ...this.counters },
      bans: this.faults.active(),
    }
  }

  /** Stops within the stop grace even with the DHT gone (bounded-stop.ts). */
  async destroy(): Promise<void> {
    if (this.current === 'destroyed') return
    clearInterval(this.poll)
    this.faults.clear()
    this.topics.stop()
    await this.guard?.close()
    const offline = this.current === 'offline'
    this.setState('destroyed')
    await destroySwarm(this.swarm, offline, this.stopGraceMs)
  }

  private onNetworkUpdate(): void {
    if (this.swarm.dht.online) this.topics.reset()
    this.updateState()
  }

  private updateState(): void {
    if (this.current === 'destroyed') return
    let next: NodeState
    if (this.swarm.suspended) next = 'suspended'
    else if (this.swarm.connections.size > 0) next = 'online'
    else if (this.swarm.dht.online && this.swarm.dht.table.size > 0) next = 'online'
    else next = 'offline'
    this.setState(next)
  }

  private setState(next: NodeState): void {
    if (next === this.current) return
    this.current = next
    this.emit('state', next)
  }
}
