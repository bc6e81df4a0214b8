/**
 * Messages between the engine host (main thread) and a training worker thread. Typed arrays travel
 * as transferables; control (pause, stop, duty cycle) goes through a SharedArrayBuffer so it reaches
 * a worker that is busy computing or sleeping, within one step.
 */
import type { BackendName, BackendPreference, BackendSelection } from '../backends/probe.js'
import type { GpuLimits } from '../backends/webgpu-device.js'
import type { Batch } from '../batch.js'
import type { InnerJob, StepInfo } from '../inner-loop.js'
import type { HostParallel } from '../optim/host-adamw.js'

/** Int32 slots of the control buffer. */
export const CTL = { state: 0, dutyPermille: 1 } as const
export const STATE = { running: 0, paused: 1, stopped: 2 } as const

export type ToWorker =
  | { type: 'select'; backend: BackendPreference; exclude: BackendName[] }
  | {
      type: 'run'
      job: InnerJob
      control: SharedArrayBuffer
      parallel?: HostParallel
      /** Test hook: make the named backend fail at this step, to exercise fallback. */
      fault?: EngineFault
    }
  | { type: 'batch'; step: number; batch: Batch }

/**
 * A fault injected for tests: `throw` (default) throws from the step; on WebGPU `device-lost`
 * destroys the device and `gpu-error` causes one real validation error, as a driver reset or a
 * faulty kernel would, and the backend's own checks must notice.
 */
export interface EngineFault {
  backend: BackendName
  step: number
  kind?: 'throw' | 'device-lost' | 'gpu-error'
}

/** Error code of a failure inside the backend (not a coded Tandem error): the host falls back. */
export const BACKEND_FAULT = 'BACKEND_FAULT'

export type FromWorker =
  | { type: 'ready'; selection: BackendSelection; gpuLimits?: GpuLimits }
  | { type: 'need-batch'; step: number }
  | { type: 'step'; info: StepInfo }
  | { type: 'done'; delta: Float32Array; losses: number[]; samples: number; seconds: number }
  | { type: 'error'; code: string; message: string; backend?: BackendName }
