/**
 * A training worker thread: selects and initialises a backend, runs one inner loop, and reports each
 * step. Batches are requested from the host a few steps ahead so data never stalls compute.
 */
import { parentPort } from 'node:worker_threads'
import { isTandemError, TandemError } from '../../api/errors.js'
import { selectBackend, type BackendName } from '../backends/probe.js'
import {
  settleWebgpu,
  webgpuFaults,
  webgpuHealth,
  webgpuLimits,
} from '../backends/webgpu-device.js'
import type { Batch } from '../batch.js'
import { decayMask, runInnerLoop, type StepInfo } from '../inner-loop.js'
import { HostAdamW } from '../optim/host-adamw.js'
import { BACKEND_FAULT, CTL, STATE, type FromWorker, type ToWorker } from './protocol.js'

const PREFETCH = 2

if (!parentPort) throw new Error('engine worker must run in a worker thread')
const port = parentPort
const send = (msg: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer)

const pending = new Map<number, { resolve: (b: Batch) => void }>()
const arrived = new Map<number, Batch>()
let requested = -1

function request(upTo: number, last: number): void {
  while (requested < Math.min(upTo, last)) send({ type: 'need-batch', step: ++requested })
}

function batchFor(step: number, last: number): Promise<Batch> {
  request(step + PREFETCH, last)
  const ready = arrived.get(step)
  if (ready) {
    arrived.delete(step)
    return Promise.resolve(ready)
  }
  return new Promise((resolve) => pending.set(step, { resolve }))
}

/** Between steps: honour pause, stop and the duty cycle. Blocking here is fine: this is a worker. */
function throttle(control: Int32Array, info: StepInfo): void {
  const duty = Atomics.load(control, CTL.dutyPermille) / 1000
  if (duty > 0 && duty < 1)
    Atomics.wait(control, CTL.state, STATE.running, (info.ms * (1 - duty)) / duty)
  while (Atomics.load(control, CTL.state) === STATE.paused)
    Atomics.wait(control, CTL.state, STATE.paused, 1000)
}

let backend: BackendName | undefined

function fail(err: unknown): void {
  const code = isTandemError(err) ? err.code : BACKEND_FAULT
  let message = (err instanceof Error ? err.message || err.name : String(err)) || 'unknown error'
  // An op on a lost WebGPU device fails with whatever the API says (often an empty OperationError):
  // say what happened.
  const lost = backend === 'webgpu' ? webgpuHealth()?.lost : null
  if (lost && !message.includes('device was lost'))
    message = `the GPU device was lost (${lost}): ${message}`
  send({
    type: 'error',
    code,
    message,
    ...(backend ? { backend } : {}),
  })
}

async function select(msg: Extract<ToWorker, { type: 'select' }>): Promise<void> {
  try {
    const selection = await selectBackend(msg.backend, msg.exclude)
    backend = selection.chosen
    const gpuLimits = webgpuLimits()
    send({ type: 'ready', selection, ...(gpuLimits ? { gpuLimits } : {}) })
  } catch (err) {
    fail(err)
  }
}

async function run(msg: Extract<ToWorker, { type: 'run' }>): Promise<void> {
  const control = new Int32Array(msg.control)
  try {
    // Alone, the optimizer runs as tfjs ops on the training device (measured faster than a JS loop
    // even on wasm: 17.8 vs 25.2 ms per MLP step). Data-parallel workers share one AdamW in host
    // memory, each updating its own slice of the parameters.
    const hostOptimizer = msg.parallel
      ? new HostAdamW(msg.job.weights, decayMask(msg.job.spec), msg.job.adamw, msg.parallel)
      : undefined
    const result = await runInnerLoop(msg.job, {
      nextBatch: (step) => batchFor(step, msg.job.steps - 1),
      ...(hostOptimizer ? { hostOptimizer } : {}),
      settle: settleWebgpu,
      onStep: (info) => {
        const fault = msg.fault
        if (fault && fault.backend === backend && fault.step === info.step) {
          if (fault.kind === 'device-lost') webgpuFaults.loseDevice()
          else if (fault.kind === 'gpu-error') webgpuFaults.validationError()
          else throw new Error(`injected ${backend} failure at step ${info.step}`)
        }
        send({ type: 'step', info })
        throttle(control, info)
        if (Atomics.load(control, CTL.state) === STATE.stopped)
          throw new TandemError('ENGINE_STOPPED', 'training stopped')
      },
    })
    send(
      {
        type: 'done',
        delta: result.delta,
        losses: result.losses,
        samples: result.samples,
        seconds: result.seconds,
      },
      [result.delta.buffer as ArrayBuffer],
    )
  } catch (err) {
    fail(err)
  }
}

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'batch') {
    const waiter = pending.get(msg.step)
    if (waiter) {
      pending.delete(msg.step)
      waiter.resolve(msg.batch)
    } else arrived.set(msg.step, msg.batch)
  } else if (msg.type === 'select') {
    void select(msg)
  } else {
    void run(msg)
  }
})
