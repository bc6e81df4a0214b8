/**
 * docs/interop.md promises that a third party can implement a compatible reader from it alone. Its
 * test vectors are read from the page itself and checked two ways: against Tandem's own code, and
 * against a reimplementation written here from the page's formulas (so a vector that only matches
 * the code, not the prose, fails too).
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import c from 'compact-encoding'
import { decodeCheckpoint, encodeCheckpoint } from '../../../core/engine/checkpoint.js'
import {
  decode as decodeUpdate,
  encode as encodeUpdate,
} from '../../../core/engine/compress/codec.js'
import { densify, quantizeInt8, topK } from '../../../core/engine/compress/quantize.js'
import { trainFlopsPerSample } from '../../../core/engine/spec/cost.js'
import { canonicalJson } from '../../../core/engine/spec/hash.js'
import { ModelSpec } from '../../../core/engine/spec/schema.js'
import { assignmentSeed } from '../../../core/host/host.js'
import { creditsFor, DEFAULT_CREDIT_POLICY } from '../../../core/ledger/credits.js'
import { codecs, MessageType } from '../../../core/wire/messages.js'

interface Vectors {
  assignmentSeed: Array<{ project: string; round: number; checkpointHash: string; seed: string }>
  credits: Array<{
    model?: unknown
    trainFlopsPerSample?: number
    flopsPerSample?: number
    samplesAssigned: number
    quality: number
    credits: number
  }>
  checkpoint: Array<{ model: unknown; canonicalSpec: string; round: number; hex: string }>
  update: Array<{ method: string; values: number[]; blockSize?: number; k?: number; hex: string }>
  wire: Array<{
    type: 'hello'
    id: number
    body: {
      protocol: number
      roles: Array<'host' | 'contributor' | 'seeder'>
      projects: string[]
      agent: string
    }
    payload: string
  }>
}

const page = readFileSync(new URL('../../../docs/interop.md', import.meta.url), 'utf8')
const block = /## Test vectors\s+```json\n([\s\S]*?)\n```/.exec(page)
assert.ok(block, 'docs/interop.md has no "Test vectors" JSON block')
const vectors = JSON.parse(block[1] as string) as Vectors
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const fromHex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'))

describe('docs/interop.md test vectors', () => {
  it('assignment seed: SHA-256 of the NUL-separated text, from the code and from the page', () => {
    assert.ok(vectors.assignmentSeed.length > 0)
    for (const v of vectors.assignmentSeed) {
      assert.equal(assignmentSeed(v.project, v.round, v.checkpointHash), v.seed)
      const text = `tandem/assignment-seed/v1\0${v.project}\0${String(v.round)}\0${v.checkpointHash}`
      assert.equal(createHash('sha256').update(text, 'utf8').digest('hex'), v.seed)
    }
  })

  it('credits: GFLOP rounded to 1e-6, from the code and from the page', () => {
    assert.ok(vectors.credits.length > 0)
    for (const v of vectors.credits) {
      let flops = v.flopsPerSample
      if (v.model !== undefined) {
        flops = trainFlopsPerSample(ModelSpec.parse(v.model))
        assert.equal(flops, v.trainFlopsPerSample)
      }
      assert.ok(flops !== undefined)
      assert.equal(
        creditsFor(flops, v.samplesAssigned, v.quality, DEFAULT_CREDIT_POLICY),
        v.credits,
      )
      const raw = (flops * v.samplesAssigned * Math.min(1, v.quality)) / 1e9
      assert.equal(Math.floor(raw * 1e6 + 0.5) / 1e6, v.credits)
    }
  })

  it('checkpoint: header, shape table, weights and hash, byte for byte', () => {
    assert.ok(vectors.checkpoint.length > 0)
    for (const v of vectors.checkpoint) {
      const spec = ModelSpec.parse(v.model)
      assert.equal(canonicalJson(spec), v.canonicalSpec)
      const bytes = fromHex(v.hex)
      const ck = decodeCheckpoint(bytes, spec)
      assert.equal(ck.round, v.round)
      assert.equal(hex(encodeCheckpoint(spec, v.round, ck.weights)), v.hex)
      assert.deepEqual(
        Array.from(ck.weights),
        Array.from(ck.weights, (_, i) => i / 8),
      )
      // The page's reading of the bytes: magic, version, T, round, spec hash, shape table, size.
      const view = Buffer.from(bytes)
      assert.equal(view.subarray(0, 4).toString('latin1'), 'TNDC')
      assert.equal(view.readUInt16LE(4), 1)
      const tensors = view.readUInt16LE(6)
      assert.equal(view.readUInt32LE(8), v.round)
      assert.equal(
        hex(view.subarray(12, 44)),
        createHash('sha256').update(v.canonicalSpec).digest('hex'),
      )
      let o = 44
      const shapes: number[][] = []
      for (let t = 0; t < tensors; t++) {
        const rank = view.readUInt8(o++)
        const dims: number[] = []
        for (let d = 0; d < rank; d++, o += 4) dims.push(view.readUInt32LE(o))
        shapes.push(dims)
      }
      assert.deepEqual(shapes, ck.shapes)
      const n = shapes.reduce((sum, s) => sum + s.reduce((a, b) => a * b, 1), 0)
      assert.equal(bytes.length, o + 4 * n + 32)
      assert.equal(
        hex(view.subarray(bytes.length - 32)),
        createHash('sha256')
          .update(view.subarray(0, bytes.length - 32))
          .digest('hex'),
      )
    }
  })

  it('update: TDLT header, method ids and payloads', () => {
    const methodIds: Record<string, number> = { f32: 0, int8: 1, topk: 2 }
    assert.deepEqual(vectors.update.map((v) => v.method).sort(), ['f32', 'int8', 'topk'])
    for (const v of vectors.update) {
      const x = new Float32Array(v.values)
      const e =
        v.method === 'int8'
          ? quantizeInt8(x, v.blockSize)
          : v.method === 'topk'
            ? topK(x, v.k ?? 0)
            : ({ method: 'f32', n: x.length, values: x } as const)
      assert.equal(hex(encodeUpdate(e)), v.hex)
      const bytes = fromHex(v.hex)
      const view = Buffer.from(bytes)
      assert.equal(view.subarray(0, 4).toString('latin1'), 'TDLT')
      assert.equal(view.readUInt8(4), 1)
      assert.equal(view.readUInt8(5), methodIds[v.method])
      assert.equal(view.readUInt16LE(6), 0)
      assert.equal(view.readUInt32LE(8), v.values.length)
      // The page's decoding rule for each method gives the same values as the code's.
      const expected = Array.from(densify(decodeUpdate(bytes, v.values.length)))
      const mine: number[] = new Array<number>(v.values.length).fill(0)
      if (v.method === 'f32')
        for (let i = 0; i < mine.length; i++) mine[i] = view.readFloatLE(12 + 4 * i)
      if (v.method === 'int8') {
        const block = view.readUInt32LE(12)
        const scales = Math.ceil(mine.length / block)
        for (let i = 0; i < mine.length; i++)
          mine[i] = Math.fround(
            view.readInt8(16 + 4 * scales + i) * view.readFloatLE(16 + 4 * Math.floor(i / block)),
          )
      }
      if (v.method === 'topk') {
        const k = view.readUInt32LE(12)
        for (let j = 0; j < k; j++)
          mine[view.readUInt32LE(16 + 4 * j)] = view.readFloatLE(16 + 4 * k + 4 * j)
      }
      assert.deepEqual(mine, expected)
    }
  })

  it('wire: a message payload is the bare compact-encoding of its body', () => {
    assert.ok(vectors.wire.length > 0)
    for (const v of vectors.wire) {
      assert.equal(MessageType[v.type], v.id)
      const body = { ...v.body, projects: v.body.projects.map((p) => Buffer.from(p, 'hex')) }
      assert.equal(hex(c.encode(codecs[v.type], body)), v.payload)
      const decoded = c.decode(codecs[v.type], fromHex(v.payload))
      assert.deepEqual(
        { ...decoded, projects: decoded.projects.map((p: Uint8Array) => hex(p)) },
        v.body,
      )
      // By hand from the page: uint version, uint protocol, uint role bits, array, string.
      const roleBits = v.body.roles.reduce(
        (b, r) => b | { host: 1, contributor: 2, seeder: 4 }[r],
        0,
      )
      const agent = Buffer.from(v.body.agent, 'utf8')
      const manual = Buffer.concat([
        Buffer.from([1, v.body.protocol, roleBits, v.body.projects.length]),
        ...v.body.projects.map((p) => Buffer.from(p, 'hex')),
        Buffer.from([agent.length]),
        agent,
      ])
      assert.equal(manual.toString('hex'), v.payload)
    }
  })
})
