/**
 * How `auto` times one backend: real training steps of the job's own model and batch, in the
 * workers a job would use, on synthetic batches, for the measuring budget (measure-speeds.ts). A
 * backend slower than the budget's cap is cut off at its next step boundary. The pause, stop and
 * duty-cycle controls of a job do not apply (the measurement has its own control buffer), except
 * that stopping the engine ends it.
 */
import { TandemError } from '../api/errors.js'
import {
  DEFAULT_BUDGET,
  StepTimer,
  type MeasureBudget,
  type Measurement,
} from './backends/measure-speeds.js'
import { measurementData } from './backends/measurement-data.js'
import { GPU_BACKENDS } from './backends/measured-choice.js'
import type { BackendName, BackendSelection } from './backends/probe.js'
import type { TrainRequest } from './engine.js'
import type { InnerJob } from './inner-loop.js'
import { initialWeights } from './model/init.js'
import { DEFAULT_ADAMW } from './optim/adamw.js'
import type { ModelSpec } from './spec/schema.js'
import { CTL, STATE } from './worker/protocol.js'

/** What timing needs from the engine: its workers, and whether it was stopped. */
export interface TimingHost {
  budget?: Partial<MeasureBudget>
  /** The engine's own stop (stop() while measuring ends the measurement). */
  stopped(): boolean
  /** Runs `req` on `name` in the engine's workers under `control`; `onReady` once they are up. */
  run(
    req: TrainRequest,
    name: BackendName,
    control: Int32Array,
    onReady: (selection: BackendSelection) => BackendSelection,
  ): Promise<unknown>
  /** Ends the workers (also those abandoned mid-step at the cap). */
  terminate(): Promise<void>
}

export async function timeBackend(
  host: TimingHost,
  name: BackendName,
  spec: ModelSpec,
  batchSize: number,
  weights?: Float32Array,
): Promise<Measurement> {
  const budget = { ...DEFAULT_BUDGET, ...host.budget }
  const control = new Int32Array(new SharedArrayBuffer(8))
  Atomics.store(control, CTL.dutyPermille, 1000)
  const timer = new StepTimer(batchSize, budget)
  const halt = () => {
    Atomics.store(control, CTL.state, STATE.stopped)
    Atomics.notify(control, CTL.state)
  }
  let cap: ReturnType<typeof setTimeout> | undefined
  let cutOff = false
  let startCap = () => {}
  // Terminating a worker in the middle of a Dawn call aborts the whole process (measured with
  // the webgpu package): a GPU step is always let finish, up to a long safety limit.
  const grace = GPU_BACKENDS.includes(name) ? 60_000 : Math.max(500, budget.capMs / 2)
  const capped = new Promise<'cap'>((resolve) => {
    // The cap runs from when the workers are ready: then the backend stops at its next step
    // boundary; a step still running a grace period later is abandoned (workers terminated).
    startCap = () => {
      cap = setTimeout(() => {
        cutOff = true
        halt()
        cap = setTimeout(() => resolve('cap'), grace)
      }, budget.capMs)
    }
  })
  const req: TrainRequest = {
    job: measurementJob(spec, budget.maxSteps + 1, weights),
    batchSize,
    openData: () => measurementData(spec, batchSize),
    onStep: (info) => {
      if (host.stopped()) halt()
      else if (timer.add(info.step, info.ms, info.samples)) halt()
    },
  }
  try {
    const outcome = await Promise.race([
      host
        .run(req, name, control, (selection) => {
          startCap()
          return selection
        })
        .then(
          () => 'done' as const,
          (err: unknown) => {
            if ((err as { code?: string }).code === 'ENGINE_STOPPED') return 'done' as const
            throw err
          },
        ),
      capped,
    ])
    if (host.stopped()) throw new TandemError('ENGINE_STOPPED', 'training stopped')
    return timer.result(cutOff || outcome === 'cap')
  } finally {
    clearTimeout(cap)
    await host.terminate()
  }
}

/** A measurement trains from the job's own weights when it has them, else a fixed initialisation. */
function measurementJob(spec: ModelSpec, steps: number, weights?: Float32Array): InnerJob {
  return {
    spec,
    weights: weights ?? initialWeights(spec, 1),
    steps,
    schedule: { peakLr: 1e-3, warmupSteps: 0, totalSteps: steps, minLrRatio: 1 },
    adamw: DEFAULT_ADAMW,
    stepOffset: 0,
  }
}
