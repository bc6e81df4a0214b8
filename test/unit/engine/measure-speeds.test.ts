/**
 * `auto` by measurement (engine/backends/measure-speeds.ts, speed.ts, and the engine's cache in
 * front of it): the fastest measured backend wins, a software adapter only when it measures
 * fastest, the table is cached per device, driver, Tandem version, model and batch, and any change
 * of those measures again. Measurements are injected here (numbers, no workers); the real ones run
 * in test/integration/engine/auto-measure.test.ts.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  DEFAULT_BUDGET,
  measureSpeeds,
  speedKey,
  StepTimer,
  type Measurement,
  type MeasureInput,
  type SpeedCache,
} from '../../../core/engine/backends/measure-speeds.js'
import type { BackendName, BackendStatus } from '../../../core/engine/backends/probe.js'
import {
  describeTable,
  isSoftwareAdapter,
  type SpeedTable,
} from '../../../core/engine/backends/speed.js'
import { TrainingEngine } from '../../../core/engine/engine.js'
import { parseSpec } from '../../../core/engine/spec/parse.js'

const mlp = parseSpec({ type: 'mlp', inputSize: 784, hidden: [256], classes: 10 })
const llvmpipe: BackendStatus = {
  name: 'webgpu',
  available: true,
  detail: 'software adapter found',
  device: 'mesa software llvmpipe',
  driver: 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)',
  software: true,
}
const statuses = (over: Partial<Record<BackendName, Partial<BackendStatus>>> = {}) =>
  (
    [
      { name: 'tfjs-node-gpu', available: false, detail: 'not installed' },
      llvmpipe,
      { name: 'tfjs-node', available: false, detail: 'not installed' },
      { name: 'wasm', available: true, detail: 'SIMD', device: 'EPYC', driver: 'wasm 4.22.0' },
      { name: 'cpu', available: true, detail: 'js', device: 'EPYC', driver: 'cpu 4.22.0' },
    ] as BackendStatus[]
  ).map((s) => ({ ...s, ...over[s.name] }))

/** A measurer with fixed speeds that counts its calls; a missing speed throws like a broken backend. */
function fixedSpeeds(speeds: Partial<Record<BackendName, number>>) {
  const calls: BackendName[] = []
  return {
    calls,
    measure: async (name: BackendName): Promise<Measurement> => {
      calls.push(name)
      const v = speeds[name]
      if (v === undefined) throw new Error(`${name} broke`)
      return { samplesPerSec: v, msPerStep: 256_000 / v, steps: 5, detail: 'measured' }
    },
  }
}

function memoryCache(): SpeedCache & { tables: Map<string, SpeedTable> } {
  const tables = new Map<string, SpeedTable>()
  return {
    tables,
    get: async (key) => tables.get(key) ?? null,
    put: async (t) => void tables.set(t.key, t),
  }
}

const input = (over: Partial<MeasureInput> = {}): MeasureInput => ({
  spec: mlp,
  batch: 256,
  workers: 1,
  statuses: statuses(),
  version: '0.1.0',
  measure: fixedSpeeds({ webgpu: 2730, wasm: 19363, cpu: 700 }).measure,
  now: () => 1_700_000_000_000,
  ...over,
})

