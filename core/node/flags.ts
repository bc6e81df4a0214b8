/**
 * Flags (docs/governance.md, "Flags"): a contributor says in public that something is wrong with a
 * project, signed with its node key, and the flag spreads from peer to peer on the project's topic
 * (no central server). Limits so flags cannot be flooded:
 *
 *   - one flag per identity per project: a newer one from the same flagger replaces its older one,
 *     at most once per REPLACE_MS;
 *   - at most MAX_PER_PROJECT flags a project and MAX_PROJECTS projects are kept (capped memory);
 *     when a project's list is full, a flag from a contributor with accepted work in the project
 *     (the ledger says who) takes the place of one from an identity without, never the reverse,
 *     so a flood of fresh identities cannot push out the flags of the people who trained it;
 *   - flags dated more than MAX_SKEW_MS ahead or older than MAX_AGE_MS are refused;
 *   - each peer may hand us at most PEER_RATE flags a minute (beyond the wire's message limits).
 *
 * A flag's signature: Ed25519 by `flagger` over "tandem/flag/v1\0" ‖ project(32) ‖ flagger(32) ‖
 * at (u64 BE) ‖ reason (UTF-8).
 */
import crypto from 'hypercore-crypto'
import { z } from 'zod'
import { TandemError } from '../api/errors.js'
import type { FlagMessage } from '../wire/messages.js'

export const MAX_PER_PROJECT = 256
/** Bounded so the flags file stays small (≤ 64 × 256 flags of ≤ 1 KiB). */
export const MAX_PROJECTS = 64
export const REPLACE_MS = 60 * 60 * 1000
export const MAX_SKEW_MS = 5 * 60 * 1000
export const MAX_AGE_MS = 90 * 86_400_000
export const PEER_RATE = 30

export interface Flag {
  project: string
  flagger: string
  at: number
  reason: string
  signature: string
}

/** The flags file (<data dir>/flags.json): checked on read, each flag re-checked when loaded. */
export const FlagsFile = z
  .object({
    version: z.literal(1),
    flags: z
      .array(
        z
          .object({
            project: z.string().regex(/^[0-9a-f]{64}$/),
            flagger: z.string().regex(/^[0-9a-f]{64}$/),
            at: z.number().int().min(0),
            reason: z.string().min(1).max(500),
            signature: z.string().regex(/^[0-9a-f]{128}$/),
          })
          .strict(),
      )
      .max(MAX_PROJECTS * MAX_PER_PROJECT),
  })
  .strict()

const NAMESPACE = Buffer.from('tandem/flag/v1\0')

function signable(f: Omit<Flag, 'signature'>): Buffer {
  const at = Buffer.alloc(8)
  at.writeBigUInt64BE(BigInt(f.at))
  return Buffer.concat([
    NAMESPACE,
    Buffer.from(f.project, 'hex'),
    Buffer.from(f.flagger, 'hex'),
    at,
    Buffer.from(f.reason, 'utf8'),
  ])
}

export function signFlag(
  project: string,
  reason: string,
  keyPair: { publicKey: Buffer; secretKey: Buffer },
  at = Date.now(),
): Flag {
  const fields = { project, flagger: keyPair.publicKey.toString('hex'), at, reason }
  return { ...fields, signature: crypto.sign(signable(fields), keyPair.secretKey).toString('hex') }
}

