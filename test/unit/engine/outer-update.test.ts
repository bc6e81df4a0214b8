import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decode } from '../../../core/engine/compress/codec.js'
import { applyOuterUpdate, encodeOuterUpdate } from '../../../core/engine/compress/outer-update.js'
import { densify } from '../../../core/engine/compress/quantize.js'
import { seededRandom } from '../../../core/engine/model/init.js'

function gaussian(n: number, seed: number, scale = 1): Float32Array {
  const r = seededRandom(seed)
  return Float32Array.from(
    { length: n },
    () => scale * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()),
  )
}

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)
const int8 = { method: 'int8', blockSize: 64 } as const

describe('compressed outer updates', () => {
  it('θ + D(U) is the same bits whether computed by the host or by a receiver', () => {
    const n = 1000
    const theta = gaussian(n, 1, 0.1)
    const target = theta.map((x, i) => x - 1e-3 * gaussian(n, 2)[i]!)
    const u = encodeOuterUpdate(target, theta, gaussian(n, 3, 1e-5), int8)
    const received = applyOuterUpdate(Float32Array.from(theta), u.bytes)
    assert.ok(bits(received).equals(bits(u.next)))
    // The definition written out element by element with Math.fround: one rounding per operation.
    const e = decode(u.bytes, n)
    assert.equal(e.method, 'int8')
    if (e.method !== 'int8') return
    for (let i = 0; i < n; i++) {
      const d = Math.fround(e.q[i]! * e.scales[Math.floor(i / e.blockSize)]!)
      assert.equal(u.next[i], Math.fround(theta[i]! + d), `element ${i}`)
    }
    // ≈ n bytes: a quarter of the float32 checkpoint.
    assert.ok(u.bytes.byteLength < 1.1 * n, `${u.bytes.byteLength} bytes`)
  })

  it('the residual is what was not sent, and sends it later', () => {
    const n = 512
    const theta0 = gaussian(n, 4, 0.1)
    let theta: Float32Array = Float32Array.from(theta0)
    let residual: Float32Array = new Float32Array(n)
    const wanted = Float64Array.from(theta0)
    for (let r = 0; r < 20; r++) {
      const step = gaussian(n, 10 + r, 1e-3)
      const target = theta.map((x, i) => x + step[i]!)
      const u = encodeOuterUpdate(target, theta, residual, int8)
      // e′ = (θ′ − θ + e) − D(U), element for element.
      const sent = densify(decode(u.bytes, n))
      for (let i = 0; i < n; i++) {
        const corrected = Math.fround(Math.fround(target[i]! - theta[i]!) + residual[i]!)
        assert.equal(u.residual[i], Math.fround(corrected - sent[i]!), `element ${i}`)
      }
      for (let i = 0; i < n; i++) wanted[i]! += step[i]!
      theta = u.next
      residual = u.residual
    }
    // θ_R + e_R tracks θ_0 + Σ steps up to float32 rounding; e stays within half an int8 step.
    let worst = 0
    for (let i = 0; i < n; i++)
      worst = Math.max(worst, Math.abs(theta[i]! + residual[i]! - wanted[i]!))
    assert.ok(worst < 1e-5, `drift ${worst}`)
    const maxResidual = Math.max(...residual.map(Math.abs))
    assert.ok(maxResidual < 1e-4, `residual ${maxResidual}`)
    assert.ok(maxResidual > 0, 'int8 left nothing out: the test would not see a residual')
  })

  it('refuses an update of the wrong size or corrupt bytes with a coded error', () => {
    const theta = gaussian(256, 5)
    const u = encodeOuterUpdate(
      theta.map((x) => x + 0.01),
      theta,
      new Float32Array(256),
      int8,
    )
    assert.throws(() => applyOuterUpdate(gaussian(255, 5), u.bytes), {
      code: 'COMPRESSION_CORRUPT',
    })
    const cut = u.bytes.subarray(0, u.bytes.byteLength - 1)
    assert.throws(() => applyOuterUpdate(theta, cut), { code: 'COMPRESSION_CORRUPT' })
    assert.throws(() => encodeOuterUpdate(theta, theta, new Float32Array(3), int8), {
      code: 'SPEC_MISMATCH',
    })
  })
})
