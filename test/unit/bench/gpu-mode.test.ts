/**
 * `npm run bench:engine -- --gpu` on a machine without a real GPU (none, or only a software adapter
 * such as llvmpipe) says so and exits cleanly with `gpu: null` in its JSON line; where a GPU is
 * found it reports WebGPU's numbers instead (checked for shape). Runs the bench as a user would.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { describe, it } from 'node:test'

describe('engine benchmark --gpu', () => {
  it('without a GPU: says why and exits 0; with one: reports WebGPU and the PyTorch ratio', () => {
    const res = spawnSync(process.execPath, ['--import', 'tsx', 'test/bench/engine.ts', '--gpu'], {
      encoding: 'utf8',
      timeout: 600_000,
    })
    assert.equal(res.status, 0, res.stderr)
    const last = JSON.parse(res.stdout.trim().split('\n').at(-1) ?? '') as {
      mode: string
      gpu: string[] | null
      reason?: string
      runs?: { mlp: { samplesPerSec: number }; lm: { samplesPerSec: number } }[]
      ratioVsTorchCuda?: { mlp: number | null; lm: number | null }
    }
    assert.equal(last.mode, 'gpu')
    if (last.gpu === null) {
      assert.match(last.reason ?? '', /software adapter|no GPU backend/)
      assert.match(res.stdout, /^no GPU here: /m)
      assert.doesNotMatch(res.stdout, /samples\/s/, 'nothing is measured without a GPU')
    } else {
      assert.ok((last.runs ?? []).every((r) => r.mlp.samplesPerSec > 0 && r.lm.samplesPerSec > 0))
      assert.ok(last.ratioVsTorchCuda && 'mlp' in last.ratioVsTorchCuda)
    }
  })

  it('a machine whose adapter is hidden has no GPU either', () => {
    // TANDEM_HIDE_WEBGPU: the engine's switch to run as on a machine without an adapter.
    const res = spawnSync(process.execPath, ['--import', 'tsx', 'test/bench/engine.ts', '--gpu'], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, TANDEM_HIDE_WEBGPU: '1' },
    })
    assert.equal(res.status, 0, res.stderr)
    const last = JSON.parse(res.stdout.trim().split('\n').at(-1) ?? '') as {
      gpu: string[] | null
      reason?: string
    }
    if (last.gpu === null)
      assert.match(last.reason ?? '', /webgpu: no WebGPU adapter \(TANDEM_HIDE_WEBGPU=1\)/)
    else assert.ok(last.gpu.length > 0, 'a CUDA GPU through tfjs-node-gpu')
  })
})
