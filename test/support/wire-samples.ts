/**
 * Valid wire messages for tests: one fixed sample per type, and fast-check arbitraries that produce
 * any valid message of a type (the fuzz suite mutates their encodings).
 */
import fc from 'fast-check'
import crypto from 'hypercore-crypto'
import type { MessageBodies, MessageKind, RoleName } from '../../core/wire/messages.js'
import { signAnnounce } from '../../core/wire/signing.js'

export const hostKeys = crypto.keyPair(Buffer.alloc(32, 7))

const k = (n: number) => Buffer.alloc(32, n)

export function samples(): { [K in MessageKind]: MessageBodies[K] } {
  return {
    hello: { protocol: 1, roles: ['contributor'], projects: [k(1)], agent: 'tandem/0.1.0' },
    announce: signAnnounce(
      {
        project: k(1),
        host: hostKeys.publicKey,
        name: 'tiny shakespeare',
        dataset: k(2),
        round: 3,
        contributors: 5,
        open: true,
        seq: 9,
      },
      hostKeys.secretKey,
    ),
    roundOpen: {
      project: k(1),
      round: 4,
      checkpointIndex: 7,
      checkpointHash: k(3),
      deadline: 1_800_000_000_000,
      innerSteps: 500,
    },
    updateOffer: {
      project: k(1),
      round: 4,
      core: k(4),
      start: 10,
      length: 3,
      byteLength: 3 * 65536,
      hash: k(5),
      samples: 128_000,
    },
    ack: { project: k(1), round: 4, ref: k(5), status: 'accepted', reason: '' },
    error: { code: 'WIRE_INVALID', message: 'hello.agent: unprintable characters', fatal: false },
    vote: {
      project: k(1),
      proposal: 12,
      proposalHash: k(6),
      voter: k(8),
      choice: 1,
      signature: Buffer.alloc(64, 9),
    },
    flag: {
      project: k(1),
      flagger: k(8),
      at: 1_800_000_000_000,
      reason: 'the host trains on data the charter does not list',
      signature: Buffer.alloc(64, 10),
    },
    voteReceipt: {
      project: k(1),
      proposal: 12,
      voter: k(8),
      voteHash: k(9),
      round: 3,
      at: 1_800_000_000_000,
      signature: Buffer.alloc(64, 11),
    },
  }
}

const key = fc.uint8Array({ minLength: 32, maxLength: 32 })
const u32 = fc.integer({ min: 0, max: 0xffff_ffff })
const printable = (maxLength: number) =>
  fc.string({ unit: 'grapheme-ascii', maxLength }).filter((s) => [...s].every(isPrintable))

function isPrintable(ch: string): boolean {
  const code = ch.charCodeAt(0)
  return code >= 0x20 && code !== 0x7f
}
const code = fc.stringMatching(/^[A-Z][A-Z0-9_]{0,31}$/)
const roles = fc.subarray<RoleName>(['host', 'contributor', 'seeder'])

export const arbitraries: { [K in MessageKind]: fc.Arbitrary<MessageBodies[K]> } = {
  hello: fc.record({
    protocol: fc.integer({ min: 1, max: 0xffff }),
    roles,
    projects: fc.uniqueArray(key, {
      maxLength: 64,
      selector: (x) => Buffer.from(x).toString('hex'),
    }),
    agent: printable(64),
  }),
  announce: fc
    .record({
      project: key,
      host: fc.constant(hostKeys.publicKey as Uint8Array),
      name: printable(128).filter((s) => s.length > 0),
      dataset: key,
      round: u32,
      contributors: fc.integer({ min: 0, max: 1_000_000 }),
      open: fc.boolean(),
      seq: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    })
    .map((fields) => signAnnounce(fields, hostKeys.secretKey)),
  roundOpen: fc.record({
    project: key,
    round: u32,
    checkpointIndex: u32,
    checkpointHash: key,
    deadline: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    innerSteps: fc.integer({ min: 1, max: 1_000_000 }),
  }),
  updateOffer: fc
    .record({
      project: key,
      round: u32,
      core: key,
      start: u32,
      length: fc.integer({ min: 1, max: 65_536 }),
      extra: fc.integer({ min: 0, max: 1024 * 1024 * 1024 - 65_536 }),
      hash: key,
      samples: fc.integer({ min: 0, max: 1_000_000_000 }),
    })
    .map(({ extra, ...m }) => ({ ...m, byteLength: m.length + extra })),
  ack: fc.oneof(
    fc.record({
      project: key,
      round: u32,
      ref: key,
      status: fc.constantFrom('received' as const, 'accepted' as const),
      reason: fc.constant(''),
    }),
    fc.record({
      project: key,
      round: u32,
      ref: key,
      status: fc.constant('rejected' as const),
      reason: code,
    }),
  ),
  error: fc.record({ code, message: printable(200), fatal: fc.boolean() }),
  vote: fc.record({
    project: key,
    proposal: fc.integer({ min: 1, max: 0xffff_ffff }),
    proposalHash: key,
    voter: key,
    choice: fc.integer({ min: 0, max: 1 }),
    signature: fc.uint8Array({ minLength: 64, maxLength: 64 }),
  }),
  flag: fc.record({
    project: key,
    flagger: key,
    at: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    reason: printable(500).filter((s) => s.length > 0),
    signature: fc.uint8Array({ minLength: 64, maxLength: 64 }),
  }),
  voteReceipt: fc.record({
    project: key,
    proposal: fc.integer({ min: 1, max: 0xffff_ffff }),
    voter: key,
    voteHash: key,
    round: u32,
    at: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    signature: fc.uint8Array({ minLength: 64, maxLength: 64 }),
  }),
}
