/**
 * The WebGPU code path in real Chromium (SwiftShader's WebGPU adapter, a CPU emulation: slow but
 * exact enough), running the same inner-loop code as the Node workers. Over 50 inner steps the Δ it
 * computes must match the wasm backend's in Node within 1e-3 of the largest |Δ|, and every step's
 * loss within 1e-4 (float32 sums in another order, GPU transcendental approximations). Each model
 * has ≥ 8 parameter tensors: before the AddN fix (core/engine/backends/webgpu-addn.ts) AdamW
 * clipped with a garbage norm there and the trajectories diverged.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { build } from 'vite'
import { selectBackend } from '../../core/engine/backends/probe.js'
import type { Batch } from '../../core/engine/batch.js'
import { lossAndGradients, runInnerLoop, type InnerJob } from '../../core/engine/inner-loop.js'
import type { ModelSpec } from '../../core/engine/spec/schema.js'
import { chromiumMissing, launchChromium, webgpuFlags } from '../support/browser.js'
import {
  deepMlp,
  innerJob,
  syntheticBatch,
  tinyTransformer,
  twoConvCnn,
} from '../support/engine-fixtures.js'
import { serveDirectory, type StaticServer } from '../support/static-server.js'

const DELTA_TOLERANCE = 1e-3
const LOSS_TOLERANCE = 1e-4
const STEPS = 50

describe('engine on WebGPU in Chromium', { skip: chromiumMissing }, () => {
  let outDir: string
  let server: StaticServer
  let browser: Browser
  let page: Page
  let adapter: { available: boolean; detail: string; device?: string }

  before(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'tandem-webgpu-'))
    await build({
      configFile: false,
      logLevel: 'warn',
      root: 'test/e2e/fixtures',
      base: './',
      build: {
        outDir,
        emptyOutDir: true,
        rollupOptions: { input: 'test/e2e/fixtures/webgpu-page.html' },
        chunkSizeWarningLimit: 10_000,
      },
    })
    server = await serveDirectory(outDir)
    browser = await launchChromium(webgpuFlags)
    page = await browser.newPage()
    // http://127.0.0.1 is a secure context, which WebGPU requires.
    await page.goto(`${server.url}webgpu-page.html`)
    await page.waitForFunction(() => document.title === 'engine ready')
    adapter = await page.evaluate(() =>
      (
        window as unknown as { tandemEngine: { probe(): Promise<typeof adapter> } }
      ).tandemEngine.probe(),
    )
  })

  after(async () => {
    await browser?.close()
    await server?.close()
    if (outDir) rmSync(outDir, { recursive: true, force: true })
  })

  async function compare(spec: ModelSpec, steps: number, batch: number) {
    const job: InnerJob = innerJob(spec, steps)
    const batches: Batch[] = Array.from({ length: steps }, (_, s) =>
      syntheticBatch(spec, batch, 500 + s),
    )
    await selectBackend('wasm')
    const wasm = await runInnerLoop(job, { nextBatch: async (s) => batches[s] as Batch })
    const gpu = await page.evaluate(
      async ([j, b]) => {
        const api = (
          window as unknown as {
            tandemEngine: {
              run(
                job: unknown,
                batches: unknown,
              ): Promise<{ delta: Float32Array; losses: number[]; device: string }>
            }
          }
        ).tandemEngine
        const r = await api.run(j, b)
        return { delta: Array.from(r.delta), losses: r.losses, device: r.device }
      },
      [serializable(job), batches.map(serializable)] as const,
    )
    const scale = Math.max(...Array.from(wasm.delta, Math.abs))
    const diff = Math.max(...gpu.delta.map((v, i) => Math.abs(v - (wasm.delta[i] as number))))
    assert.ok(
      diff <= DELTA_TOLERANCE * scale,
      `max |Δgpu - Δwasm| = ${diff}, ${(diff / scale).toExponential(2)} of largest |Δ| ${scale}`,
    )
    assert.equal(gpu.losses.length, steps)
    gpu.losses.forEach((l, i) =>
      assert.ok(
        Math.abs(l - (wasm.losses[i] as number)) <= LOSS_TOLERANCE,
        `loss ${i}: ${l} vs ${wasm.losses[i]}`,
      ),
    )
  }

  it('finds the WebGPU adapter', () => {
    assert.equal(adapter.available, true, adapter.detail)
  })

  it(`MLP (10 tensors): ${STEPS} steps, loss and Δ match the wasm backend`, () =>
    compare(deepMlp(), STEPS, 8))
  it(`CNN (8 tensors): ${STEPS} steps, loss and Δ match the wasm backend`, () =>
    compare(twoConvCnn(), STEPS, 4))
  it(`transformer LM: ${STEPS} steps, loss and Δ match the wasm backend`, () =>
    compare(tinyTransformer(), STEPS, 4))

  it('transformer LM: loss and gradients at one point match the wasm backend', async () => {
    const spec = tinyTransformer()
    const job = innerJob(spec, 1)
    const batch = syntheticBatch(spec, 4, 500)
    await selectBackend('wasm')
    const wasm = await lossAndGradients(spec, job.weights, batch)
    const gpu = await page.evaluate(
      ([j, b]) =>
        (
          window as unknown as {
            tandemEngine: {
              gradients(j: unknown, b: unknown): Promise<{ loss: number; grads: number[] }>
            }
          }
        ).tandemEngine.gradients(j, b),
      [serializable(job), serializable(batch)] as const,
    )
    assert.ok(Math.abs(gpu.loss - wasm.loss) < 1e-5, `loss ${gpu.loss} vs ${wasm.loss}`)
    const scale = Math.max(...Array.from(wasm.grads, Math.abs))
    const diff = Math.max(...gpu.grads.map((g, i) => Math.abs(g - (wasm.grads[i] as number))))
    assert.ok(diff <= 1e-5 * scale, `max gradient difference ${diff} (largest |g| ${scale})`)
  })
})

/** Typed arrays as plain arrays, so they survive Playwright's serialisation; the page rebuilds them. */
function serializable(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) =>
      ArrayBuffer.isView(v)
        ? { __typed: v.constructor.name, data: Array.from(v as Float32Array) }
        : v,
    ),
  )
}
