/**
 * `auto` measured for real, in worker threads on this machine: each usable backend trains the
 * model for a bounded time and the fastest wins. The candidates are pinned (wasm and cpu) so the
 * result does not depend on the machine having a GPU adapter; the WebGPU case runs only where Dawn
 * finds one, and says so when it does not.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Measurement } from '../../../core/engine/backends/measure-speeds.js'
import {
  probeBackend,
  type BackendName,
  type BackendSelection,
} from '../../../core/engine/backends/probe.js'
import { TrainingEngine } from '../../../core/engine/engine.js'
import { parseSpec } from '../../../core/engine/spec/parse.js'
import { innerJob, syntheticData, tinyMlp } from '../../support/engine-fixtures.js'

const mlp = parseSpec({ type: 'mlp', inputSize: 784, hidden: [256], classes: 10 })
const CPU_ONLY: BackendName[] = ['tfjs-node-gpu', 'webgpu', 'tfjs-node']

const ranked =
  (order: Partial<Record<BackendName, number>>) =>
  async (name: BackendName): Promise<Measurement> => {
    const v = order[name] ?? null
    return { samplesPerSec: v, msPerStep: v && 1000 / v, steps: 3, detail: 'measured' }
  }

describe('auto by measurement (real workers)', () => {
  it('measures wasm and cpu on the MLP within a bounded time and picks the faster', async () => {
    const engine = new TrainingEngine({ exclude: CPU_ONLY, maxThreads: 1 })
    const t0 = performance.now()
    const table = await engine.measure(mlp, 256)
    const seconds = (performance.now() - t0) / 1000
    const wasm = table.speeds.find((s) => s.name === 'wasm')
    const cpu = table.speeds.find((s) => s.name === 'cpu')
    assert.ok(wasm?.samplesPerSec && cpu?.samplesPerSec, JSON.stringify(table.speeds))
    assert.ok(wasm.steps >= 1 && cpu.steps >= 1)
    const fastest = wasm.samplesPerSec > cpu.samplesPerSec ? 'wasm' : 'cpu'
    assert.equal(table.chosen, fastest)
    assert.equal(table.speeds[0]?.name, fastest)
    // Per backend: worker start-up (slow from TypeScript source) + ≤ 3 s cap + one step's grace.
    assert.ok(seconds < 40, `measuring took ${seconds.toFixed(1)} s`)
    assert.match(table.workload, /mlp 784-256-10 \(203,530 params\), batch 256, 1 CPU worker/)
    assert.equal((await engine.measure(mlp, 256)).cached, true)
  })

  it('trains on the measured fastest backend and reports the table with the selection', async () => {
    // cpu "measured" faster than wasm: auto must follow the numbers, not the default order.
    const engine = new TrainingEngine({
      exclude: CPU_ONLY,
      measurer: ranked({ wasm: 100, cpu: 1000 }),
    })
    const selections: BackendSelection[] = []
    engine.on('backend', (s: BackendSelection) => selections.push(s))
    const spec = tinyMlp()
    const outcome = await engine.train({
      job: innerJob(spec, 3),
      batchSize: 8,
      openData: () => syntheticData(spec, 8, 1),
    })
    assert.equal(outcome.backend.chosen, 'cpu')
    assert.equal(outcome.backend.forced, false)
    assert.equal(selections[0]?.measured?.chosen, 'cpu')
    assert.match(selections[0]?.measured?.why ?? '', /^cpu measured fastest/)
    assert.equal(
      outcome.backend.skipped.find((s) => s.name === 'wasm')?.detail,
      'measured slower: 100 samples/s',
    )
  })

  it('after a failure mid-run, falls back to the next fastest measured backend', async () => {
    const engine = new TrainingEngine({
      exclude: CPU_ONLY,
      measurer: ranked({ wasm: 1000, cpu: 100 }),
    })
    const spec = tinyMlp()
    const outcome = await engine.train({
      job: innerJob(spec, 4),
      batchSize: 8,
      openData: () => syntheticData(spec, 8, 1),
      fault: { backend: 'wasm', step: 1 },
    })
    assert.equal(outcome.failures[0]?.backend, 'wasm')
    assert.equal(outcome.backend.chosen, 'cpu')
    assert.match(
      outcome.backend.measured?.why ?? '',
      /fastest measured backend left after wasm failed/,
    )
  })

  it('labels a software WebGPU adapter and lets it win only by measuring fastest', async (t) => {
    const status = await probeBackend('webgpu')
    if (!status.available) {
      t.skip(`no WebGPU adapter here (${status.detail})`)
      return
    }
    const engine = new TrainingEngine({ exclude: ['tfjs-node-gpu', 'tfjs-node', 'cpu'] })
    const table = await engine.measure(mlp, 256)
    const gpu = table.speeds.find((s) => s.name === 'webgpu')
    const wasm = table.speeds.find((s) => s.name === 'wasm')
    assert.ok(gpu?.samplesPerSec && wasm?.samplesPerSec, JSON.stringify(table.speeds))
    assert.equal(gpu.software, status.software === true)
    assert.equal(table.chosen, gpu.samplesPerSec > wasm.samplesPerSec ? 'webgpu' : 'wasm')
  })
})
