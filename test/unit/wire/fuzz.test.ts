/**
 * Fuzzing every decoder with fast-check: random bytes and mutations of valid encodings (bit flips,
 * byte overwrites, truncation, insertion, extension, length-prefix bumps). The only acceptable
 * outcomes are a decoded message that passed every check, or a coded WIRE_* TandemError: never a
 * native TypeError/RangeError, never anything uncaught. decode.ts wraps whatever it catches, so the
 * wrapped error (`cause`) is checked too: compact-encoding's plain `Error`s ("Out of bounds") are
 * the expected way to say "malformed"; a TypeError or RangeError there would be a decoder bug that
 * the wrapping merely hides.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { TandemError } from '../../../core/api/errors.js'
import { decodeMessage, encodeMessage } from '../../../core/wire/decode.js'
import { MESSAGE_KINDS, SIZE_CAPS, type MessageKind } from '../../../core/wire/messages.js'
import { arbitraries } from '../../support/wire-samples.js'

/** Per message type and run; the issue asks for at least 10,000. */
const RUNS = 12_000

type Mutation = (bytes: Uint8Array) => Uint8Array

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.nat().map((n) => (b: Uint8Array) => flip(b, n)),
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([i, v]) => (b: Uint8Array) => {
    const out = Uint8Array.from(b)
    if (out.length) out[i % out.length] = v
    return out
  }),
  fc.nat().map((n) => (b: Uint8Array) => b.subarray(0, b.length ? n % b.length : 0)),
  fc
    .tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 16 }))
    .map(([i, ins]) => (b: Uint8Array) => {
      const at = b.length ? i % b.length : 0
      return Buffer.concat([b.subarray(0, at), ins, b.subarray(at)])
    }),
  fc.uint8Array({ maxLength: 64 }).map((tail) => (b: Uint8Array) => Buffer.concat([b, tail])),
  // Varint length prefixes: 0xfd/0xfe/0xff announce 2-, 4- and 8-byte lengths.
  fc.tuple(fc.nat(), fc.constantFrom(0xfc, 0xfd, 0xfe, 0xff)).map(([i, v]) => (b: Uint8Array) => {
    const out = Uint8Array.from(b)
    if (out.length) out[i % out.length] = v
    return out
  }),
)

function flip(b: Uint8Array, n: number): Uint8Array {
  const out = Uint8Array.from(b)
  if (out.length) out[(n >> 3) % out.length]! ^= 1 << (n & 7)
  return out
}

/** The first error in the cause chain that is neither a TandemError nor a plain Error. */
function nativeCause(err: unknown): unknown {
  for (let e = err, depth = 0; e !== undefined && depth < 8; depth++) {
    if (!(e instanceof Error)) return e
    if (!(e instanceof TandemError) && Object.getPrototypeOf(e) !== Error.prototype) return e
    e = e.cause
  }
  return undefined
}

function inputs(kind: MessageKind): fc.Arbitrary<Uint8Array> {
  const valid = (arbitraries[kind] as fc.Arbitrary<never>).map((m) => encodeMessage(kind, m))
  return fc.oneof(
    fc.uint8Array({ maxLength: SIZE_CAPS[kind] + 64 }),
    fc.uint8Array({ maxLength: 40 }),
    fc
      .tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 4 }))
      .map(([bytes, ms]) => ms.reduce((b, m) => m(b), bytes)),
  )
}

describe('wire fuzz', () => {
  it('the native-error check sees a TypeError that decode wrapped as WIRE_MALFORMED', () => {
    // Bytes whose first read throws a TypeError: stands in for a decoder bug, the kind of failure
    // the fuzz must see through decode's WIRE_MALFORMED wrapping.
    const notBytes = {
      byteLength: 4,
      get 0(): number {
        throw new TypeError('decoder bug')
      },
    } as unknown as Uint8Array
    let caught: unknown
    try {
      decodeMessage('hello', notBytes)
    } catch (err) {
      caught = err
    }
    assert.ok(caught instanceof TandemError && caught.code === 'WIRE_MALFORMED')
    assert.ok(nativeCause(caught) instanceof TypeError)
    assert.equal(
      nativeCause(new TandemError('WIRE_MALFORMED', 'x', { cause: new Error('Out of bounds') })),
      undefined,
    )
  })

  for (const kind of MESSAGE_KINDS) {
    it(`${kind}: ${RUNS} random and mutated inputs, only coded errors`, (t) => {
      const outcomes = new Map<string, number>()
      const native: unknown[] = []
      fc.assert(
        fc.property(inputs(kind), (bytes) => {
          let outcome = 'decoded'
          try {
            decodeMessage(kind, bytes)
          } catch (err) {
            if (err instanceof TandemError && err.code.startsWith('WIRE_')) outcome = err.code
            else native.push(err)
            const cause = nativeCause(err)
            if (cause !== undefined) native.push(cause)
          }
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
        }),
        { numRuns: RUNS },
      )
      const total = [...outcomes.values()].reduce((a, b) => a + b, 0)
      t.diagnostic(`${kind}: ${total} inputs → ${JSON.stringify(Object.fromEntries(outcomes))}`)
      assert.equal(native.length, 0, `native errors escaped or were wrapped: ${String(native[0])}`)
      assert.ok(total >= 10_000)
      // The mutations must exercise both sides: some inputs still decode, most are rejected.
      assert.ok((outcomes.get('decoded') ?? 0) > 0, 'no input decoded: the mutations are too blunt')
      assert.ok((outcomes.get('WIRE_MALFORMED') ?? 0) > 0)
    })
  }
})