describe('auto by measured speed', () => {
  it('picks the fastest measured backend, whatever the default order says', async () => {
    const table = await measureSpeeds(input())
    assert.equal(table.chosen, 'wasm')
    assert.deepEqual(
      table.speeds.map((s) => s.name),
      ['wasm', 'webgpu', 'cpu', 'tfjs-node-gpu', 'tfjs-node'],
    )
    const faster = await measureSpeeds(
      input({ measure: fixedSpeeds({ webgpu: 2730, wasm: 19363, cpu: 25_000 }).measure }),
    )
    assert.equal(faster.chosen, 'cpu')
    assert.match(faster.why, /^cpu measured fastest: 25,000 samples\/s, 1\.3× wasm/)
  })

  it('labels a software adapter, which loses to wasm and wins only when it measures fastest', async () => {
    const table = await measureSpeeds(input())
    const gpu = table.speeds.find((s) => s.name === 'webgpu')
    assert.equal(gpu?.software, true)
    assert.equal(table.chosen, 'wasm')
    assert.match(table.why, /webgpu is a software adapter and measured slower/)
    assert.match(describeTable(table), /webgpu \(software adapter\) 2,730 samples\/s/)
    const wins = await measureSpeeds(
      input({ measure: fixedSpeeds({ webgpu: 30_000, wasm: 19363, cpu: 700 }).measure }),
    )
    assert.equal(wins.chosen, 'webgpu')
    assert.match(wins.why, /^webgpu \(software adapter\) measured fastest/)
  })

  it('recognises software adapters by name, architecture or the fallback flag', () => {
    assert.ok(isSoftwareAdapter({ vendor: 'mesa', device: 'llvmpipe-llvm-15', architecture: '' }))
    assert.ok(isSoftwareAdapter({ vendor: 'google', description: 'SwiftShader Device (Subzero)' }))
    assert.ok(isSoftwareAdapter({ description: 'Microsoft Basic Render Driver' }))
    assert.ok(isSoftwareAdapter({ vendor: 'microsoft', device: 'WARP' }))
    assert.ok(isSoftwareAdapter({ architecture: 'software' }))
    assert.ok(isSoftwareAdapter({ vendor: 'nvidia', isFallbackAdapter: true }))
    assert.ok(!isSoftwareAdapter({ vendor: 'nvidia', architecture: 'ampere', device: 'RTX 3080' }))
    assert.ok(!isSoftwareAdapter({ vendor: 'amd', description: 'Radeon RX 7900 XT (RADV NAVI31)' }))
  })

  it('a backend that fails while measured is listed with its error and never chosen', async () => {
    const table = await measureSpeeds(input({ measure: fixedSpeeds({ cpu: 700 }).measure }))
    assert.equal(table.chosen, 'cpu')
    const wasm = table.speeds.find((s) => s.name === 'wasm')
    assert.equal(wasm?.samplesPerSec, null)
    assert.match(wasm?.detail ?? '', /failed: wasm broke/)
    const none = await measureSpeeds(input({ measure: fixedSpeeds({}).measure }))
    assert.equal(none.chosen, 'none')
    assert.equal(none.why, 'no backend could be measured')
  })

  it('only usable backends are measured, one at a time', async () => {
    const m = fixedSpeeds({ webgpu: 2730, wasm: 19363, cpu: 700 })
    await measureSpeeds(input({ measure: m.measure }))
    assert.deepEqual(m.calls, ['webgpu', 'wasm', 'cpu'])
  })

  it('caches the table: a hit measures nothing, and says it was cached', async () => {
    const cache = memoryCache()
    const m = fixedSpeeds({ webgpu: 2730, wasm: 19363, cpu: 700 })
    const first = await measureSpeeds(input({ cache, measure: m.measure }))
    assert.equal(first.cached, false)
    assert.equal(m.calls.length, 3)
    const again = await measureSpeeds(input({ cache, measure: m.measure }))
    assert.equal(m.calls.length, 3, 'a cache hit must not measure')
    assert.equal(again.cached, true)
    assert.deepEqual(again.speeds, first.speeds)
  })

  it('measures again when the device, driver, Tandem version, model, batch or workers change', async () => {
    const base = input()
    const key = speedKey(base)
    const changes: Record<string, Partial<MeasureInput>> = {
      'adapter (device)': {
        statuses: statuses({ webgpu: { device: 'nvidia ampere RTX 3080', software: false } }),
      },
      'adapter appears': { statuses: statuses({ 'tfjs-node-gpu': { available: true } }) },
      driver: { statuses: statuses({ webgpu: { driver: 'llvmpipe: Mesa 25.1.0 (LLVM 19)' } }) },
      'CPU model': { statuses: statuses({ wasm: { device: 'Ryzen 9' } }) },
      'Tandem version': { version: '0.2.0' },
      model: { spec: parseSpec({ type: 'mlp', inputSize: 784, hidden: [512], classes: 10 }) },
      batch: { batch: 128 },
      workers: { workers: 2 },
    }
    for (const [what, change] of Object.entries(changes)) {
      const cache = memoryCache()
      const m = fixedSpeeds({ webgpu: 2730, wasm: 19363, cpu: 700, 'tfjs-node-gpu': 90_000 })
      await measureSpeeds(input({ cache, measure: m.measure }))
      const before = m.calls.length
      const changed = input({ cache, measure: m.measure, ...change })
      assert.notEqual(speedKey(changed), key, `${what} must change the key`)
      const table = await measureSpeeds(changed)
      assert.equal(table.cached, false, what)
      assert.ok(m.calls.length > before, `${what}: not measured again`)
    }
    // The same things written differently are the same key.
    const same = parseSpec({ classes: 10, hidden: [256], inputSize: 784, type: 'mlp' })
    assert.equal(speedKey(input({ spec: same })), key)
  })

  it('a cache that fails is measured around, not fatal', async () => {
    const broken: SpeedCache = {
      get: async () => {
        throw new Error('disk gone')
      },
      put: async () => {
        throw new Error('disk gone')
      },
    }
    const table = await measureSpeeds(input({ cache: broken }))
    assert.equal(table.chosen, 'wasm')
  })
})

