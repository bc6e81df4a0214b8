/**
 * The Tandem control messages: their types, size caps and compact-encoding codecs. One definition
 * per message, used by both ends. The format only grows: a message type's number never changes,
 * fields are only appended, and every body starts with its format version so a newer peer's extra
 * trailing fields are recognised as such (see decode.ts and docs/wire.md).
 */
import c from 'compact-encoding'
import type Protomux from 'protomux'
import { boundedArray } from './bounded-array.js'
import { LIMITS } from './limits.js'

/** The protomux protocol name of the control channel (the `1` is the wire protocol's major). */
export const PROTOCOL = 'tandem/1'
/**
 * The wire protocol version this build speaks, sent in hello. 2 added `vote` and `flag`, 3 added
 * `voteReceipt`: send each only to peers whose hello says that version or more (PROTOCOL_SINCE).
 */
export const WIRE_VERSION = 3
/** The body format version this build writes for every message type. */
export const FORMAT_VERSION = 1

/** Message type numbers: the protomux message index. Append only, never renumber. */
export const MessageType = {
  hello: 0,
  announce: 1,
  roundOpen: 2,
  updateOffer: 3,
  ack: 4,
  error: 5,
  vote: 6,
  flag: 7,
  voteReceipt: 8,
} as const
export type MessageKind = keyof typeof MessageType
export const MESSAGE_KINDS = Object.keys(MessageType) as MessageKind[]

/** The hello `protocol` a peer must speak before it may be sent each type (docs/wire.md). */
export const PROTOCOL_SINCE: Record<MessageKind, number> = {
  hello: 1,
  announce: 1,
  roundOpen: 1,
  updateOffer: 1,
  ack: 1,
  error: 1,
  vote: 2,
  flag: 2,
  voteReceipt: 3,
}

/** Largest encoded body accepted per type, checked before decoding. */
export const SIZE_CAPS: Record<MessageKind, number> = {
  hello: 4096,
  announce: 1024,
  roundOpen: 256,
  updateOffer: 256,
  ack: 512,
  error: 1024,
  vote: 256,
  flag: 1024,
  voteReceipt: 256,
}

/** Roles as a bit field; unknown bits from newer peers are ignored. */
export const Role = { host: 1, contributor: 2, seeder: 4 } as const
export type RoleName = keyof typeof Role

export interface Hello {
  /** The wire protocol version the sender speaks. */
  protocol: number
  roles: RoleName[]
  /** Keys of the projects the sender takes part in. */
  projects: Uint8Array[]
  /** Free-form software name and version, e.g. `tandem/0.1.0`. */
  agent: string
}

/** A project host's advertisement, signed by the host so seeders may relay it unchanged. */
export interface Announce {
  project: Uint8Array
  host: Uint8Array
  name: string
  dataset: Uint8Array
  round: number
  contributors: number
  open: boolean
  /** Grows with every announcement from this host: the newest one wins. */
  seq: number
  signature: Uint8Array
}

export interface RoundOpen {
  project: Uint8Array
  round: number
  /** Ledger block index of the round's starting checkpoint, and its hash. */
  checkpointIndex: number
  checkpointHash: Uint8Array
  /** Unix milliseconds. */
  deadline: number
  innerSteps: number
}

/** Points at blocks in the sender's own update core; the receiver downloads them itself. */
export interface UpdateOffer {
  project: Uint8Array
  round: number
  core: Uint8Array
  start: number
  length: number
  byteLength: number
  hash: Uint8Array
  samples: number
}

export const AckStatus = { received: 0, accepted: 1, rejected: 2 } as const
export type AckStatusName = keyof typeof AckStatus

/** Receipt of an offer (or any referenced item), named by its hash. */
export interface Ack {
  project: Uint8Array
  round: number
  ref: Uint8Array
  status: AckStatusName
  /** An error code when rejected, else empty. */
  reason: string
}

export interface WireErrorMessage {
  code: string
  message: string
  /** The sender is closing the channel after this. */
  fatal: boolean
}

