/**
 * Array lengths from peers are checked before anything is allocated: against the field's cap and
 * against the bytes left in the frame (length × smallest element ≤ remaining).
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import c from 'compact-encoding'
import type Protomux from 'protomux'
import { TandemError } from '../../../core/api/errors.js'
import { boundedArray } from '../../../core/wire/bounded-array.js'
import { decodeMessage } from '../../../core/wire/decode.js'
import { FORMAT_VERSION, codecs } from '../../../core/wire/messages.js'

/** A fixed32 codec that counts how many elements were decoded. */
function countingKey(): { codec: Protomux.Encoding<Uint8Array>; decoded: () => number } {
  let n = 0
  return {
    codec: {
      preencode: (s, v) => c.fixed32.preencode(s, v),
      encode: (s, v) => c.fixed32.encode(s, v),
      decode: (s) => {
        n++
        return c.fixed32.decode(s)
      },
    },
    decoded: () => n,
  }
}

function state(bytes: Uint8Array) {
  return { start: 0, end: bytes.byteLength, buffer: bytes }
}

/** uint length prefix followed by `body`. */
function declared(length: number, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const prefix = c.encode(c.uint, length)
  return Buffer.concat([prefix, body])
}

function rejects(fn: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TandemError, `expected a TandemError, got ${String(err)}`)
    assert.equal(err.code, code)
    assert.match(err.message, pattern)
    return true
  })
}

describe('bounded array codec', () => {
  it('round-trips with the same bytes as c.array', () => {
    const list = [Buffer.alloc(32, 1), Buffer.alloc(32, 2)]
    const codec = boundedArray(c.fixed32, { field: 'x', max: 4, minItemBytes: 32 })
    const bytes = c.encode(codec, list)
    assert.deepEqual(Buffer.from(bytes), Buffer.from(c.encode(c.array(c.fixed32), list)))
    assert.deepEqual(c.decode(codec, bytes), list)
    assert.deepEqual(c.decode(codec, declared(0)), [])
  })

  it('refuses a length that cannot fit in the bytes left, before decoding any element', () => {
    const key = countingKey()
    const codec = boundedArray(key.codec, { field: 'x', max: 2_000_000, minItemBytes: 32 })
    // 1,048,576 declared in a frame of 64 bytes: c.array would allocate a million slots first.
    rejects(
      () => codec.decode(state(declared(1_048_576, Buffer.alloc(64)))),
      'WIRE_MALFORMED',
      /x: 1048576 entries cannot fit in the 64 bytes left/,
    )
    // One short of what three keys need.
    rejects(() => codec.decode(state(declared(3, Buffer.alloc(95)))), 'WIRE_MALFORMED', /x: 3/)
    assert.equal(key.decoded(), 0)
  })

  it('refuses a length above the field cap, before decoding any element', () => {
    const key = countingKey()
    const codec = boundedArray(key.codec, { field: 'x', max: 2, minItemBytes: 32 })
    rejects(() => codec.decode(state(declared(3, Buffer.alloc(96)))), 'WIRE_INVALID', /at most 2/)
    assert.equal(key.decoded(), 0)
    assert.equal(codec.decode(state(declared(2, Buffer.alloc(64)))).length, 2)
  })

  it('rejects bad bounds as BAD_ARGUMENT', () => {
    rejects(
      () => boundedArray(c.fixed32, { field: 'x', max: -1, minItemBytes: 32 }),
      'BAD_ARGUMENT',
      /x/,
    )
    rejects(
      () => boundedArray(c.fixed32, { field: 'x', max: 1, minItemBytes: 0 }),
      'BAD_ARGUMENT',
      /x/,
    )
  })

  it('hello.projects: a huge declared count in a 4 KiB frame is refused by the codec itself', () => {
    const head = Buffer.concat([
      c.encode(c.uint, FORMAT_VERSION),
      c.encode(c.uint, 1), // protocol
      c.encode(c.uint, 2), // roles
    ])
    const frame = Buffer.concat([head, declared(1_048_576, Buffer.alloc(4000))])
    rejects(() => codecs.hello.decode(state(frame)), 'WIRE_INVALID', /hello\.projects: 1048576/)
    // Under the cap but more than the frame holds.
    const short = Buffer.concat([head, declared(10, Buffer.alloc(100))])
    rejects(() => codecs.hello.decode(state(short)), 'WIRE_MALFORMED', /hello\.projects: 10 /)
    // 65 well-formed keys: over the cap, refused before they are read.
    const over = Buffer.concat([head, declared(65, Buffer.alloc(65 * 32)), c.encode(c.string, 'x')])
    rejects(() => codecs.hello.decode(state(over)), 'WIRE_INVALID', /hello\.projects: 65 entries/)
    // Through the full receive path the codes are the same.
    assert.throws(() => decodeMessage('hello', frame), { code: 'WIRE_INVALID' })
    assert.throws(() => decodeMessage('hello', short), { code: 'WIRE_MALFORMED' })
    assert.throws(() => decodeMessage('hello', over), { code: 'WIRE_INVALID' })
  })

  it('the wire messages use no unbounded array codec', () => {
    const source = readFileSync(new URL('../../../core/wire/messages.ts', import.meta.url), 'utf8')
    assert.doesNotMatch(source, /c\.array\(/)
  })
})
