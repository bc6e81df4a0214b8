/**
 * Announcements heard on the discovery topic: the projects this node could join.
 *
 * Anyone on the topic can sign an announce for any project key with a key of its own, so an
 * announce alone proves only who signed it. The project's manifest (block 0 of its ledger core)
 * names the one host whose announces count:
 *
 * - Until the manifest is read, announces are kept per (project, host), a few hosts per project,
 *   each host's `seq` ordering only its own announces, so a forged huge `seq` from one key can
 *   never block another key's later announces.
 * - Once the manifest is read, every other host's entry is dropped and their announces ignored;
 *   only projects whose manifest host has announced are listed.
 * - At most `maxProjects` projects are tracked; when full, the least recently announced one that is
 *   not joined goes first (unread manifests before read ones, so a flood of made-up keys churns
 *   only itself). Entries not announced again within `ttlMs` vanish.
 * - Manifests are read in the background, `readConcurrency` at a time with a short timeout; a
 *   project whose manifest could not be read is not tried again for `retryAfterMs`. Projects heard
 *   straight from their announcing host are read first, then the most recently announced.
 *
 * Time comes from an injected clock so expiry is testable without waiting.
 */
import type { Announce } from '../wire/messages.js'
import type { ContributorNode } from './node.js'
import { readManifestBlock } from '../ledger/reader.js'
import { TandemError } from '../api/errors.js'

export interface DiscoveryLimits {
  /** Projects tracked at once (joined ones included, though those are never evicted). */
  maxProjects: number
  /** Candidate hosts kept per project until its manifest is read. */
  maxHostsPerProject: number
  /** An entry not announced again within this long vanishes. Hosts re-announce every 30 s. */
  ttlMs: number
  /** Manifest reads at once. */
  readConcurrency: number
  /** How long one manifest read may wait for a peer to serve block 0. */
  readTimeoutMs: number
  /** A project whose manifest could not be read is not tried again for this long. */
  retryAfterMs: number
}

export const DEFAULT_DISCOVERY_LIMITS: DiscoveryLimits = {
  maxProjects: 256,
  maxHostsPerProject: 4,
  ttlMs: 3 * 60_000,
  readConcurrency: 4,
  readTimeoutMs: 2_000,
  retryAfterMs: 60_000,
}

export interface DiscoveryCounters {
  /** Announces taken (new or newer `seq` from an allowed host). */
  accepted: number
  /** Announces with a `seq` not above what that host sent before. */
  stale: number
  /** Announces (and earlier entries) from a host other than the manifest's. */
  foreignHost: number
  /** Entries pushed out because the table was full. */
  evicted: number
  /** Announces of new projects dropped because every tracked project is joined. */
  full: number
  /** Entries that vanished after `ttlMs` without an announce. */
  expired: number
  manifestsRead: number
  manifestsUnreadable: number
}

/** An announce as kept: the signed body and when (by the injected clock) it was last heard. */
export type HeardAnnounce = Announce & { at: number }

export interface DiscoveryOptions {
  /** Reads the project's manifest host (hex), or throws when it cannot within `timeoutMs`. */
  readManifestHost(project: string, timeoutMs: number): Promise<string>
  /** Joined projects are never evicted. */
  isJoined?(project: string): boolean
  /** Runs when a project becomes listable (its manifest host has announced and is known). */
  onListed?(project: string): void
  /** A manifest read failed (the reason, for a log). */
  onUnreadable?(project: string, err: unknown): void
  now?: () => number
  limits?: Partial<DiscoveryLimits>
}

interface ProjectEntry {
  /** Hex host key → that host's newest announce. */
  hosts: Map<string, HeardAnnounce>
  /** The manifest's host once read. */
  manifestHost: string | null
  /** Last announce taken, or when the manifest was read (what expiry and eviction look at). */
  lastAt: number
  /** Some announce came straight from the peer that signed it. */
  direct: boolean
  reading: boolean
  /** No manifest read before this time (the negative cache). */
  retryAt: number
}