/**
 * A contributor's signed vote on a proposal in a project's ledger (core/ledger/amendments.ts signs
 * and checks it); the host records it in the ledger. `choice` 1 yes, 0 no.
 */
export interface VoteMessage {
  project: Uint8Array
  proposal: number
  proposalHash: Uint8Array
  voter: Uint8Array
  choice: number
  signature: Uint8Array
}

/**
 * A contributor's signed flag on a project (core/node/flags.ts signs and checks it), spread from
 * peer to peer on the project's topic. `at` is Unix ms.
 */
export interface FlagMessage {
  project: Uint8Array
  flagger: Uint8Array
  at: number
  reason: string
  signature: Uint8Array
}

/**
 * The host's signed statement that it accepted a vote (core/ledger/vote-receipt.ts signs and checks
 * it), sent to the voter before the vote's `ack`. `round` is the ledger round the vote arrived in,
 * `at` Unix ms; `voteHash` is the ack's `ref` (SHA-256 of the vote's signature).
 */
export interface VoteReceiptMessage {
  project: Uint8Array
  proposal: number
  voter: Uint8Array
  voteHash: Uint8Array
  round: number
  at: number
  signature: Uint8Array
}

export interface MessageBodies {
  hello: Hello
  announce: Announce
  roundOpen: RoundOpen
  updateOffer: UpdateOffer
  ack: Ack
  error: WireErrorMessage
  vote: VoteMessage
  flag: FlagMessage
  voteReceipt: VoteReceiptMessage
}

export type WireMessage = {
  [K in MessageKind]: { type: K; body: MessageBodies[K] }
}[MessageKind]

type Codec<T> = Protomux.Encoding<T>

const key = c.fixed32
const sig = c.fixed64
// Every array from a peer goes through boundedArray: its length is checked before allocation.
const projectKeys = boundedArray(c.fixed32, {
  field: 'hello.projects',
  max: LIMITS.maxProjects,
  minItemBytes: 32,
})
const ROLE_ENTRIES = Object.entries(Role) as Array<[RoleName, number]>
const ACK_ENTRIES = Object.entries(AckStatus) as Array<[AckStatusName, number]>

function roleBits(roles: RoleName[]): number {
  return roles.reduce((bits, r) => bits | Role[r], 0)
}

function roleNames(bits: number): RoleName[] {
  return ROLE_ENTRIES.filter(([, bit]) => (bits & bit) !== 0).map(([name]) => name)
}

/** The fields an announce signature covers, i.e. everything but the signature. */
export const announceSignable: Codec<Omit<Announce, 'signature'>> = {
  preencode(s, m) {
    c.uint.preencode(s, FORMAT_VERSION)
    key.preencode(s, m.project)
    key.preencode(s, m.host)
    c.string.preencode(s, m.name)
    key.preencode(s, m.dataset)
    c.uint.preencode(s, m.round)
    c.uint.preencode(s, m.contributors)
    c.bool.preencode(s, m.open)
    c.uint.preencode(s, m.seq)
  },
  encode(s, m) {
    c.uint.encode(s, FORMAT_VERSION)
    key.encode(s, m.project)
    key.encode(s, m.host)
    c.string.encode(s, m.name)
    key.encode(s, m.dataset)
    c.uint.encode(s, m.round)
    c.uint.encode(s, m.contributors)
    c.bool.encode(s, m.open)
    c.uint.encode(s, m.seq)
  },
  decode(s) {
    c.uint.decode(s) // the version, read by decode.ts before the body
    return {
      project: key.decode(s),
      host: key.decode(s),
      name: c.string.decode(s),
      dataset: key.decode(s),
      round: c.uint.decode(s),
      contributors: c.uint.decode(s),
      open: c.bool.decode(s),
      seq: c.uint.decode(s),
    }
  },
}

/**
 * Each codec writes `uint version` first. Decoders read the version too; decode.ts uses it to tell
 * a newer peer's appended fields from garbage.
 */
