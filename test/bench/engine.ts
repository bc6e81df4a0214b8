/**
 * `npm run bench:engine`: training throughput of each available backend on the MLP 784-256-10
 * (batch 256) and a small byte-level transformer LM (batch 16), side by side in one run: samples/s,
 * GFLOP/s and ms per step; `auto`'s measured table and choice for both models (the choice must be
 * the fastest backend measured here); PyTorch CPU on the same models when python3 with torch is
 * installed (test/bench/torch_ref.py); the cost of compressing Δ. Last line: one JSON object.
 *
 * `--gpu`: on a machine with a real GPU, the same MLP and LM on WebGPU (and tfjs-node-gpu when it
 * loads) against PyTorch CUDA when present, with the ratio. Without a GPU (none, or only a
 * software adapter such as llvmpipe) it says so and exits cleanly (JSON `gpu: null`).
 */
import { spawnSync } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { formatSpeedTable } from '../../core/cli/commands/speed-table.js'
import {
  BACKENDS,
  probeBackend,
  selectBackend,
  type BackendName,
  type BackendStatus,
} from '../../core/engine/backends/probe.js'
import type { SpeedTable } from '../../core/engine/backends/speed.js'
import { ErrorFeedback } from '../../core/engine/compress/error-feedback.js'
import { TrainingEngine } from '../../core/engine/engine.js'
import type { StepInfo } from '../../core/engine/inner-loop.js'
import { countParams, trainFlopsPerSample } from '../../core/engine/spec/cost.js'
import { parseSpec } from '../../core/engine/spec/parse.js'
import type { ModelSpec } from '../../core/engine/spec/schema.js'
import { runInnerLoop } from '../../core/engine/inner-loop.js'
import * as tf from '../../core/engine/tf.js'
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
const MLP_BATCH = 256
const LM_BATCH = 16
const threads = availableParallelism()
const gpuMode = process.argv.includes('--gpu')

interface Throughput {
  backend: BackendName
  workers: number
  software: boolean
  samplesPerSec: number
  gflops: number
  msPerStep: number
}

const round = (v: number, digits = 0) => Math.round(v * 10 ** digits) / 10 ** digits