export class DiscoveredProjects {
  readonly limits: DiscoveryLimits
  readonly counters: DiscoveryCounters = {
    accepted: 0,
    stale: 0,
    foreignHost: 0,
    evicted: 0,
    full: 0,
    expired: 0,
    manifestsRead: 0,
    manifestsUnreadable: 0,
  }
  private readonly projects = new Map<string, ProjectEntry>()
  private readonly now: () => number
  private reads = 0
  private readonly idleWaiters: Array<() => void> = []

  constructor(private readonly opts: DiscoveryOptions) {
    this.limits = { ...DEFAULT_DISCOVERY_LIMITS, ...opts.limits }
    this.now = opts.now ?? Date.now
  }

  /** Discovery for a contributor node: its announces in, manifests from its corestore. */
  static forNode(node: ContributorNode, onListed?: (project: string) => void): DiscoveredProjects {
    const store = node.datasets.corestore
    const log = node.log.child('discovery')
    const discovered = new DiscoveredProjects({
      async readManifestHost(project, timeoutMs) {
        const core = store.get({ key: Buffer.from(project, 'hex') })
        try {
          await core.ready()
          const block = await core.get(0, { wait: true, timeout: timeoutMs })
          if (!block)
            throw new TandemError('PROJECT_NOT_FOUND', `project ${project} is not reachable`)
          return readManifestBlock(block).host
        } finally {
          await core.close().catch((err: unknown) => log.debug(`close: ${String(err)}`))
        }
      },
      isJoined: (project) =>
        node.hosting === project || node.joinedProjects().some((p) => p.key === project),
      onListed,
      onUnreadable: (project, err) =>
        log.debug(`project ${project.slice(0, 8)}: manifest unreadable (${String(err)})`),
    })
    node.net.on('message', (peer, msg) => {
      if (msg.type === 'announce') discovered.hear(msg.body, peer.hexKey)
    })
    return discovered
  }

  /**
   * Takes a (signature-checked) announce, heard from the peer with hex key `from`. Returns whether
   * it was taken.
   */
  hear(announce: Announce, from?: string): boolean {
    const now = this.now()
    this.expire(now)
    const project = Buffer.from(announce.project).toString('hex')
    const host = Buffer.from(announce.host).toString('hex')
    let entry = this.projects.get(project)
    if (entry?.manifestHost != null && entry.manifestHost !== host) {
      this.counters.foreignHost++
      return false
    }
    // A host raises `seq` with every announce, so an equal one is a replay: it must not keep an
    // entry alive after its host went quiet.
    const old = entry?.hosts.get(host)
    if (old && old.seq >= announce.seq) {
      this.counters.stale++
      return false
    }
    if (!entry) {
      if (!this.makeRoom()) {
        this.counters.full++
        return false
      }
      entry = {
        hosts: new Map(),
        manifestHost: null,
        lastAt: now,
        direct: false,
        reading: false,
        retryAt: 0,
      }
      this.projects.set(project, entry)
    }
    if (!old && entry.hosts.size >= this.limits.maxHostsPerProject) {
      const oldest = [...entry.hosts.entries()].reduce((a, b) => (b[1].at < a[1].at ? b : a))
      entry.hosts.delete(oldest[0])
      this.counters.evicted++
    }
    const listedBefore = this.listable(entry)
    entry.hosts.set(host, { ...announce, at: now })
    entry.lastAt = now
    if (from === host) entry.direct = true
    this.counters.accepted++
    if (!listedBefore && this.listable(entry)) this.opts.onListed?.(project)
    this.pump()
    return true
  }

  /** Projects to list: manifest read, and its host's announce still fresh. */
  keys(): string[] {
    this.expire(this.now())
    return [...this.projects.entries()].filter(([, e]) => this.listable(e)).map(([k]) => k)
  }