export function flagSignatureValid(f: Flag): boolean {
  try {
    return crypto.verify(
      signable(f),
      Buffer.from(f.signature, 'hex'),
      Buffer.from(f.flagger, 'hex'),
    )
  } catch {
    return false // sodium throws on malformed keys: a bad signature too
  }
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

export function flagFromWire(m: FlagMessage): Flag {
  return {
    project: hex(m.project),
    flagger: hex(m.flagger),
    at: m.at,
    reason: m.reason,
    signature: hex(m.signature),
  }
}

export function flagToWire(f: Flag): FlagMessage {
  return {
    project: Buffer.from(f.project, 'hex'),
    flagger: Buffer.from(f.flagger, 'hex'),
    at: f.at,
    reason: f.reason,
    signature: Buffer.from(f.signature, 'hex'),
  }
}

export type FlagOutcome = 'added' | 'replaced' | 'known' | 'refused'

export interface FlagBookOptions {
  now?: () => number
  /** Whether an identity has accepted work in a project (from its ledger); unknown: false. */
  contributed?: (project: string, flagger: string) => boolean
}

/** The flags this node knows, bounded as the file comment says. */
export class FlagBook {
  private readonly byProject = new Map<string, Map<string, Flag>>()
  private readonly now: () => number
  private readonly contributed: (project: string, flagger: string) => boolean

  constructor(opts: FlagBookOptions = {}) {
    this.now = opts.now ?? Date.now
    this.contributed = opts.contributed ?? (() => false)
  }

  list(project: string): Flag[] {
    return [...(this.byProject.get(project)?.values() ?? [])].sort((a, b) => a.at - b.at)
  }

  /** Every flag kept, for the flags file. */
  all(): Flag[] {
    return [...this.byProject.keys()].flatMap((p) => this.list(p))
  }

  /** The flags to pass on first: contributors' (newest first), then the others (newest first). */
  ranked(project: string): Flag[] {
    const all = this.list(project).reverse()
    const mine = (f: Flag) => this.contributed(project, f.flagger)
    return [...all.filter(mine), ...all.filter((f) => !mine(f))]
  }

  /** Checks and stores a flag; says what happened (refusals throw nothing: peers send them). */
  add(f: Flag): { outcome: FlagOutcome; why?: string } {
    const now = this.now()
    if (f.at > now + MAX_SKEW_MS) return { outcome: 'refused', why: 'dated in the future' }
    if (f.at < now - MAX_AGE_MS) return { outcome: 'refused', why: 'too old' }
    const list = this.byProject.get(f.project)
    const old = list?.get(f.flagger)
    if (old && old.at === f.at && old.signature === f.signature) return { outcome: 'known' }
    if (old && f.at <= old.at) return { outcome: 'refused', why: 'older than the one kept' }
    if (old && f.at - old.at < REPLACE_MS)
      return { outcome: 'refused', why: 'replaced too soon after the last one' }
    if (!flagSignatureValid(f)) return { outcome: 'refused', why: 'bad signature' }
    if (old) {
      list!.set(f.flagger, f)
      return { outcome: 'replaced' }
    }
    let target = list
    if (!target) {
      if (this.byProject.size >= MAX_PROJECTS)
        return { outcome: 'refused', why: 'too many projects' }
      target = new Map()
      this.byProject.set(f.project, target)
    }
    if (target.size >= MAX_PER_PROJECT) {
      if (!this.contributed(f.project, f.flagger))
        return { outcome: 'refused', why: 'the list is full' }
      const victim = [...target.values()].find((x) => !this.contributed(f.project, x.flagger))
      if (!victim) return { outcome: 'refused', why: 'the list is full of contributors’ flags' }
      target.delete(victim.flagger)
    }
    target.set(f.flagger, f)
    return { outcome: 'added' }
  }
}

/** Per-peer flag rate: at most PEER_RATE a minute (a sliding count, bounded per peer). */
export class FlagRate {
  private readonly seen = new Map<string, number[]>()
  constructor(private readonly now: () => number = Date.now) {}

  allow(peer: string): boolean {
    const t = this.now()
    const recent = (this.seen.get(peer) ?? []).filter((x) => t - x < 60_000)
    if (recent.length >= PEER_RATE) {
      this.seen.set(peer, recent)
      return false
    }
    recent.push(t)
    this.seen.set(peer, recent)
    if (this.seen.size > 4096) this.seen.delete(this.seen.keys().next().value!)
    return true
  }
}

export function refuseFlag(why: string): TandemError {
  return new TandemError('BAD_ARGUMENT', `flag refused: ${why}`)
}
