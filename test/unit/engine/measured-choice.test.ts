/**
 * What `auto` does with a measured table: the next backend after failures, and the selection as the
 * node shows it (why this one won, why each faster-by-default backend was not used).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { nextChoice, withTable } from '../../../core/engine/backends/measured-choice.js'
import type { BackendSpeed, SpeedTable } from '../../../core/engine/backends/speed.js'

const speed = (
  name: BackendSpeed['name'],
  samplesPerSec: number | null,
  extra: Partial<BackendSpeed> = {},
): BackendSpeed => ({
  name,
  device: `${name} device`,
  software: false,
  samplesPerSec,
  msPerStep: samplesPerSec === null ? null : 1000 / samplesPerSec,
  steps: samplesPerSec === null ? 0 : 5,
  detail: samplesPerSec === null ? 'not installed' : 'measured',
  ...extra,
})

// webgpu measured fastest (a software adapter), wasm next, cpu last, tfjs-node not installed.
const table: SpeedTable = {
  workload: 'mlp 4-8-2, batch 16, 1 worker',
  key: 'k',
  measuredAt: 0,
  cached: false,
  speeds: [
    speed('webgpu', 900, { software: true }),
    speed('wasm', 600),
    speed('cpu', 100),
    speed('tfjs-node', null),
  ],
  chosen: 'webgpu',
  why: 'webgpu measured fastest',
}

describe('measured backend choice', () => {
  it('takes the fastest measured backend not excluded, then plain auto, and the preference without a table', () => {
    assert.equal(nextChoice(table, [], 'auto'), 'webgpu')
    assert.equal(nextChoice(table, ['webgpu'], 'auto'), 'wasm')
    assert.equal(nextChoice(table, ['webgpu', 'wasm', 'cpu'], 'auto'), 'auto')
    assert.equal(nextChoice(null, [], 'wasm'), 'wasm')
  })

  it('reports why the backends ahead of the chosen one were not used', () => {
    const chosen = withTable({ chosen: 'wasm', device: 'cpu', skipped: [], forced: false }, table, [
      'webgpu',
    ])
    assert.equal(
      chosen.measured?.why,
      'wasm is the fastest measured backend left after webgpu failed',
    )
    const byName = Object.fromEntries(chosen.skipped.map((s) => [s.name, s.detail]))
    assert.equal(byName['webgpu'], 'failed during this job')
    assert.equal(byName['tfjs-node'], 'not installed')
    assert.equal(byName['tfjs-node-gpu'], 'not measured')
    assert.ok(!('cpu' in byName), 'cpu comes after wasm in the default order')

    const first = withTable(
      { chosen: 'webgpu', device: 'llvmpipe', skipped: [], forced: false },
      table,
      [],
    )
    assert.equal(first.measured?.why, 'webgpu measured fastest')
    assert.equal(withTable(first, null, []), first)
  })

  it('says a faster-by-default backend measured slower, naming a software adapter', () => {
    const slowGpu = {
      ...table,
      speeds: [speed('wasm', 600), speed('webgpu', 50, { software: true })],
      chosen: 'wasm' as const,
    }
    const s = withTable({ chosen: 'wasm', device: 'cpu', skipped: [], forced: false }, slowGpu, [])
    const gpu = s.skipped.find((x) => x.name === 'webgpu')
    assert.match(gpu?.detail ?? '', /^measured slower: .* samples\/s \(software adapter\)$/)
  })
})