  /** The newest announce of `project` by its manifest host (none until the manifest is read). */
  get(project: string): HeardAnnounce | undefined {
    this.expire(this.now())
    const entry = this.projects.get(project)
    if (!entry?.manifestHost) return undefined
    return entry.hosts.get(entry.manifestHost)
  }

  /** Every (project, host) entry held, listed or not (tests and status). */
  entries(): Array<{ project: string; host: string; manifestHost: string | null }> {
    this.expire(this.now())
    return [...this.projects.entries()].flatMap(([project, e]) =>
      [...e.hosts.keys()].map((host) => ({ project, host, manifestHost: e.manifestHost })),
    )
  }

  get size(): number {
    return this.projects.size
  }

  /** Resolves once no manifest read is running or could start now. */
  idle(): Promise<void> {
    if (this.reads === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private listable(e: ProjectEntry): boolean {
    return e.manifestHost !== null && e.hosts.has(e.manifestHost)
  }

  private expire(now: number): void {
    const ttl = this.limits.ttlMs
    for (const [project, e] of this.projects) {
      for (const [host, a] of e.hosts)
        if (a.at + ttl <= now) {
          e.hosts.delete(host)
          this.counters.expired++
        }
      // A read in flight keeps its entry so its outcome has somewhere to land; the next expire
      // removes it once the read has finished.
      if (e.lastAt + ttl <= now && !e.reading) this.projects.delete(project)
    }
  }

  /** Frees a slot for a new project; false when every tracked project is joined. */
  private makeRoom(): boolean {
    if (this.projects.size < this.limits.maxProjects) return true
    let victim: [string, ProjectEntry] | null = null
    const rank = (e: ProjectEntry) => (e.manifestHost === null ? 0 : 1)
    for (const pair of this.projects) {
      if (this.opts.isJoined?.(pair[0])) continue
      if (
        !victim ||
        rank(pair[1]) < rank(victim[1]) ||
        (rank(pair[1]) === rank(victim[1]) && pair[1].lastAt < victim[1].lastAt)
      )
        victim = pair
    }
    if (!victim) return false
    this.projects.delete(victim[0])
    this.counters.evicted++
    return true
  }

  /** Starts manifest reads while slots are free. */
  private pump(): void {
    while (this.reads < this.limits.readConcurrency) {
      const next = this.nextToRead()
      if (!next) break
      void this.read(next[0], next[1])
    }
    if (this.reads === 0) for (const w of this.idleWaiters.splice(0)) w()
  }

  private nextToRead(): [string, ProjectEntry] | null {
    const now = this.now()
    let best: [string, ProjectEntry] | null = null
    for (const pair of this.projects) {
      const e = pair[1]
      if (e.manifestHost !== null || e.reading || e.retryAt > now || e.hosts.size === 0) continue
      if (
        !best ||
        (e.direct && !best[1].direct) ||
        (e.direct === best[1].direct && e.lastAt > best[1].lastAt)
      )
        best = pair
    }
    return best
  }

  private async read(project: string, entry: ProjectEntry): Promise<void> {
    entry.reading = true
    this.reads++
    try {
      const host = await this.opts.readManifestHost(project, this.limits.readTimeoutMs)
      this.counters.manifestsRead++
      // Evicted or expired while reading: the result is kept only if the entry still is.
      if (this.projects.get(project) === entry) this.settle(project, entry, host)
    } catch (err) {
      this.counters.manifestsUnreadable++
      entry.retryAt = this.now() + this.limits.retryAfterMs
      this.opts.onUnreadable?.(project, err)
    } finally {
      entry.reading = false
      this.reads--
      this.pump()
    }
  }

  private settle(project: string, entry: ProjectEntry, host: string): void {
    entry.manifestHost = host
    entry.lastAt = Math.max(entry.lastAt, this.now())
    for (const other of [...entry.hosts.keys()])
      if (other !== host) {
        entry.hosts.delete(other)
        this.counters.foreignHost++
      }
    if (this.listable(entry)) this.opts.onListed?.(project)
  }
}
