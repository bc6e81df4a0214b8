import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import c from 'compact-encoding'
import fc from 'fast-check'
import crypto from 'hypercore-crypto'
import { TandemError } from '../../../core/api/errors.js'
import { decodeMessage, encodeMessage } from '../../../core/wire/decode.js'
import {
  MESSAGE_KINDS,
  MessageType,
  SIZE_CAPS,
  codecs,
  type MessageKind,
} from '../../../core/wire/messages.js'
import { signAnnounce } from '../../../core/wire/signing.js'
import { arbitraries, hostKeys, samples } from '../../support/wire-samples.js'

function code(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof TandemError, `expected a TandemError, got ${String(err)}`)
    return err.code
  }
  return 'no error'
}

describe('wire codecs', () => {
  it('numbers the message types append-only', () => {
    assert.deepEqual(MessageType, {
      hello: 0,
      announce: 1,
      roundOpen: 2,
      updateOffer: 3,
      ack: 4,
      error: 5,
      vote: 6,
      flag: 7,
      voteReceipt: 8,
    })
  })

  for (const kind of MESSAGE_KINDS) {
    it(`${kind}: round-trips the sample and any valid message, within its cap`, () => {
      const sample = samples()[kind]
      assert.deepEqual(
        normalise(decodeMessage(kind, encodeMessage(kind, sample))),
        normalise(sample),
      )
      fc.assert(
        fc.property(arbitraries[kind] as fc.Arbitrary<never>, (m) => {
          const bytes = encodeMessage(kind, m)
          assert.ok(bytes.byteLength <= SIZE_CAPS[kind])
          assert.deepEqual(normalise(decodeMessage(kind, bytes)), normalise(m))
        }),
        { numRuns: 200 },
      )
    })
  }

  it('rejects oversized bodies before decoding', () => {
    assert.equal(
      code(() => decodeMessage('ack', new Uint8Array(SIZE_CAPS.ack + 1))),
      'WIRE_TOO_LARGE',
    )
  })

  it('rejects truncation, version 0 and trailing bytes of our own version', () => {
    const bytes = encodeMessage('roundOpen', samples().roundOpen)
    assert.equal(
      code(() => decodeMessage('roundOpen', bytes.subarray(0, 20))),
      'WIRE_MALFORMED',
    )
    assert.equal(
      code(() => decodeMessage('roundOpen', new Uint8Array(0))),
      'WIRE_MALFORMED',
    )
    const v0 = Uint8Array.from(bytes)
    v0[0] = 0
    assert.equal(
      code(() => decodeMessage('roundOpen', v0)),
      'WIRE_MALFORMED',
    )
    const trailing = Buffer.concat([bytes, Buffer.from([1, 2])])
    assert.equal(
      code(() => decodeMessage('roundOpen', trailing)),
      'WIRE_MALFORMED',
    )
  })

  it('accepts a newer format version with appended fields, reading the known ones', () => {
    const bytes = Buffer.concat([encodeMessage('hello', samples().hello), Buffer.from([7, 7])])
    bytes[0] = 2
    assert.equal(decodeMessage('hello', bytes).agent, 'tandem/0.1.0')
  })

  it('checks meaning after decoding', () => {
    const s = samples()
    const reencode = <K extends MessageKind>(kind: K, body: unknown) =>
      // Encode without the sender-side check, as a hostile peer would.
      c.encode(codecsFor(kind), body)
    const bad: Array<[MessageKind, unknown]> = [
      ['hello', { ...s.hello, agent: 'bell\u0007' }],
      ['hello', { ...s.hello, protocol: 0 }],
      ['hello', { ...s.hello, projects: [Buffer.alloc(32), Buffer.alloc(32)] }],
      ['ack', { ...s.ack, status: 'rejected', reason: '' }],
      ['ack', { ...s.ack, reason: 'lowercase' }],
      ['updateOffer', { ...s.updateOffer, length: 0 }],
      ['updateOffer', { ...s.updateOffer, byteLength: 1 }],
      ['roundOpen', { ...s.roundOpen, innerSteps: 0 }],
      ['roundOpen', { ...s.roundOpen, round: 2 ** 40 }],
      ['error', { ...s.error, code: 'nope' }],
    ]
    for (const [kind, body] of bad) {
      assert.equal(
        code(() => decodeMessage(kind, reencode(kind, body))),
        'WIRE_INVALID',
        kind,
      )
      assert.equal(
        code(() => encodeMessage(kind, body as never)),
        'BAD_ARGUMENT',
        kind,
      )
    }
    // An ack status number nobody knows.
    const ack = Buffer.from(reencode('ack', s.ack))
    ack[1 + 32 + 1 + 32] = 9
    assert.equal(
      code(() => decodeMessage('ack', ack)),
      'WIRE_INVALID',
    )
  })

  it('verifies announce signatures', () => {
    const good = samples().announce
    assert.equal(
      code(() => decodeMessage('announce', encodeMessage('announce', good))),
      'no error',
    )
    const forged = { ...good, round: good.round + 1 }
    assert.equal(
      code(() => decodeMessage('announce', encodeMessage('announce', forged))),
      'WIRE_BAD_SIGNATURE',
    )
    const otherKey = signAnnounce({ ...good, host: Buffer.alloc(32, 9) }, hostKeys.secretKey)
    assert.equal(
      code(() => decodeMessage('announce', encodeMessage('announce', otherKey))),
      'WIRE_BAD_SIGNATURE',
    )
  })
})

describe('announce signatures across format versions', () => {
  const NAMESPACE = Buffer.from('tandem/announce/v1\0')
  const SIG = 64

  /** An announce as a version-2 host would write it: new fields after the signature, all signed. */
  function newerAnnounce(trailer: Buffer): Buffer {
    const { signature: _, ...fields } = samples().announce
    const before = Buffer.from(
      c.encode(codecsFor('announce'), { ...fields, signature: Buffer.alloc(SIG) }),
    )
    before[0] = 2 // the format version
    const head = before.subarray(0, before.length - SIG)
    const signature = crypto.sign(Buffer.concat([NAMESPACE, head, trailer]), hostKeys.secretKey)
    return Buffer.concat([head, signature, trailer])
  }

  it('a newer version with appended fields verifies over its own bytes and decodes', () => {
    const trailer = Buffer.from([5, ...Buffer.from('newer field')])
    const bytes = newerAnnounce(trailer)
    const body = decodeMessage('announce', bytes)
    assert.equal(body.name, samples().announce.name)
    assert.equal(body.seq, samples().announce.seq)
  })

  it('the appended fields are covered by the signature', () => {
    const bytes = newerAnnounce(Buffer.from([5, ...Buffer.from('newer field')]))
    bytes[bytes.length - 1] ^= 1
    assert.equal(
      code(() => decodeMessage('announce', bytes)),
      'WIRE_BAD_SIGNATURE',
    )
    const version = newerAnnounce(Buffer.alloc(0))
    version[0] = 3 // the version number is signed too
    assert.equal(
      code(() => decodeMessage('announce', version)),
      'WIRE_BAD_SIGNATURE',
    )
  })
})

function codecsFor(kind: MessageKind) {
  return codecs[kind] as Parameters<typeof c.encode>[0]
}

/** Compares messages with Buffers and Uint8Arrays alike, as hex. */
function normalise(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex')
  if (Array.isArray(value)) return value.map(normalise)
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v)]))
  }
  return value
}