export const codecs: { [K in MessageKind]: Codec<MessageBodies[K]> } = {
  hello: {
    preencode(s, m) {
      c.uint.preencode(s, FORMAT_VERSION)
      c.uint.preencode(s, m.protocol)
      c.uint.preencode(s, roleBits(m.roles))
      projectKeys.preencode(s, m.projects)
      c.string.preencode(s, m.agent)
    },
    encode(s, m) {
      c.uint.encode(s, FORMAT_VERSION)
      c.uint.encode(s, m.protocol)
      c.uint.encode(s, roleBits(m.roles))
      projectKeys.encode(s, m.projects)
      c.string.encode(s, m.agent)
    },
    decode(s) {
      c.uint.decode(s)
      return {
        protocol: c.uint.decode(s),
        roles: roleNames(c.uint.decode(s)),
        projects: projectKeys.decode(s),
        agent: c.string.decode(s),
      }
    },
  },
  announce: {
    preencode(s, m) {
      announceSignable.preencode(s, m)
      sig.preencode(s, m.signature)
    },
    encode(s, m) {
      announceSignable.encode(s, m)
      sig.encode(s, m.signature)
    },
    decode(s) {
      const fields = announceSignable.decode(s)
      return { ...fields, signature: sig.decode(s) }
    },
  },
  roundOpen: {
    preencode(s, m) {
      c.uint.preencode(s, FORMAT_VERSION)
      key.preencode(s, m.project)
      c.uint.preencode(s, m.round)
      c.uint.preencode(s, m.checkpointIndex)
      key.preencode(s, m.checkpointHash)
      c.uint.preencode(s, m.deadline)
      c.uint.preencode(s, m.innerSteps)
    },
    encode(s, m) {
      c.uint.encode(s, FORMAT_VERSION)
      key.encode(s, m.project)
      c.uint.encode(s, m.round)
      c.uint.encode(s, m.checkpointIndex)
      key.encode(s, m.checkpointHash)
      c.uint.encode(s, m.deadline)
      c.uint.encode(s, m.innerSteps)
    },
    decode(s) {
      c.uint.decode(s)
      return {
        project: key.decode(s),
        round: c.uint.decode(s),
        checkpointIndex: c.uint.decode(s),
        checkpointHash: key.decode(s),
        deadline: c.uint.decode(s),
        innerSteps: c.uint.decode(s),
      }
    },
  },
  updateOffer: {
    preencode(s, m) {
      c.uint.preencode(s, FORMAT_VERSION)
      key.preencode(s, m.project)
      c.uint.preencode(s, m.round)
      key.preencode(s, m.core)
      c.uint.preencode(s, m.start)
      c.uint.preencode(s, m.length)
      c.uint.preencode(s, m.byteLength)
      key.preencode(s, m.hash)
      c.uint.preencode(s, m.samples)
    },
    encode(s, m) {
      c.uint.encode(s, FORMAT_VERSION)
      key.encode(s, m.project)
      c.uint.encode(s, m.round)
      key.encode(s, m.core)
      c.uint.encode(s, m.start)
      c.uint.encode(s, m.length)
      c.uint.encode(s, m.byteLength)
      key.encode(s, m.hash)
      c.uint.encode(s, m.samples)
    },
    decode(s) {
      c.uint.decode(s)
      return {
        project: key.decode(s),
        round: c.uint.decode(s),
        core: key.decode(s),
        start: c.uint.decode(s),
        length: c.uint.decode(s),
        byteLength: c.uint.decode(s),
        hash: key.decode(s),
        samples: c.uint.decode(s),
      }
    },
  },
  ack: {
    preencode(s, m) {
      c.uint.preencode(s, FORMAT_VERSION)
      key.preencode(s, m.project)
      c.uint.preencode(s, m.round)
      key.preencode(s, m.ref)
      c.uint.preencode(s, AckStatus[m.status])
      c.string.preencode(s, m.reason)
    },
    encode(s, m) {
      c.uint.encode(s, FORMAT_VERSION)
      key.encode(s, m.project)
      c.uint.encode(s, m.round)
      key.encode(s, m.ref)
      c.uint.encode(s, AckStatus[m.status])
      c.string.encode(s, m.reason)
    },
    decode(s) {
      c.uint.decode(s)
      const project = key.decode(s)
      const round = c.uint.decode(s)
      const ref = key.decode(s)
      const code = c.uint.decode(s)
      // An unknown status number maps to an impossible name; check.ts rejects it.
      const status = ACK_ENTRIES.find(([, n]) => n === code)?.[0] ?? ('?' as AckStatusName)
      return { project, round, ref, status, reason: c.string.decode(s) }
    },
  },
  error: {
    preencode(s, m) {
      c.uint.preencode(s, FORMAT_VERSION)
      c.string.preencode(s, m.code)
      c.string.preencode(s, m.message)
      c.bool.preencode(s, m.fatal)
    },
    encode(s, m) {
      c.uint.encode(s, FORMAT_VERSION)
      c.string.encode(s, m.code)
      c.string.encode(s, m.message)
      c.bool.encode(s, m.fatal)
    },
    decode(s) {
      c.uint.decode(s)
      return { code: c.string.decode(s), message: c.string.decode(s), fatal: c.bool.decode(s) }
    },
  },
  vote: {
    preencode(s, m) {
      c.uint.preencode(s, FORMAT_VERSION)
      key.preencode(s, m.project)
      c.uint.preencode(s, m.proposal)
      key.preencode(s, m.proposalHash)
      key.preencode(s, m.voter)
      c.uint.preencode(s, m.choice)
      sig.preencode(s, m.signature)
    },
    encode(s, m) {
      c.uint.encode(s, FORMAT_VERSION)
      key.encode(s, m.project)
      c.uint.encode(s, m.proposal)
      key.encode(s, m.proposalHash)
      key.encode(s, m.voter)
      c.uint.encode(s, m.choice)
      sig.encode(s, m.signature)
    },
    decode(s) {
      c.uint.decode(s)
      return {
        project: key.decode(s),
        proposal: c.uint.decode(s),
        proposalHash: key.decode(s),
        voter: key.decode(s),
        choice: c.uint.decode(s),
        signature: sig.decode(s),
      }
    },
  },
  flag: {
    preencode(s, m) {
      c.uint.preencode(s, FORMAT_VERSION)
      key.preencode(s, m.project)
      key.preencode(s, m.flagger)
      c.uint.preencode(s, m.at)
      c.string.preencode(s, m.reason)
      sig.preencode(s, m.signature)
    },
    encode(s, m) {
      c.uint.encode(s, FORMAT_VERSION)
      key.encode(s, m.project)
      key.encode(s, m.flagger)
      c.uint.encode(s, m.at)
      c.string.encode(s, m.reason)
      sig.encode(s, m.signature)
    },
    decode(s) {
      c.uint.decode(s)
      return {
        project: key.decode(s),
        flagger: key.decode(s),
        at: c.uint.decode(s),
        reason: c.string.decode(s),
        signature: sig.decode(s),
      }
    },
  },
  voteReceipt: {
    preencode(s, m) {
      c.uint.preencode(s, FORMAT_VERSION)
      key.preencode(s, m.project)
      c.uint.preencode(s, m.proposal)
      key.preencode(s, m.voter)
      key.preencode(s, m.voteHash)
      c.uint.preencode(s, m.round)
      c.uint.preencode(s, m.at)
      sig.preencode(s, m.signature)
    },
    encode(s, m) {
      c.uint.encode(s, FORMAT_VERSION)
      key.encode(s, m.project)
      c.uint.encode(s, m.proposal)
      key.encode(s, m.voter)
      key.encode(s, m.voteHash)
      c.uint.encode(s, m.round)
      c.uint.encode(s, m.at)
      sig.encode(s, m.signature)
    },
    decode(s) {
      c.uint.decode(s)
      return {
        project: key.decode(s),
        proposal: c.uint.decode(s),
        voter: key.decode(s),
        voteHash: key.decode(s),
        round: c.uint.decode(s),
        at: c.uint.decode(s),
        signature: sig.decode(s),
      }
    },
  },
}
