/**
 * A node's state as the UI sees it, built from contract types: two joined-or-not projects, credits,
 * receipts, settings, logs and loss history. Deterministic (fixed clock), so screenshots compare.
 */
import type {
  CreditsSummary,
  LogEntry,
  LossPoint,
  NodeStatus,
  Preflight,
  ProjectSummary,
  ReceiptView,
  Settings,
  VerifyReport,
} from '../../core/api/contract.js'

export const T0 = Date.UTC(2026, 10, 20, 9, 0, 0)
export const LM_KEY = 'a1'.repeat(32)
export const MNIST_KEY = 'b2'.repeat(32)
export const CIFAR_KEY = 'c3'.repeat(32)
/** A well-formed key no fixture project has: joining it fails with PROJECT_NOT_FOUND. */
export const UNKNOWN_KEY = 'd4'.repeat(32)
const NODE_KEY = 'e5'.repeat(32)
const HOST_KEY = 'f6'.repeat(32)

export interface FixtureState {
  status: NodeStatus
  preflight: Preflight
  projects: ProjectSummary[]
  credits: CreditsSummary
  receipts: ReceiptView[]
  settings: Settings
  logs: LogEntry[]
  loss: LossPoint[]
  verify: Record<string, VerifyReport>
  samples: Record<string, string>
  /** Image projects' model input (`model.imageInput`); absent: not an image model. */
  images?: Record<string, { height: number; width: number; channels: number; classes: number }>
}

function project(
  key: string,
  name: string,
  over: Partial<ProjectSummary> & Pick<ProjectSummary, 'model'>,
): ProjectSummary {
  return {
    key,
    name,
    description: '',
    joined: false,
    hosting: false,
    paused: false,
    share: 100,
    round: 0,
    contributors: 1,
    dataset: { key: '00'.repeat(32), name: 'dataset', license: 'CC0-1.0', bytes: 1 << 20 },
    host: HOST_KEY,
    bandwidthPerRound: 2 << 20,
    diskBytes: 64 << 20,
    recipe: { innerSteps: 50, batchSize: 32, roundDeadlineSec: 600, rule: 'centered-clip' },
    credits: 0,
    reputation: null,
    ...over,
  }
}

function receipt(round: number, accepted: boolean, over: Partial<ReceiptView> = {}): ReceiptView {
  return {
    project: LM_KEY,
    projectName: 'Tiny Shakespeare LM',
    round,
    closedAt: T0 + round * 600_000,
    updateHash: round.toString(16).padStart(2, '0').repeat(32),
    accepted,
    reason: accepted ? null : 'update norm 9.1× the median (limit 4×)',
    samples: accepted ? 1600 : 0,
    quality: accepted ? 0.9 : 0,
    credits: accepted ? 12.5 : 0,
    lossBefore: 3.2 - round * 0.1,
    lossAfter: accepted ? 3.1 - round * 0.1 : null,
    ...over,
  }
}

