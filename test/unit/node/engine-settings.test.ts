/**
 * Settings → engine options, and which of them forced a backend (core/node/engine-settings.ts),
 * with the backend report built from the engine's choice (core/node/backend-report.ts).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Settings } from '../../../core/api/contract.js'
import { notTried, selectionReport } from '../../../core/node/backend-report.js'
import { engineOptions, forcedBy } from '../../../core/node/engine-settings.js'
import { defaultSettings } from '../../../core/node/settings.js'

const settings = (change: Partial<Settings>): Settings => ({ ...defaultSettings(4), ...change })

describe('engine settings', () => {
  it('"Use the GPU" off turns a GPU-capable backend into wasm; overrides win', () => {
    const off = { useGpu: false, maxThreads: 2, dutyCycle: 0.5 }
    for (const backend of ['auto', 'tfjs-node-gpu', 'webgpu'] as const)
      assert.equal(engineOptions(settings({ ...off, backend })).backend, 'wasm', backend)
    assert.deepEqual(engineOptions(settings({ ...off, backend: 'tfjs-node' })), {
      backend: 'tfjs-node',
      maxThreads: 2,
      dutyCycle: 0.5,
    })
    assert.equal(engineOptions(settings({ useGpu: true, backend: 'auto' })).backend, 'auto')
    assert.equal(engineOptions(settings(off), { backend: 'cpu' }).backend, 'cpu')
  })

  it('says which choice forced a backend', () => {
    assert.match(forcedBy('cpu', settings({}), { backend: 'cpu' }), /started with --backend cpu/)
    assert.match(forcedBy('wasm', settings({ backend: 'wasm' })), /the Backend setting is wasm/)
    assert.match(forcedBy('wasm', settings({ backend: 'auto', useGpu: false })), /Use the GPU/)
  })

  it('reports the better backends of a forced choice as not tried, of a free one with reasons', () => {
    assert.deepEqual(
      notTried('tfjs-node', 'why').map((s) => s.name),
      ['tfjs-node-gpu', 'webgpu'],
    )
    const forced = selectionReport(
      { chosen: 'wasm', device: 'wasm', skipped: [], forced: true },
      null,
      'the Backend setting is wasm',
    )
    assert.deepEqual(
      forced.skipped.map((s) => s.reason),
      Array(3).fill('not tried: the Backend setting is wasm'),
    )
    // The engine tried only webgpu this time: tfjs-node-gpu keeps the earlier probe's reason.
    const earlier = {
      chosen: 'tfjs-node',
      device: 'cpu',
      skipped: [{ name: 'tfjs-node-gpu', reason: 'no CUDA' }],
    }
    const free = selectionReport(
      {
        chosen: 'tfjs-node',
        device: 'cpu',
        skipped: [{ name: 'webgpu', available: false, detail: 'no adapter' }],
        forced: false,
      },
      earlier,
      '',
    )
    assert.deepEqual(free, {
      chosen: 'tfjs-node',
      device: 'cpu',
      skipped: [
        { name: 'tfjs-node-gpu', reason: 'no CUDA' },
        { name: 'webgpu', reason: 'no adapter' },
      ],
    })
  })
})
