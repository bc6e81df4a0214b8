/**
 * Which topics the swarm node is on: the discovery topic and its projects' topics, each kept looked
 * up by a TopicRefresher, and its datasets' topics, counted (a host and a participant, or two
 * projects, may share one). Leaving a project waits at most the stop grace for the unannounce.
 * The topics themselves are topics.ts; docs/wire.md ("Topics", "Stopping") has the long story.
 */
import type Hyperswarm from 'hyperswarm'
import { withinGrace } from './bounded-stop.js'
import { datasetTopic, discoveryTopic, projectTopic } from './topics.js'
import { TopicRefresher, type RefreshSchedule } from './topic-refresher.js'

export interface TopicMembershipOptions {
  swarm: Hyperswarm
  schedule: RefreshSchedule
  stopGraceMs: number
  /** Ready peers on a project's topic; null: the discovery topic (any peer counts). */
  peerCount: (project: Buffer | null) => number
  /** After every lookup, e.g. to re-evaluate online/offline. */
  onLookup: () => void
  /** A project was joined or left: peers are told (hello). */
  onProjectsChanged: () => void
  onWarning: (err: unknown) => void
}

interface JoinedTopic {
  discovery: Hyperswarm.Discovery
  refresher: TopicRefresher
  /** null: the discovery topic (any peer counts). */
  project: Buffer | null
}

export class TopicMembership {
  private readonly topics = new Map<string, JoinedTopic>()
  private readonly datasets = new Map<string, { discovery: Hyperswarm.Discovery; refs: number }>()

  constructor(private readonly opts: TopicMembershipOptions) {}

  /** Discovery and project topics joined (dataset topics not included). */
  get size(): number {
    return this.topics.size
  }

  /** Joins the global discovery topic; announces there only if `announce` (hosts). */
  joinDiscovery(announce: boolean): void {
    this.join(discoveryTopic(), null, announce)
  }

  joinProject(project: Uint8Array): void {
    this.join(projectTopic(project), Buffer.from(project), true)
    this.opts.onProjectsChanged()
  }

  async leaveProject(project: Uint8Array): Promise<void> {
    const topic = projectTopic(project)
    const joined = this.topics.get(topic.toString('hex'))
    if (!joined) return
    joined.refresher.stop()
    this.topics.delete(topic.toString('hex'))
    this.opts.onProjectsChanged()
    // Unannouncing waits out DHT timeouts when the DHT has gone (a host or participant stopping
    // offline): give it the stop grace, then let it finish in the background. swarm.leave never
    // rejects (hyperswarm swallows the network's errors), and destroy() ends whatever is pending.
    await withinGrace(this.opts.swarm.leave(topic), this.opts.stopGraceMs)
  }

  /** The keys of the projects joined. */
  projectKeys(): Buffer[] {
    return [...this.topics.values()].flatMap((t) => (t.project ? [t.project] : []))
  }

  /** See SwarmNode.joinDataset. */
  joinDataset(datasetKey: Uint8Array): Promise<void> {
    const topic = datasetTopic(datasetKey)
    const id = topic.toString('hex')
    let joined = this.datasets.get(id)
    if (!joined) {
      joined = { discovery: this.opts.swarm.join(topic, { server: true, client: true }), refs: 0 }
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
    await this.opts.swarm.leave(topic).catch((err: unknown) => this.opts.onWarning(err))
  }

  /** Hex discovery keys of the dataset topics joined. */
  datasetTopics(): string[] {
    return [...this.datasets.keys()]
  }

  /** Before sleep: no lookups until reset. */
  pause(): void {
    for (const t of this.topics.values()) t.refresher.pause()
  }

  /** Look every topic up again right away (network back, woke up). */
  reset(): void {
    for (const t of this.topics.values()) t.refresher.reset()
  }

  /** A peer left: topics left with no peers look for peers again, fast (reconnect). */
  resetEmpty(): void {
    for (const t of this.topics.values()) {
      if (this.opts.peerCount(t.project) === 0) t.refresher.reset()
    }
  }

  stop(): void {
    for (const t of this.topics.values()) t.refresher.stop()
  }

  private join(topic: Buffer, project: Buffer | null, announce: boolean): void {
    const id = topic.toString('hex')
    if (this.topics.has(id)) return
    const discovery = this.opts.swarm.join(topic, { server: announce, client: true })
    const refresher = new TopicRefresher(
      discovery,
      this.opts.schedule,
      () => this.opts.peerCount(project),
      () => this.opts.onLookup(),
    )
    this.topics.set(id, { discovery, refresher, project })
  }
}
