/**
 * A Tandem node on the swarm: its identity as the Hyperswarm key, the global discovery topic,
 * one topic per project and one per dataset it holds, a `tandem/1` control channel on every connection (sharing the mux with
 * the node's corestore replication), per-peer limits, bans and counters, and the
 * online/offline/suspended state. Peer input never throws out of here: violations end in a ban.
 */
import type Corestore from 'corestore'
import { EventEmitter } from 'node:events'
import type Hyperswarm from 'hyperswarm'
import { TandemError } from '../api/errors.js'
import {
  WIRE_VERSION,
  type MessageBodies,
  type MessageKind,
  type RoleName,
  type WireMessage,
} from '../wire/messages.js'
import { BanList, DEFAULT_MAX_BANS, type Ban } from './ban-list.js'
import { ControlChannel } from './control-channel.js'
import { nodeCounters, type NodeCounters } from './counters.js'
import { FaultTally } from './fault-tally.js'
import { displayId } from './identity.js'
import { DEFAULT_LIMITS, type PeerLimits } from './limits.js'
import { callListeners } from './listeners.js'
import { Peer, type PeerStatus } from './peer.js'
import { ReplicationGuard, type ReplicationFault } from './replication-guard.js'
import { isPeerFault, isReplicationFault } from './stream-errors.js'
import { createSwarm } from './swarm.js'
import { datasetTopic, discoveryTopic, projectTopic } from './topics.js'
import { DEFAULT_REFRESH, TopicRefresher, type RefreshSchedule } from './topic-refresher.js'

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

interface JoinedTopic {
  discovery: Hyperswarm.Discovery
  refresher: TopicRefresher
  /** null: the discovery topic (any peer counts). */
  project: Buffer | null
}

export const DEFAULT_BAN_MS = 10 * 60_000
export const DEFAULT_REPLICATION_FAULT_LIMIT = 3
export const DEFAULT_STOP_GRACE_MS = 1500
const STATE_POLL_MS = 1000

export class SwarmNode extends EventEmitter<NodeEvents> {
  readonly swarm: Hyperswarm
  readonly counters = nodeCounters()
  readonly key: Buffer
  readonly displayId: string
  private readonly limits: PeerLimits
  private readonly schedule: RefreshSchedule
  private readonly bans: BanList
  private readonly replicationFaults: FaultTally
  private readonly peerMap = new Map<string, Peer>()
  private readonly topics = new Map<string, JoinedTopic>()
  /** Dataset topics, counted: a host and a participant (or two projects) may share one. */
  private readonly datasets = new Map<string, { discovery: Hyperswarm.Discovery; refs: number }>()
  private readonly roles: RoleName[]
  private readonly agent: string
  private readonly maxPeers: number
  private readonly banMs: number
  private readonly poll: NodeJS.Timeout
  private readonly guard: ReplicationGuard | null
  private current: NodeState = 'offline'