async function throughput(
  spec: ModelSpec,
  backend: BackendName,
  software: boolean,
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
  let computeMs = 0
  // info.samples is cumulative within the job; measure from the end of the warm-up steps.
  engine.on('step', (info: StepInfo) => {
    if (info.step === warmup - 1) [start, samplesAtStart] = [performance.now(), info.samples]
    if (info.step >= warmup) computeMs += info.ms
    samples = info.samples - samplesAtStart
    end = performance.now()
  })
  const outcome = await engine.train({
    job: innerJob(spec, warmup + steps),
    batchSize: batch,
    openData: () => recycledData(spec, batch, 1),
  })
  const samplesPerSec = samples / ((end - start) / 1000)
  return {
    backend,
    workers: outcome.workers,
    software,
    samplesPerSec: round(samplesPerSec),
    gflops: round((samplesPerSec * trainFlopsPerSample(spec)) / 1e9, 2),
    msPerStep: round(computeMs / steps, 1),
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

interface StepCost {
  optimizer: 'ops' | 'fused'
  kernelsPerStep: number
  msPerStep: number
  optimizerMsPerStep: number
}

/**
 * Kernel launches and ms per MLP step on wasm in this thread, with the tfjs-ops AdamW and with the
 * fused one (optim/wasm-adamw.ts), side by side.
 */
async function wasmStepCost(optimizer: 'ops' | 'fused'): Promise<StepCost> {
  await selectBackend('wasm')
  const data = recycledData(mlp, MLP_BATCH, 1)
  const profiled = 6
  const info = await tf.profile(async () => {
    await runInnerLoop(innerJob(mlp, profiled), { nextBatch: () => data.next(), optimizer })
    return []
  })
  const steps = 30
  let ms = 0
  let opt = 0
  await runInnerLoop(innerJob(mlp, steps + 3), {
    nextBatch: () => data.next(),
    optimizer,
    onStep: (i) => {
      if (i.step < 3) return
      ms += i.ms
      opt += i.optimizerMs
    },
  })
  return {
    optimizer,
    kernelsPerStep: round(info.kernels.length / profiled),
    msPerStep: round(ms / steps, 2),
    optimizerMsPerStep: round(opt / steps, 2),
  }
}

interface TorchRun {
  samplesPerSec: number
  gflops: number
  threads: number
  torch: string
}

const torchScript = fileURLToPath(new URL('./torch_ref.py', import.meta.url))

/** PyTorch on the same model, or why not (no python3 with torch, no CUDA). */
function torchRun(
  model: 'mlp' | 'lm',
  device: 'cpu' | 'cuda',
  torchThreads: number,
): TorchRun | string {
  for (const python of ['python3', '/usr/bin/python3']) {
    const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' })
    if (probe.status !== 0) continue
    const steps = model === 'mlp' ? (device === 'cuda' ? 500 : 200) : device === 'cuda' ? 200 : 30
    const res = spawnSync(
      python,
      [torchScript, '--model', model, '--device', device, '--steps', String(steps)].concat([
        '--threads',
        String(torchThreads),
      ]),
      { encoding: 'utf8', timeout: 300_000 },
    )
    if (res.status === 3) return `no CUDA device for PyTorch (${python})`
    const last = res.stdout?.trim().split('\n').at(-1)
    if (res.status !== 0 || !last) return `torch_ref.py failed: ${res.stderr?.trim().slice(-300)}`
    const parsed = JSON.parse(last) as { samplesPerSec: number; torch: string }
    const spec = model === 'mlp' ? mlp : lm
    return {
      samplesPerSec: parsed.samplesPerSec,
      gflops: round((parsed.samplesPerSec * trainFlopsPerSample(spec)) / 1e9, 2),
      threads: torchThreads,
      torch: parsed.torch,
    }
  }
  return 'no python3 with torch (Debian: apt-get install python3-torch libopenblas0-pthread)'
}

const best = <T extends { samplesPerSec: number }>(runs: T[]): T | null =>
  runs.reduce<T | null>((a, b) => (!a || b.samplesPerSec > a.samplesPerSec ? b : a), null)

async function probeAll(): Promise<BackendStatus[]> {
  const out: BackendStatus[] = []
  for (const name of BACKENDS) {
    const status = await probeBackend(name)
    const soft = status.software ? ' [software adapter]' : ''
    console.log(
      `backend ${name.padEnd(14)} ${status.available ? 'available' : 'unavailable'}: ${status.detail}${soft}${status.device ? ` (${status.device})` : ''}`,
    )
    out.push(status)
  }
  return out
}

function describeModels(): void {
  console.log(
    `MLP 784-256-10: ${countParams(mlp).toLocaleString()} params, ${trainFlopsPerSample(mlp).toLocaleString()} training FLOPs/sample, batch ${MLP_BATCH}`,
  )
  console.log(
    `LM: byte-level transformer, vocab 256, context 64, d 128, 4 heads, 2 layers: ${countParams(lm).toLocaleString()} params, ${(trainFlopsPerSample(lm) / 1e6).toFixed(1)} MFLOPs/sequence, batch ${LM_BATCH}`,
  )
}

/** `--gpu`: WebGPU (and tfjs-node-gpu) against PyTorch CUDA, on a real GPU only. */
async function gpuBench(): Promise<void> {
  const statuses = await probeAll()
  const gpus = statuses.filter(
    (s) => (s.name === 'webgpu' || s.name === 'tfjs-node-gpu') && s.available && !s.software,
  )
  if (gpus.length === 0) {
    const webgpu = statuses.find((s) => s.name === 'webgpu')
    const reason = webgpu?.available
      ? `only a software adapter (${webgpu.device}): a CPU emulation, not a GPU`
      : `no GPU backend (webgpu: ${webgpu?.detail}; tfjs-node-gpu: ${statuses.find((s) => s.name === 'tfjs-node-gpu')?.detail})`
    console.log(`no GPU here: ${reason}; nothing to measure in --gpu mode`)
    console.log(JSON.stringify({ mode: 'gpu', gpu: null, reason }))
    return
  }
  describeModels()
  const runs: { mlp: Throughput; lm: Throughput; device: string }[] = []
  for (const g of gpus) {
    const m = await throughput(mlp, g.name, false, 1, MLP_BATCH, 100)
    const l = await throughput(lm, g.name, false, 1, LM_BATCH, 40)
    console.log(
      `${g.name} on ${g.device}: mlp ${m.samplesPerSec.toLocaleString()} samples/s (${m.gflops} GFLOP/s, ${m.msPerStep} ms/step), lm ${l.samplesPerSec.toLocaleString()} sequences/s (${l.gflops} GFLOP/s, ${l.msPerStep} ms/step)`,
    )
    runs.push({ mlp: m, lm: l, device: g.device ?? g.name })
  }
  const torchMlp = torchRun('mlp', 'cuda', 1)
  const torchLm = torchRun('lm', 'cuda', 1)
  const bestMlp = best(runs.map((r) => r.mlp)) as Throughput
  const bestLm = best(runs.map((r) => r.lm)) as Throughput
  const ratio = (ours: Throughput, theirs: TorchRun | string) =>
    typeof theirs === 'string' ? null : round(ours.samplesPerSec / theirs.samplesPerSec, 2)
  for (const [name, t, ours] of [
    ['mlp', torchMlp, bestMlp],
    ['lm', torchLm, bestLm],
  ] as const)
    console.log(
      typeof t === 'string'
        ? `pytorch-cuda ${name}: skipped (${t})`
        : `pytorch-cuda ${name}: ${t.samplesPerSec.toLocaleString()} samples/s, ${t.gflops} GFLOP/s → Tandem / PyTorch = ${ratio(ours, t)}`,
    )
  console.log(
    JSON.stringify({
      mode: 'gpu',
      gpu: runs.map((r) => r.device),
      runs,
      torchCuda: {
        mlp: typeof torchMlp === 'string' ? null : torchMlp,
        lm: typeof torchLm === 'string' ? null : torchLm,
      },
      ratioVsTorchCuda: { mlp: ratio(bestMlp, torchMlp), lm: ratio(bestLm, torchLm) },
    }),
  )
}

async function cpuBench(): Promise<void> {
  const statuses = await probeAll()
  describeModels()

  // auto's own measurement, as a node would make it (threads = this machine's, no cache).
  const auto = new TrainingEngine({ maxThreads: threads })
  const autoMlp = await auto.measure(mlp, MLP_BATCH)
  console.log(`auto, MLP:\n${formatSpeedTable(autoMlp, '  ')}`)
  const autoLm = await auto.measure(lm, LM_BATCH)
  console.log(`auto, LM:\n${formatSpeedTable(autoLm, '  ')}`)

  const mlpRuns: Throughput[] = []
  const lmRuns: Throughput[] = []
  for (const s of statuses.filter((x) => x.available)) {
    const backend = s.name
    const software = s.software === true
    const cpuLike = backend === 'wasm' || backend === 'cpu'
    const workerCounts = cpuLike && threads > 1 ? [1, threads] : [1]
    for (const workers of workerCounts) {
      const steps = backend === 'cpu' ? 8 : software ? 15 : 40
      const m = await throughput(mlp, backend, software, workers, MLP_BATCH, steps)
      mlpRuns.push(m)
      console.log(
        `mlp  ${backend.padEnd(14)} workers ${workers}: ${m.samplesPerSec.toLocaleString()} samples/s, ${m.gflops} GFLOP/s, ${m.msPerStep} ms/step${software ? ' (software adapter)' : ''}`,
      )
      if (backend === 'cpu') continue // minutes per LM run; the MLP figure says enough
      const l = await throughput(lm, backend, software, workers, LM_BATCH, software ? 6 : 12)
      lmRuns.push(l)
      console.log(
        `lm   ${backend.padEnd(14)} workers ${workers}: ${l.samplesPerSec.toLocaleString()} sequences/s (${round(l.samplesPerSec * 64).toLocaleString()} tokens/s), ${l.gflops} GFLOP/s, ${l.msPerStep} ms/step${software ? ' (software adapter)' : ''}`,
      )
    }
  }

  // auto's choice against the fastest backend measured here at the worker count auto uses.
  const agrees = (table: SpeedTable, runs: Throughput[], batch: number) => {
    const workers = Math.min(threads, batch)
    const fastest = best(
      runs.filter(
        (r) => r.workers === workers || (r.workers === 1 && !['wasm', 'cpu'].includes(r.backend)),
      ),
    )
    return {
      choice: table.chosen,
      fastestMeasured: fastest?.backend ?? null,
      agrees: table.chosen === fastest?.backend,
    }
  }
  const autoCheck = {
    mlp: agrees(autoMlp, mlpRuns, MLP_BATCH),
    lm: agrees(autoLm, lmRuns, LM_BATCH),
  }
  console.log(
    `auto chose ${autoCheck.mlp.choice} (MLP) and ${autoCheck.lm.choice} (LM); fastest in the runs above: ${autoCheck.mlp.fastestMeasured} and ${autoCheck.lm.fastestMeasured}`,
  )

  const stepCost: StepCost[] = []
  for (const optimizer of ['ops', 'fused', 'ops', 'fused'] as const)
    stepCost.push(await wasmStepCost(optimizer))
  for (const c of stepCost)
    console.log(
      `wasm MLP step, AdamW ${c.optimizer.padEnd(5)}: ${c.kernelsPerStep} kernels/step, ${c.msPerStep} ms/step, of which optimizer ${c.optimizerMsPerStep} ms`,
    )

  const int8Ms = deltaAndCompressMsPerMillion('int8')
  const topkMs = deltaAndCompressMsPerMillion('topk')
  console.log(
    `compute Δ and compress it with error feedback: int8 ${int8Ms} ms, top-1% ${topkMs} ms per million parameters`,
  )

  // PyTorch CPU with one thread and with all of them; the ratio is against its best.
  const torchMlpRuns = [1, threads]
    .filter((n, i, all) => all.indexOf(n) === i)
    .map((n) => torchRun('mlp', 'cpu', n))
  const torchLmRuns = [1, threads]
    .filter((n, i, all) => all.indexOf(n) === i)
    .map((n) => torchRun('lm', 'cpu', n))
  const torchLm: TorchRun | string =
    best(torchLmRuns.filter((t): t is TorchRun => typeof t !== 'string')) ??
    (torchLmRuns[0] as string)
  const torchMlp = best(torchMlpRuns.filter((t): t is TorchRun => typeof t !== 'string'))
  const bestMlp = best(mlpRuns) as Throughput
  const bestLm = best(lmRuns)
  const ratio = torchMlp ? round(bestMlp.samplesPerSec / torchMlp.samplesPerSec, 2) : null
  const lmRatio =
    typeof torchLm !== 'string' && bestLm
      ? round(bestLm.samplesPerSec / torchLm.samplesPerSec, 2)
      : null
  for (const t of torchMlpRuns)
    console.log(
      typeof t === 'string'
        ? `pytorch-cpu mlp: skipped (${t})`
        : `pytorch-cpu mlp (${t.threads} threads): ${t.samplesPerSec.toLocaleString()} samples/s, ${t.gflops} GFLOP/s`,
    )
  for (const t of torchLmRuns)
    if (typeof t !== 'string')
      console.log(
        `pytorch-cpu lm (${t.threads} threads): ${t.samplesPerSec.toLocaleString()} sequences/s, ${t.gflops} GFLOP/s`,
      )
  if (torchMlp)
    console.log(
      `best Tandem / best PyTorch CPU: MLP ${ratio} (${bestMlp.backend}, ${bestMlp.workers} workers), LM ${lmRatio}`,
    )

  const tableJson = (t: SpeedTable) => ({
    chosen: t.chosen,
    why: t.why,
    speeds: t.speeds.map((s) => ({
      name: s.name,
      software: s.software,
      samplesPerSec: s.samplesPerSec === null ? null : round(s.samplesPerSec),
    })),
  })
  console.log(
    JSON.stringify({
      threads,
      mlp: bestMlp,
      mlpRuns,
      lm: bestLm,
      lmParams: countParams(lm),
      lmRuns,
      auto: { mlp: tableJson(autoMlp), lm: tableJson(autoLm), check: autoCheck },
      wasmMlpStep: stepCost,
      deltaCompressMsPerMParam: { int8: int8Ms, topk1pct: topkMs },
      torchMlp: torchMlp
        ? {
            samplesPerSec: torchMlp.samplesPerSec,
            gflops: torchMlp.gflops,
            threads: torchMlp.threads,
          }
        : null,
      torchLm:
        typeof torchLm === 'string'
          ? null
          : {
              samplesPerSec: torchLm.samplesPerSec,
              gflops: torchLm.gflops,
              threads: torchLm.threads,
            },
      ratioVsTorch: ratio,
      lmRatioVsTorch: lmRatio,
    }),
  )
}

await (gpuMode ? gpuBench() : cpuBench())
