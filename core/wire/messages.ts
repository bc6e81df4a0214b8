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

/** A value carried as a `uint` on the wire. */
function asUint<T>(to: (value: T) => number, from: (n: number) => T): Codec<T> {
  return {
    preencode: (s, v) => c.uint.preencode(s, to(v)),
    encode: (s, v) => c.uint.encode(s, to(v)),
    decode: (s) => from(c.uint.decode(s)),
  }
}

/** Roles as their bit field; unknown bits from newer peers are dropped. */
const roles = asUint(roleBits, roleNames)
/** An ack status by number; an unknown number maps to an impossible name, which check.ts rejects. */
const ackStatus = asUint<AckStatusName>(
  (name) => AckStatus[name],
  (n) => ACK_ENTRIES.find(([, code]) => code === n)?.[0] ?? ('?' as AckStatusName),
)

/** One codec per field, in wire order. */
type Fields<T> = { [K in keyof T]-?: Codec<T[K]> }

/**
 * A message body: `uint version` first, then each field in the order `fields` lists them. Decoders
 * read the version too; decode.ts uses it to tell a newer peer's appended fields from garbage.
 */
function versioned<T extends object>(fields: Fields<T>): Codec<T> {
  const entries = Object.entries(fields) as Array<[keyof T, Codec<T[keyof T]>]>
  return {
    preencode(s, m) {
      c.uint.preencode(s, FORMAT_VERSION)
      for (const [name, field] of entries) field.preencode(s, m[name])
    },
    encode(s, m) {
      c.uint.encode(s, FORMAT_VERSION)
      for (const [name, field] of entries) field.encode(s, m[name])
    },
    decode(s) {
      c.uint.decode(s) // the version, read by decode.ts before the body
      const out = {} as T
      for (const [name, field] of entries) out[name] = field.decode(s)
      return out
    },
  }
}

const announceFields: Fields<Omit<Announce, 'signature'>> = {
  project: key,
  host: key,
  name: c.string,
  dataset: key,
  round: c.uint,
  contributors: c.uint,
  open: c.bool,
  seq: c.uint,
}

/** The fields an announce signature covers, i.e. everything but the signature. */
export const announceSignable: Codec<Omit<Announce, 'signature'>> = versioned(announceFields)

export const codecs: { [K in MessageKind]: Codec<MessageBodies[K]> } = {
  hello: versioned<Hello>({ protocol: c.uint, roles, projects: projectKeys, agent: c.string }),
  announce: versioned<Announce>({ ...announceFields, signature: sig }),
  roundOpen: versioned<RoundOpen>({
    project: key,
    round: c.uint,
    checkpointIndex: c.uint,
    checkpointHash: key,
    deadline: c.uint,
    innerSteps: c.uint,
  }),
  updateOffer: versioned<UpdateOffer>({
    project: key,
    round: c.uint,
    core: key,
    start: c.uint,
    length: c.uint,
    byteLength: c.uint,
    hash: key,
    samples: c.uint,
  }),
  ack: versioned<Ack>({
    project: key,
    round: c.uint,
    ref: key,
    status: ackStatus,
    reason: c.string,
  }),
  error: versioned<WireErrorMessage>({ code: c.string, message: c.string, fatal: c.bool }),
  vote: versioned<VoteMessage>({
    project: key,
    proposal: c.uint,
    proposalHash: key,
    voter: key,
    choice: c.uint,
    signature: sig,
  }),
  flag: versioned<FlagMessage>({
    project: key,
    flagger: key,
    at: c.uint,
    reason: c.string,
    signature: sig,
  }),
  voteReceipt: versioned<VoteReceiptMessage>({
    project: key,
    proposal: c.uint,
    voter: key,
    voteHash: key,
    round: c.uint,
    at: c.uint,
    signature: sig,
  }),
}