  constructor(private readonly opts: SwarmNodeOptions) {
    super()
    this.key = opts.keyPair.publicKey
    this.displayId = displayId(this.key)
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits }
    this.schedule = { ...DEFAULT_REFRESH, ...opts.refresh }
    this.roles = opts.roles ?? ['contributor']
    this.agent = opts.agent ?? 'tandem'
    this.maxPeers = opts.maxPeers ?? 64
    this.banMs = opts.banMs ?? DEFAULT_BAN_MS
    this.bans = new BanList({
      maxBans: opts.maxBans ?? DEFAULT_MAX_BANS,
      onEnd: (ban, evicted) => {
        if (evicted) this.counters.bansEvicted++
        // The firewall refused the peer, and hyperswarm then marks it banned, which sticks: lift it.
        this.swarm.peers.get(ban.key)?.ban(false)
      },
    })
    this.replicationFaults = new FaultTally({
      windowMs: this.banMs,
      maxEntries: opts.maxBans ?? DEFAULT_MAX_BANS,
    })
    this.swarm = createSwarm(opts.bootstrap, {
      keyPair: opts.keyPair,
      maxPeers: this.maxPeers,
      firewall: (remote) => {
        if (!this.bans.has(remote)) return false
        this.counters.refused++
        return true
      },
    })
    this.guard = opts.corestore
      ? new ReplicationGuard(opts.corestore, (fault) => this.onReplicationFault(fault))
      : null
    this.swarm.on('connection', (conn) => this.onConnection(conn))
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
    return [...this.peerMap.values()].filter((p) => p.hello !== null)
  }

  peer(key: Uint8Array): Peer | undefined {
    const peer = this.peerMap.get(Buffer.from(key).toString('hex'))
    return peer?.hello ? peer : undefined
  }

  projectPeers(project: Uint8Array): Peer[] {
    return this.peers().filter((p) => p.inProject(project))
  }

  /** Joins the global discovery topic; hosts announce there, everyone looks up. */
  joinDiscovery(): void {
    this.join(discoveryTopic(), null, this.roles.includes('host'))
  }

  /** Joins a project's topic (announce and look up) and tells connected peers. */
  joinProject(project: Uint8Array): void {
    this.join(projectTopic(project), Buffer.from(project), true)
    this.sendHelloToAll()
  }

  async leaveProject(project: Uint8Array): Promise<void> {
    const topic = projectTopic(project)
    const joined = this.topics.get(topic.toString('hex'))
    if (!joined) return
    joined.refresher.stop()
    this.topics.delete(topic.toString('hex'))
    this.sendHelloToAll()
    // Unannouncing waits out DHT timeouts when the DHT has gone (a host or participant stopping
    // offline): give it the stop grace, then let it finish in the background. swarm.leave never
    // rejects (hyperswarm swallows the network's errors), and destroy() ends whatever is pending.
    await this.withinGrace(this.swarm.leave(topic))
  }

  /**
   * Announces this node on a dataset's own topic (datasetTopic: the core's discovery key) and looks
   * it up, so that a client holding only the dataset key finds it, and so do other holders. The
   * host and every participant call this for their project's dataset; the connections it brings
   * replicate the node's corestore like any other. Counted: each call needs one leaveDataset.
   * Resolves once the announcement is out; never rejects (offline, hyperswarm announces again).
   */
  joinDataset(datasetKey: Uint8Array): Promise<void> {
    const topic = datasetTopic(datasetKey)
    const id = topic.toString('hex')
    let joined = this.datasets.get(id)
    if (!joined) {
      joined = { discovery: this.swarm.join(topic, { server: true, client: true }), refs: 0 }
      this.datasets.set(id, joined)
    }
    joined.refs++
    // Fails only when the swarm is destroyed meanwhile: then there is nothing left to announce.
    return joined.discovery.flushed().then(
      () => {},
      () => {},
    )
  }

  /** Drops one joinDataset; the last one leaves the topic. Never rejects. */
  async leaveDataset(datasetKey: Uint8Array): Promise<void> {
    const topic = datasetTopic(datasetKey)
    const id = topic.toString('hex')
    const joined = this.datasets.get(id)
    if (!joined || --joined.refs > 0) return
    this.datasets.delete(id)
    // Leaving a destroyed swarm fails; its announcements are gone with it anyway.
    await this.swarm.leave(topic).catch((err: unknown) => this.emit('warning', err))
  }

  /** Hex discovery keys of the dataset topics this node is on. */
  datasetTopics(): string[] {
    return [...this.datasets.keys()]
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
  ban(key: Uint8Array, reason: TandemError, ms = this.banMs): void {
    // The firewall refuses the peer from now on; the ban list lifts hyperswarm's own ban at the end.
    const ban = this.bans.add(key, ms, reason.code)
    this.counters.bans++
    const peer = this.peerMap.get(ban.key)
    if (peer) {
      peer.channel.sendFinalError(reason)
      // end() flushes the error frame; destroy() follows in case the peer never closes its side.
      peer.conn.end()
      const kill = setTimeout(() => peer.conn.destroy(), 1000)
      kill.unref()
    }
    this.emit('ban', ban, reason)
  }

  isBanned(key: Uint8Array): boolean {
    return this.bans.has(key)
  }

  /** Before the machine sleeps: drop connections and stop announcing, cleanly. */
  async suspend(): Promise<void> {
    for (const t of this.topics.values()) t.refresher.pause()
    await this.swarm.suspend()
    this.updateState()
  }

  /** After wake-up: rejoin the DHT and look every topic up again right away. */
  async resume(): Promise<void> {
    await this.swarm.resume()
    for (const t of this.topics.values()) t.refresher.reset()
    this.updateState()
  }

  status(): NodeStatus {
    return {
      state: this.current,
      key: this.key.toString('hex'),
      displayId: this.displayId,
      roles: [...this.roles],
      projects: this.projectKeys().map((p) => p.toString('hex')),
      topics: this.topics.size,
      peers: this.peers().map((p) => p.status()),
      counters: { ...this.counters },
      bans: this.bans.active(),
    }
  }

  async destroy(): Promise<void> {
    if (this.current === 'destroyed') return
    clearInterval(this.poll)
    this.bans.clear()
    for (const t of this.topics.values()) t.refresher.stop()
    await this.guard?.close()
    const offline = this.current === 'offline'
    this.setState('destroyed')
    await this.destroySwarm(offline)
  }

  /**
   * Stopping must not wait on a DHT that is gone: every unannounce (the topics', and the server's
   * in hyperswarm's destroy) would wait out its request timeouts, seconds each. Destroying the DHT
   * fails its pending requests at once, so whatever waits on them settles right after; the
   * discoveries and the server still get closed (their timers hold the event loop open otherwise).
   * Offline, the DHT goes at once. Online, the swarm unannounces politely for `stopGraceMs`, then
   * the DHT goes (the bootstrap may have vanished while the node still counted as online).
   */
  private async destroySwarm(offline: boolean): Promise<void> {
    if (offline) {
      const closing = Promise.all([this.swarm.clear(), this.swarm.destroy({ force: true })])
      await this.swarm.dht.destroy({ force: true })
      await closing
      return
    }
    const polite = this.swarm.destroy()
    if (await this.withinGrace(polite)) return
    await this.swarm.dht.destroy({ force: true })
    await polite
  }

  /** Whether `work` settled within the stop grace; it keeps running either way. */
  private async withinGrace(work: Promise<unknown>): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined
    const grace = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), this.opts.stopGraceMs ?? DEFAULT_STOP_GRACE_MS)
    })
    try {
      return await Promise.race([work.then(() => true), grace])
    } finally {
      clearTimeout(timer)
    }
  }

  private join(topic: Buffer, project: Buffer | null, announce: boolean): void {
    const id = topic.toString('hex')
    if (this.topics.has(id)) return
    const discovery = this.swarm.join(topic, { server: announce, client: true })
    const peerCount = () => (project ? this.projectPeers(project).length : this.peers().length)
    const refresher = new TopicRefresher(discovery, this.schedule, peerCount, () =>
      this.updateState(),
    )
    this.topics.set(id, { discovery, refresher, project })
  }

  private projectKeys(): Buffer[] {
    return [...this.topics.values()].flatMap((t) => (t.project ? [t.project] : []))
  }

  private hello(): MessageBodies['hello'] {
    return {
      protocol: WIRE_VERSION,
      roles: this.roles,
      projects: this.projectKeys(),
      agent: this.agent,
    }
  }

  private sendHelloToAll(): void {
    for (const peer of this.peerMap.values()) {
      if (peer.channel.opened) this.trySend(peer, 'hello', this.hello())
    }
  }

  private trySend<K extends MessageKind>(peer: Peer, kind: K, body: MessageBodies[K]): void {
    try {
      peer.send(kind, body)
    } catch (err) {
      this.emit('warning', err)
    }
  }

  private onConnection(conn: Hyperswarm.Connection): void {
    this.counters.connections++
    // A connection without an error listener crashes the process when the peer vanishes.
    conn.on('error', (err: unknown) => this.onConnectionError(conn, err))
    if (this.bans.has(conn.remotePublicKey)) {
      this.counters.refused++
      conn.destroy()
      return
    }
    if (this.peerMap.size >= this.maxPeers) {
      this.counters.refused++
      conn.destroy()
      return
    }
    try {
      this.opts.wrapConnection?.(conn)
    } catch (err) {
      this.emit('warning', err) // our bug, not the peer's: keep the connection, unwrapped
    }
    this.opts.corestore?.replicate(conn)

    const peer = new Peer(conn)
    this.peerMap.set(peer.hexKey, peer)
    peer.channel = new ControlChannel(conn, this.limits, [peer.counters, this.counters], {
      onopen: () => this.trySend(peer, 'hello', this.hello()),
      onmessage: (message) => this.onMessage(peer, message),
      onviolation: (err) => this.ban(peer.key, err),
      onhandlerError: (err) => {
        this.counters.handlerErrors++
        this.emit('warning', err)
      },
      onclose: () => {},
    })
    conn.once('close', () => this.onClose(peer))
    this.updateState()
  }

  /** Peer faults ban at once, replication-handshake faults past a threshold; the rest is the network. */
  private onConnectionError(conn: Hyperswarm.Connection, err: unknown): void {
    const key = conn.remotePublicKey
    if (this.bans.has(key)) return
    if (isPeerFault(err)) {
      this.counters.invalid++
      this.ban(key, new TandemError('WIRE_MALFORMED', `connection failed: ${describe(err)}`))
      return
    }
    if (!isReplicationFault(err)) return // a network error: not the peer's fault
    this.counters.replicationFaults++
    const faults = this.replicationFaults.add(key)
    if (faults < (this.opts.replicationFaultLimit ?? DEFAULT_REPLICATION_FAULT_LIMIT)) return
    this.replicationFaults.delete(key)
    this.counters.invalid++
    this.ban(
      key,
      new TandemError(
        'WIRE_BAD_REPLICATION',
        `${faults} bad replication handshakes (${describe(err)})`,
        { cause: err },
      ),
    )
  }

  private onMessage(peer: Peer, message: WireMessage): void | Promise<void> {
    if (message.type !== 'hello') return callListeners(this, 'message', [peer, message])
    const first = peer.hello === null
    peer.hello = message.body
    this.emit(first ? 'peer' : 'peer-update', peer)
  }

  /** Replication data from this peer failed verification: the same ban as a bad control message. */
  private onReplicationFault({ remotePublicKey, stream, error }: ReplicationFault): void {
    const peer = this.peerMap.get(remotePublicKey.toString('hex'))
    if (peer?.conn === stream) peer.counters.invalid++
    this.counters.invalid++
    if (this.bans.has(remotePublicKey)) return // several bad blocks may arrive before the hang-up
    const why = error.code ?? error.message
    this.ban(
      remotePublicKey,
      new TandemError('WIRE_BAD_REPLICATION', `replication data failed verification (${why})`, {
        cause: error,
      }),
    )
  }

  private onClose(peer: Peer): void {
    // A duplicate connection may already have replaced this one under the same key.
    if (this.peerMap.get(peer.hexKey) !== peer) return
    this.peerMap.delete(peer.hexKey)
    if (peer.hello) this.emit('peer-leave', peer)
    for (const t of this.topics.values()) {
      const left = t.project ? this.projectPeers(t.project).length : this.peers().length
      if (left === 0) t.refresher.reset() // reconnect: look for peers again, fast
    }
    this.updateState()
  }

  private onNetworkUpdate(): void {
    if (this.swarm.dht.online) for (const t of this.topics.values()) t.refresher.reset()
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

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
