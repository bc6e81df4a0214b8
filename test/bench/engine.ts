/**
 * `npm run bench:engine`: training throughput of each available backend on the MLP 784-256-10
 * (batch 256) and a small byte-level transformer LM, the cost of compressing Δ, and PyTorch on the
 * same MLP in the same run when python3 with torch is installed. Last line: one JSON object.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { BACKENDS, probeBackend, type BackendName } from '../../core/engine/backends/probe.js'
import { ErrorFeedback } from '../../core/engine/compress/error-feedback.js'
import { TrainingEngine } from '../../core/engine/engine.js'
import type { StepInfo } from '../../core/engine/inner-loop.js'
import { countParams, trainFlopsPerSample } from '../../core/engine/spec/cost.js'
import { parseSpec } from '../../core/engine/spec/parse.js'
import type { ModelSpec } from '../../core/engine/spec/schema.js'
import { innerJob, recycledData } from '../support/engine-fixtures.js'

const mlp = parseSpec({ type: 'mlp', inputSize: 784, hidden: [256], classes: 10 })
const lm = parseSpec({
  type: 'transformer',
  vocab: 256,
  context: 64,
  dModel: 128,
  heads: 4,
  layers: 2,
  mlpRatio: 4,
})
const threads = availableParallelism()

interface Throughput {
  backend: BackendName
  workers: number
  samplesPerSec: number
  gflops: number
}

async function throughput(
  spec: ModelSpec,
  backend: BackendName,
  workers: number,
  batch: number,
  steps: number,
): Promise<Throughput> {
  const warmup = 3
  const engine = new TrainingEngine({ backend, maxThreads: workers })
  let start = 0
  let end = 0
  let samplesAtStart = 0
  let samples = 0
  // info.samples is cumulative within the job; measure from the end of the warm-up steps.
  engine.on('step', (info: StepInfo) => {
    if (info.step === warmup - 1) [start, samplesAtStart] = [performance.now(), info.samples]
    samples = info.samples - samplesAtStart
    end = performance.now()
  })
  const outcome = await engine.train({
    job: innerJob(spec, warmup + steps),
    batchSize: batch,
    openData: () => recycledData(spec, batch, 1),
  })
  const seconds = (end - start) / 1000
  const samplesPerSec = samples / seconds
  return {
    backend,
    workers: outcome.workers,
    samplesPerSec: round(samplesPerSec),
    gflops: round((samplesPerSec * trainFlopsPerSample(spec)) / 1e9, 2),
  }
}

/** Milliseconds per million parameters to compute Δ = θ_global − θ_local and compress it with error feedback. */
function deltaAndCompressMsPerMillion(method: 'int8' | 'topk'): number {
  const n = 1_000_000
  const global = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37))
  const local = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) + Math.cos(i) * 1e-3)
  const ef = new ErrorFeedback(n)
  const cfg =
    method === 'int8'
      ? ({ method: 'int8', blockSize: 256 } as const)
      : ({ method: 'topk', fraction: 0.01 } as const)
  const once = () => {
    const delta = new Float32Array(n)
    for (let i = 0; i < n; i++) delta[i] = (global[i] as number) - (local[i] as number)
    return ef.compress(delta, cfg)
  }
  once()
  const reps = 5
  const t0 = performance.now()
  for (let i = 0; i < reps; i++) once()
  return round((performance.now() - t0) / reps, 1)
}

function torchReference(): { samplesPerSec: number; gflops: number; python: string } | null {
  for (const python of ['python3', '/usr/bin/python3']) {
    const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' })
    if (probe.status !== 0) continue
    const script = '../shared/bench/torch_mlp.py'
    if (!existsSync(script)) return null
    const res = spawnSync(
      python,
      [script, '--batch', '256', '--steps', '200', '--threads', String(threads)],
      { encoding: 'utf8' },
    )
    const last = res.stdout.trim().split('\n').at(-1)
    if (res.status !== 0 || !last) return null
    const parsed = JSON.parse(last) as { samplesPerSec: number; gflops: number }
    return { samplesPerSec: parsed.samplesPerSec, gflops: parsed.gflops, python }
  }
  return null
}

const round = (v: number, digits = 0) => Math.round(v * 10 ** digits) / 10 ** digits

const available: BackendName[] = []
for (const name of BACKENDS) {
  const status = await probeBackend(name)
  console.log(
    `backend ${name.padEnd(14)} ${status.available ? 'available' : 'unavailable'}: ${status.detail}`,
  )
  if (status.available) available.push(name)
}
console.log(
  `MLP 784-256-10: ${countParams(mlp).toLocaleString()} params, ${trainFlopsPerSample(mlp).toLocaleString()} training FLOPs/sample, batch 256`,
)
console.log(
  `LM: byte-level transformer, vocab 256, context 64, d 128, 4 heads, 2 layers: ${countParams(lm).toLocaleString()} params, ${(trainFlopsPerSample(lm) / 1e6).toFixed(1)} MFLOPs/sequence, batch 16`,
)

const mlpRuns: Throughput[] = []
const lmRuns: Throughput[] = []
for (const backend of available) {
  const cpuLike = backend === 'wasm' || backend === 'cpu' || backend === 'tfjs-node'
  const workerCounts = cpuLike && threads > 1 && backend !== 'tfjs-node' ? [1, threads] : [1]
  for (const workers of workerCounts) {
    const steps = backend === 'cpu' ? 8 : 40
    const m = await throughput(mlp, backend, workers, 256, steps)
    mlpRuns.push(m)
    console.log(
      `mlp  ${backend.padEnd(14)} workers ${workers}: ${m.samplesPerSec.toLocaleString()} samples/s, ${m.gflops} GFLOP/s`,
    )
    if (backend === 'cpu') continue // minutes per LM run; the MLP figure says enough
    const l = await throughput(lm, backend, workers, 16, 12)
    lmRuns.push(l)
    console.log(
      `lm   ${backend.padEnd(14)} workers ${workers}: ${l.samplesPerSec.toLocaleString()} sequences/s (${round(l.samplesPerSec * 64).toLocaleString()} tokens/s), ${l.gflops} GFLOP/s`,
    )
  }
}

const int8Ms = deltaAndCompressMsPerMillion('int8')
const topkMs = deltaAndCompressMsPerMillion('topk')
console.log(
  `compute Δ and compress it with error feedback: int8 ${int8Ms} ms, top-1% ${topkMs} ms per million parameters`,
)

const torch = torchReference()
const best = mlpRuns.reduce((a, b) => (b.samplesPerSec > a.samplesPerSec ? b : a))
const ratio = torch ? round(best.samplesPerSec / torch.samplesPerSec, 2) : null
if (torch)
  console.log(
    `pytorch-cpu (${threads} threads): ${torch.samplesPerSec.toLocaleString()} samples/s, ${torch.gflops} GFLOP/s → best Tandem / PyTorch = ${ratio}`,
  )
else
  console.log(
    'pytorch reference: skipped (no python3 with torch; Debian: apt-get install python3-torch libopenblas0-pthread)',
  )

console.log(
  JSON.stringify({
    threads,
    mlp: best,
    mlpRuns,
    lm: lmRuns.reduce<Throughput | null>(
      (a, b) => (!a || b.samplesPerSec > a.samplesPerSec ? b : a),
      null,
    ),
    lmParams: countParams(lm),
    lmRuns,
    deltaCompressMsPerMParam: { int8: int8Ms, topk1pct: topkMs },
    torchMlp: torch ? { samplesPerSec: torch.samplesPerSec, gflops: torch.gflops } : null,
    ratioVsTorch: ratio,
  }),
)