describe('step timer', () => {
  it('skips the warm-up step and counts the samples per step from the running total', () => {
    const timer = new StepTimer(256, { ...DEFAULT_BUDGET, budgetMs: 100, minSteps: 3 })
    assert.equal(timer.add(0, 900, 256), false) // warm-up: shader compilation etc.
    assert.equal(timer.add(1, 40, 512), false)
    assert.equal(timer.add(2, 40, 768), false)
    assert.equal(timer.add(3, 40, 1024), true) // 3 timed steps, 120 ms ≥ 100 ms
    const r = timer.result()
    assert.equal(r.steps, 3)
    assert.equal(r.msPerStep, 40)
    assert.equal(r.samplesPerSec, 6400) // 256 samples per 40 ms
  })

  it('stops at the cap, and a backend slower than one step per cap has no speed', () => {
    const timer = new StepTimer(256, { ...DEFAULT_BUDGET, capMs: 1000 })
    assert.equal(timer.add(0, 1200, 256), true)
    const one = timer.result(true)
    assert.equal(one.steps, 1)
    assert.match(one.detail, /one step only/)
    assert.ok((one.samplesPerSec ?? 0) < 256)
    const none = new StepTimer(256, { ...DEFAULT_BUDGET, capMs: 1000 }).result(true)
    assert.equal(none.samplesPerSec, null)
    assert.match(none.detail, /no step finished within 1\.0 s/)
  })

  it('stops at maxSteps even within the budget', () => {
    const timer = new StepTimer(8, { ...DEFAULT_BUDGET, budgetMs: 1e9, maxSteps: 2 })
    timer.add(0, 1, 8)
    assert.equal(timer.add(1, 1, 16), false)
    assert.equal(timer.add(2, 1, 24), true)
  })
})

describe('engine: auto measures through its cache', () => {
  const probe = async (name: BackendName) =>
    statuses().find((s) => s.name === name) as BackendStatus

  it('measures once per key in a process, and again after a change', async () => {
    const m = fixedSpeeds({ webgpu: 2730, wasm: 19363, cpu: 700 })
    const engine = new TrainingEngine({ probe, measurer: (name) => m.measure(name) })
    const first = await engine.measure(mlp, 256)
    assert.equal(first.chosen, 'wasm')
    assert.equal((await engine.measure(mlp, 256)).cached, true)
    assert.equal(m.calls.length, 3)
    await engine.measure(mlp, 64)
    assert.equal(m.calls.length, 6, 'another batch size is another key')
  })

  it('refuses to measure a model that will not fit in memory', async () => {
    const m = fixedSpeeds({ wasm: 1 })
    const engine = new TrainingEngine({ probe, measurer: m.measure, memoryLimitBytes: 1024 })
    await assert.rejects(engine.measure(mlp, 256), { code: 'ENGINE_OUT_OF_MEMORY' })
    assert.equal(m.calls.length, 0)
  })

  it('uses and fills a persistent cache, and honours exclude', async () => {
    const cache = memoryCache()
    const m = fixedSpeeds({ webgpu: 2730, wasm: 19363, cpu: 700 })
    await new TrainingEngine({ probe, measurer: m.measure, speedCache: cache }).measure(mlp, 256)
    assert.equal(cache.tables.size, 1)
    const later = await new TrainingEngine({
      probe,
      measurer: m.measure,
      speedCache: cache,
    }).measure(mlp, 256)
    assert.equal(later.cached, true, 'a new engine (a restart) reads the stored table')
    assert.equal(m.calls.length, 3)
    const pinned = await new TrainingEngine({
      probe,
      measurer: m.measure,
      exclude: ['wasm'],
    }).measure(mlp, 256)
    assert.equal(pinned.chosen, 'webgpu')
    assert.equal(pinned.speeds.find((s) => s.name === 'wasm')?.detail, 'excluded')
  })
})