/** A contributor mid-round on an LM project, one other project discovered. */
export function activeNodeFixture(): FixtureState {
  const lm = project(LM_KEY, 'Tiny Shakespeare LM', {
    description: 'A byte-level transformer that learns to write like Shakespeare.',
    joined: true,
    round: 12,
    contributors: 7,
    model: { kind: 'transformer', params: 471_000, gflopPerSample: 0.06 },
    dataset: {
      key: '11'.repeat(32),
      name: 'tinyshakespeare',
      license: 'Public domain',
      bytes: 1_115_394,
    },
    credits: 137.5,
    reputation: 0.92,
  })
  const mnist = project(MNIST_KEY, 'MNIST digits', {
    description: 'A small MLP that classifies handwritten digits.',
    round: 40,
    contributors: 23,
    model: { kind: 'mlp', params: 203_530, gflopPerSample: 0.0012 },
    dataset: { key: '22'.repeat(32), name: 'mnist', license: 'CC BY-SA 3.0', bytes: 54_880_000 },
    bandwidthPerRound: 1_600_000,
    diskBytes: 60_000_000,
  })
  const receipts = [
    ...Array.from({ length: 10 }, (_, i) => receipt(i + 1, i !== 6)),
    receipt(11, true, { credits: 14 }),
  ]
  const history = receipts.reduce<Array<{ t: number; total: number }>>((acc, r) => {
    acc.push({ t: r.closedAt, total: (acc.at(-1)?.total ?? 0) + r.credits })
    return acc
  }, [])
  const loss: LossPoint[] = []
  for (let round = 8; round <= 12; round++) {
    for (let step = 0; step < 10; step++) {
      loss.push({
        t: T0 + round * 600_000 + step * 30_000,
        project: LM_KEY,
        round,
        step: step * 5,
        loss: 3.3 - round * 0.1 - step * 0.004,
        kind: 'train',
      })
    }
    loss.push({
      t: T0 + round * 600_000 + 310_000,
      project: LM_KEY,
      round,
      step: 50,
      loss: 3.25 - round * 0.1,
      kind: 'validation',
    })
  }
  const subsystems = ['node', 'engine', 'net', 'host', 'data']
  const levels = ['debug', 'info', 'info', 'warn', 'info', 'error'] as const
  const logs: LogEntry[] = Array.from({ length: 30 }, (_, i) => ({
    t: T0 + i * 20_000,
    level: levels[i % levels.length]!,
    subsystem: subsystems[i % subsystems.length]!,
    msg: `fixture log line ${i}`,
  }))
  return {
    status: {
      activity: 'training',
      reason: 'computer idle for 12 minutes',
      userPaused: false,
      pauseAfterRound: false,
      key: NODE_KEY,
      displayId: 'quiet-otter-42',
      peers: 6,
      backend: {
        chosen: 'wasm',
        device: 'WebAssembly (2 threads)',
        skipped: [
          { name: 'tfjs-node-gpu', reason: 'no CUDA driver' },
          { name: 'webgpu', reason: 'no WebGPU adapter' },
        ],
      },
      progress: {
        project: LM_KEY,
        round: 12,
        phase: 'training',
        step: 30,
        steps: 50,
        etaSec: 95,
        samplesPerSec: 27.4,
        loss: 2.05,
      },
      startedAt: T0,
    },
    preflight: {
      backend: {
        chosen: 'wasm',
        device: 'WebAssembly (2 threads)',
        skipped: [
          { name: 'tfjs-node-gpu', reason: 'no CUDA driver' },
          { name: 'webgpu', reason: 'measured slower: 2,730 samples/s (software adapter)' },
        ],
        measured: {
          workload: 'mlp 784-256-10 (203,530 params), batch 256, 1 CPU worker',
          key: 'ef'.repeat(32),
          measuredAt: T0,
          cached: false,
          chosen: 'wasm',
          why: 'wasm measured fastest: 19,363 samples/s, 7.1× webgpu (software adapter)',
          speeds: [
            {
              name: 'wasm',
              device: 'WebAssembly (2 threads)',
              software: false,
              samplesPerSec: 19_363,
              msPerStep: 13.2,
              steps: 20,
              detail: 'measured',
            },
            {
              name: 'webgpu',
              device: 'mesa llvmpipe',
              software: true,
              samplesPerSec: 2730,
              msPerStep: 93.8,
              steps: 5,
              detail: 'measured',
            },
            {
              name: 'tfjs-node-gpu',
              device: 'tfjs-node-gpu',
              software: false,
              samplesPerSec: null,
              msPerStep: null,
              steps: 0,
              detail: 'no CUDA driver',
            },
          ],
        },
      },
      memory: { totalBytes: 24 * 2 ** 30, freeBytes: 17 * 2 ** 30 },
      disk: { path: '/home/ada/.local/share/tandem', freeBytes: 120 * 2 ** 30 },
      network: { online: true, peers: 6 },
      canHelp: true,
      problems: [],
    },
    projects: [lm, mnist],
    credits: {
      total: history.at(-1)?.total ?? 0,
      rac: 31.2,
      projects: [
        {
          project: LM_KEY,
          name: 'Tiny Shakespeare LM',
          credits: history.at(-1)?.total ?? 0,
          rac: 31.2,
          reputation: 0.92,
          accepted: 10,
          rejected: 1,
        },
      ],
      history,
    },
    receipts,
    settings: {
      version: 1,
      runWhenIdleOnly: false,
      idleMinutes: 5,
      pauseOnBattery: false,
      maxThreads: 2,
      useGpu: true,
      backend: 'auto',
      dutyCycle: 0.8,
      schedule: { enabled: false, windows: [{ day: 1, start: '22:00', end: '07:00' }] },
      uploadKiBps: 0,
      downloadKiBps: 0,
      diskCapMiB: 2048,
      startAtLogin: true,
    },
    logs,
    loss,
    verify: {
      [LM_KEY]: {
        project: LM_KEY,
        ok: true,
        rounds: Array.from({ length: 11 }, (_, i) => ({ round: i + 1, ok: true, problems: [] })),
      },
    },
    samples: { [LM_KEY]: 'ROMEO:\nWhat light through yonder window breaks? It is the east.' },
    images: { [MNIST_KEY]: { height: 28, width: 28, channels: 1, classes: 10 } },
  }
}

/** A fresh install: nothing joined, two projects to choose from. */
export function firstRunFixture(): FixtureState {
  const state = activeNodeFixture()
  const cifar: ProjectSummary = project(CIFAR_KEY, 'CIFAR-10 small CNN', {
    description: 'A small convolutional network for 32×32 colour images.',
    round: 3,
    contributors: 4,
    model: { kind: 'cnn', params: 1_250_000, gflopPerSample: 0.04 },
    dataset: { key: '33'.repeat(32), name: 'cifar-10', license: 'MIT', bytes: 170_000_000 },
    bandwidthPerRound: 10_000_000,
    diskBytes: 200_000_000,
  })
  return {
    ...state,
    status: { ...state.status, activity: 'idle', reason: 'no project joined', progress: null },
    projects: [
      ...state.projects.map((p) => ({ ...p, joined: false, credits: 0, reputation: null })),
      cifar,
    ],
    credits: { total: 0, rac: 0, projects: [], history: [] },
    receipts: [],
    loss: [],
  }
}
