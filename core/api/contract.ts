/**
 * The local API contract: every request, response and pushed event between the UI (Electron
 * renderer or a browser) and a Tandem node is declared here once, with zod. Types are derived from
 * the schemas, never written twice. Pure TypeScript: no Node and no DOM imports, so the renderer,
 * the Electron shell and the core daemon all share it.
 *
 * Two transports carry it (Electron IPC and WebSocket on 127.0.0.1); both move the same
 * RequestEnvelope → Outcome pairs and the same EventEnvelope pushes.
 */
import { z } from 'zod'

const Hex32 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters')
const Time = z.number().int().min(0)
const NonNeg = z.number().min(0)

export const AppInfo = z.object({
  name: z.literal('tandem'),
  version: z.string(),
  host: z.enum(['electron', 'daemon']),
  platform: z.string(),
  node: z.string(),
})
export type AppInfo = z.infer<typeof AppInfo>

export const BACKEND_NAMES = ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'] as const
export const BackendChoice = z.enum(['auto', ...BACKEND_NAMES])

// ---------------------------------------------------------------------------------------------
// Preferences. Versioned: a stored file of an older version is migrated (core/node/settings.ts),
// never rejected. Every field has a default so `{}` is a valid v1 patch target.

const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24-hour)')

export const ScheduleWindow = z
  .object({
    /** 0 = Sunday … 6 = Saturday, local time. */
    day: z.number().int().min(0).max(6),
    start: HHMM,
    /** Exclusive; "00:00" or earlier than start means until midnight of that day. */
    end: HHMM,
  })
  .strict()
export type ScheduleWindow = z.infer<typeof ScheduleWindow>

export const SETTINGS_VERSION = 1

export const Settings = z
  .object({
    version: z.literal(SETTINGS_VERSION),
    /** Train only while the user is away (the shell reports idle time; headless: ignored). */
    runWhenIdleOnly: z.boolean(),
    idleMinutes: z.number().int().min(1).max(240),
    pauseOnBattery: z.boolean(),
    /** CPU threads the engine may use. */
    maxThreads: z.number().int().min(1).max(256),
    useGpu: z.boolean(),
    backend: BackendChoice,
    /** The comfort governor: fraction of wall time spent computing, (0.05, 1]. */
    dutyCycle: z.number().min(0.05).max(1),
    schedule: z.object({ enabled: z.boolean(), windows: z.array(ScheduleWindow).max(64) }).strict(),
    /** KiB/s; 0 = unlimited. */
    uploadKiBps: z.number().int().min(0).max(10_000_000),
    downloadKiBps: z.number().int().min(0).max(10_000_000),
    /** Disk budget per joined project, MiB. */
    diskCapMiB: z.number().int().min(64).max(10_000_000),
    startAtLogin: z.boolean(),
  })
  .strict()
export type Settings = z.infer<typeof Settings>

/** A partial update: any subset of fields, each validated; version is not settable. */
export const SettingsPatch = Settings.omit({ version: true }).partial().strict()
export type SettingsPatch = z.infer<typeof SettingsPatch>

// ---------------------------------------------------------------------------------------------
// Node status

export const NodeActivity = z.enum(['training', 'paused', 'idle', 'waiting', 'offline'])
export type NodeActivity = z.infer<typeof NodeActivity>

/** One backend's measured training speed on a model (engine/backends/speed.ts). */
export const BackendSpeed = z.object({
  name: z.string(),
  device: z.string(),
  /** A GPU adapter that is a CPU emulation (llvmpipe, SwiftShader, WARP, a fallback adapter). */
  software: z.boolean(),
  /** Null when it was not measured (unavailable, failed, or no step within the cap). */
  samplesPerSec: NonNeg.nullable(),
  msPerStep: NonNeg.nullable(),
  steps: z.number().int().min(0),
  detail: z.string(),
})
export type BackendSpeed = z.infer<typeof BackendSpeed>

/** `auto`'s measured table: every backend's speed on one model and batch, and why one won. */
export const SpeedTable = z.object({
  workload: z.string(),
  key: z.string(),
  measuredAt: Time,
  cached: z.boolean(),
  speeds: z.array(BackendSpeed).max(16),
  chosen: z.string(),
  why: z.string(),
})
export type SpeedTable = z.infer<typeof SpeedTable>

export const BackendReport = z.object({
  chosen: z.string(),
  device: z.string(),
  /** Why each better backend was not used. */
  skipped: z.array(z.object({ name: z.string(), reason: z.string() })),
  /** With `auto`: the measured speed of every backend and why the chosen one won. */
  measured: SpeedTable.optional(),
})
export type BackendReport = z.infer<typeof BackendReport>

export const RoundProgress = z.object({
  project: Hex32,
  round: z.number().int().min(0),
  phase: z.enum(['downloading', 'training', 'uploading', 'submitted', 'closed']),
  step: z.number().int().min(0),
  steps: z.number().int().min(0),
  /** Seconds until this node's part of the round is done; null when unknown. */
  etaSec: NonNeg.nullable(),
  samplesPerSec: NonNeg,
  loss: z.number().nullable(),
})
export type RoundProgress = z.infer<typeof RoundProgress>

export const NodeStatus = z.object({
  activity: NodeActivity,
  /** Human-readable reason for the activity, e.g. "on battery", "outside schedule window". */
  reason: z.string(),
  /** Paused by the user, and whether a "finish this round, then pause" is pending. */
  userPaused: z.boolean(),
  pauseAfterRound: z.boolean(),
  key: Hex32,
  displayId: z.string(),
  peers: z.number().int().min(0),
  backend: BackendReport.nullable(),
  progress: RoundProgress.nullable(),
  startedAt: Time,
})
export type NodeStatus = z.infer<typeof NodeStatus>

export const Preflight = z.object({
  backend: BackendReport,
  memory: z.object({ totalBytes: NonNeg, freeBytes: NonNeg }),
  disk: z.object({ path: z.string(), freeBytes: NonNeg }),
  network: z.object({ online: z.boolean(), peers: z.number().int().min(0) }),
  /** False with reasons when this machine cannot contribute. */
  canHelp: z.boolean(),
  problems: z.array(z.string()),
})
export type Preflight = z.infer<typeof Preflight>

// ---------------------------------------------------------------------------------------------
// Projects, credits, receipts

/**
 * A project's charter as shown (core/ledger/charter.ts holds the rules; this is the view). Absent
 * from projects created before charters (manifest version 1): "no charter".
 */
export const CharterView = z.object({
  purpose: z.string(),
  prohibitedUses: z.array(z.string()),
  weights: z.object({
    licence: z.string(),
    download: z.enum(['everyone', 'contributors', 'nobody']),
  }),
  dataSources: z.array(
    z.object({ name: z.string(), licence: z.string(), url: z.string().optional() }),
  ),
  host: z.object({
    name: z.string(),
    contact: z.string(),
    keys: z.array(Hex32).optional(),
  }),
  governance: z.object({
    recentRounds: z.number().int().optional(),
    weighting: z.enum(['one-per-contributor', 'reputation']),
    quorum: z.number(),
    threshold: z.number(),
    votingPeriod: z.union([
      z.object({ rounds: z.number().int() }),
      z.object({ seconds: z.number().int() }),
    ]),
  }),
})
export type CharterView = z.infer<typeof CharterView>

export const ProjectSummary = z.object({
  key: Hex32,
  name: z.string(),
  description: z.string(),
  joined: z.boolean(),
  /** This node writes the project's ledger. */
  hosting: z.boolean(),
  paused: z.boolean(),
  /** Relative resource share among joined projects (BOINC's "resource share"). */
  share: z.number().int().min(1).max(10_000),
  round: z.number().int().min(0),
  contributors: z.number().int().min(0),
  model: z.object({ kind: z.string(), params: z.number().int().min(0), gflopPerSample: NonNeg }),
  dataset: z.object({
    key: Hex32,
    name: z.string(),
    license: z.string(),
    bytes: NonNeg,
  }),
  host: Hex32,
  /** Per-round traffic of one contributor (checkpoint down + update up), bytes. */
  bandwidthPerRound: NonNeg,
  diskBytes: NonNeg,
  recipe: z.object({
    innerSteps: z.number().int(),
    batchSize: z.number().int(),
    roundDeadlineSec: z.number().int(),
    rule: z.string(),
  }),
  credits: NonNeg,
  reputation: z.number().min(0).max(1).nullable(),
  /** The charter in effect now; null: the project has none. Optional for older nodes. */
  charter: CharterView.nullable().optional(),
})
export type ProjectSummary = z.infer<typeof ProjectSummary>

// ---------------------------------------------------------------------------------------------
// Governance (docs/governance.md)

export const ProposalStatus = z.enum(['open', 'passed', 'failed'])

export const ProposalView = z.object({
  /** The proposal's id: its ledger block index. */
  id: z.number().int().min(1),
  title: z.string(),
  /** Ledger round when proposed. */
  round: z.number().int().min(0),
  proposedAt: Time,
  /** The change as proposed (core/ledger/amendments.ts Change). */
  change: z.record(z.string(), z.unknown()),
  /** What it changes: one line per field, value in effect now → proposed value (JSON text). */
  diff: z.array(z.object({ field: z.string(), from: z.string(), to: z.string() })),
  status: ProposalStatus,
  closesAfterRound: z.number().int().min(0).nullable(),
  effectiveRound: z.number().int().min(0).nullable(),
  enactedAt: z.number().int().min(0).nullable(),
  yes: NonNeg,
  no: NonNeg,
  eligibleWeight: NonNeg,
  eligibleVoters: z.number().int().min(0),
  quorumMet: z.boolean(),
  /** Recorded votes that did not count (forged, duplicate, late, ineligible). */
  rejectedVotes: z.number().int().min(0),
  /** It changes purpose, licence or data: contributors who do not vote yes are paused. */
  changesTerms: z.boolean(),
  /** This node may vote on it (eligible, open, not voted yet). */
  canVote: z.boolean(),
  myVote: z.enum(['yes', 'no']).nullable(),
})
export type ProposalView = z.infer<typeof ProposalView>

export const GovernanceView = z.object({
  project: Hex32,
  charter: CharterView.nullable(),
  /** This node writes the ledger (and so may propose). */
  hosting: z.boolean(),
  round: z.number().int().min(0),
  terms: z.object({
    current: z.string(),
    accepted: z.string().nullable(),
    /** This node is paused for the project until it accepts the terms in effect. */
    paused: z.boolean(),
  }),
  proposals: z.array(ProposalView),
})
export type GovernanceView = z.infer<typeof GovernanceView>

export const GovernanceEvent = z.object({
  project: Hex32,
  proposal: z.number().int().min(1),
  title: z.string(),
  /**
   * opened: a new proposal; closed: its vote ended (status passed or failed); vote-omitted: the
   * decided tally does not count a vote of this node that the host signed a receipt for.
   */
  kind: z.enum(['opened', 'closed', 'vote-omitted']),
  status: ProposalStatus,
})
export type GovernanceEvent = z.infer<typeof GovernanceEvent>

/** A contributor's signed flag on a project, as spread through the swarm (core/node/flags.ts). */
export const FlagView = z.object({
  project: Hex32,
  flagger: Hex32,
  at: Time,
  reason: z.string(),
})
export type FlagView = z.infer<typeof FlagView>

export const ModelExport = z.object({
  path: z.string(),
  bytes: z.number().int().min(0),
  round: z.number().int().min(0),
  /** The model card written beside the weights (Markdown). */
  cardPath: z.string(),
  verified: z.boolean(),
})
export type ModelExport = z.infer<typeof ModelExport>

export const ReceiptView = z.object({
  project: Hex32,
  projectName: z.string(),
  round: z.number().int().min(0),
  closedAt: Time,
  updateHash: Hex32,
  accepted: z.boolean(),
  reason: z.string().nullable(),
  samples: z.number().int().min(0),
  quality: z.number().min(0).max(1),
  credits: NonNeg,
  lossBefore: z.number().nullable(),
  lossAfter: z.number().nullable(),
  /** When the host received the offer, by the host's clock (as the receipt records it). */
  receivedAt: Time.optional(),
  /** The deadline the round closed under. */
  deadline: Time.optional(),
  /** When this node first sent the offer, by this node's clock. */
  offeredAt: Time.optional(),
})
export type ReceiptView = z.infer<typeof ReceiptView>

export const ProjectCredits = z.object({
  project: Hex32,
  name: z.string(),
  credits: NonNeg,
  /** Recent average credit, per day, as of now. */
  rac: NonNeg,
  reputation: z.number().min(0).max(1),
  accepted: z.number().int().min(0),
  rejected: z.number().int().min(0),
})

export const CreditsSummary = z.object({
  total: NonNeg,
  rac: NonNeg,
  projects: z.array(ProjectCredits),
  /** Cumulative credits after each receipt, oldest first. */
  history: z.array(z.object({ t: Time, total: NonNeg })),
})
export type CreditsSummary = z.infer<typeof CreditsSummary>

export const VerifyProblem = z.object({ code: z.string(), message: z.string() })
export const VerifyReport = z.object({
  project: Hex32,
  ok: z.boolean(),
  rounds: z.array(
    z.object({ round: z.number().int().min(0), ok: z.boolean(), problems: z.array(VerifyProblem) }),
  ),
})
export type VerifyReport = z.infer<typeof VerifyReport>

export const LossPoint = z.object({
  t: Time,
  project: Hex32,
  round: z.number().int().min(0),
  step: z.number().int().min(0),
  loss: z.number(),
  /** 'train': an inner step on this node; 'validation': the global model after a round closed. */
  kind: z.enum(['train', 'validation']),
})
export type LossPoint = z.infer<typeof LossPoint>

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const
export const LogLevel = z.enum(LOG_LEVELS)
export const LogEntry = z.object({
  t: Time,
  level: LogLevel,
  /** e.g. node, engine, net, host, data, api */
  subsystem: z.string().max(32),
  msg: z.string().max(2000),
})
export type LogEntry = z.infer<typeof LogEntry>

// ---------------------------------------------------------------------------------------------
// Methods

const NoParams = z.object({}).strict()
const ProjectParam = z.object({ project: Hex32 }).strict()
const Ok = z.object({ ok: z.literal(true) })

/** Method name → params and result schemas. Grows append-only: never rename a method. */
export const Methods = {
  'app.info': { params: NoParams, result: AppInfo },
  'node.status': { params: NoParams, result: NodeStatus },
  'node.preflight': { params: NoParams, result: Preflight },
  /** mode 'after-round': finish the current round, then pause. */
  'node.pause': {
    params: z.object({ mode: z.enum(['now', 'after-round']).default('now') }).strict(),
    result: NodeStatus,
  },
  'node.resume': { params: NoParams, result: NodeStatus },
  /** The shell reports user idle time (seconds) and power source; the daemon never calls it. */
  'node.environment': {
    params: z.object({ idleSec: NonNeg.optional(), onBattery: z.boolean().optional() }).strict(),
    result: Ok,
  },
  'projects.list': { params: NoParams, result: z.array(ProjectSummary) },
  'projects.get': { params: ProjectParam, result: ProjectSummary },
  /** `project` may be a hex key or a tandem://project/<key> link. */
  'projects.join': {
    params: z
      .object({
        project: z.string().min(1).max(200),
        share: z.number().int().min(1).max(10_000).optional(),
      })
      .strict(),
    result: ProjectSummary,
  },
  'projects.leave': { params: ProjectParam, result: Ok },
  'projects.setShare': {
    params: z.object({ project: Hex32, share: z.number().int().min(1).max(10_000) }).strict(),
    result: ProjectSummary,
  },
  'projects.setPaused': {
    params: z.object({ project: Hex32, paused: z.boolean() }).strict(),
    result: ProjectSummary,
  },
  'credits.summary': { params: NoParams, result: CreditsSummary },
  'receipts.list': {
    params: z
      .object({
        project: Hex32.optional(),
        limit: z.number().int().min(1).max(10_000).default(200),
      })
      .strict(),
    result: z.array(ReceiptView),
  },
  'ledger.verify': { params: ProjectParam, result: VerifyReport },
  'settings.get': { params: NoParams, result: Settings },
  'settings.set': { params: SettingsPatch, result: Settings },
  'logs.tail': {
    params: z
      .object({
        limit: z.number().int().min(1).max(5000).default(500),
        level: LogLevel.optional(),
        subsystem: z.string().max(32).optional(),
      })
      .strict(),
    result: z.array(LogEntry),
  },
  'metrics.loss': {
    params: z
      .object({
        project: Hex32.optional(),
        limit: z.number().int().min(1).max(10_000).default(2000),
      })
      .strict(),
    result: z.array(LossPoint),
  },
  /** Text generated by the project's current global model (LM projects only). */
  'model.sample': {
    params: z
      .object({
        project: Hex32,
        prompt: z.string().max(256).default(''),
        length: z.number().int().min(1).max(1000).default(200),
      })
      .strict(),
    result: z.object({ round: z.number().int().min(0), text: z.string() }),
  },
  /**
   * The image an image-model project classifies (its model's input), or null for a project whose
   * model takes no images (language models, plain feature vectors). For the "try it" upload.
   */
  'model.imageInput': {
    params: ProjectParam,
    result: z
      .object({
        height: z.number().int().min(1),
        width: z.number().int().min(1),
        channels: z.number().int().min(1),
        classes: z.number().int().min(1),
      })
      .nullable(),
  },
  /**
   * Class probabilities of one image under the project's current global model. `pixels` are
   * row-major height·width·channels intensities from 0 to 255 (the node scales them as its dataset
   * stores images); a wrong count is BAD_ARGUMENT, a project without an image model too.
   */
  'model.classify': {
    params: z
      .object({
        project: Hex32,
        pixels: z
          .array(z.number().min(0).max(255))
          .min(1)
          .max(1 << 20),
        top: z.number().int().min(1).max(100).default(3),
      })
      .strict(),
    result: z.object({
      round: z.number().int().min(0),
      probabilities: z.array(z.number().min(0).max(1)),
      top: z.array(
        z.object({
          index: z.number().int().min(0),
          probability: z.number().min(0).max(1),
          /** The class's name from the dataset header (absent: the dataset names none). */
          label: z.string().optional(),
        }),
      ),
    }),
  },
  /** Charter, terms and proposals of a project (docs/governance.md). */
  'governance.get': { params: ProjectParam, result: GovernanceView },
  /** The host proposes a change (only on the node that writes the ledger). */
  'governance.propose': {
    params: z
      .object({
        project: Hex32,
        title: z.string().trim().min(1).max(200),
        change: z.record(z.string(), z.unknown()),
      })
      .strict(),
    result: ProposalView,
  },
  /** A contributor's signed vote, sent to the host and recorded in the ledger. */
  'governance.vote': {
    params: z
      .object({
        project: Hex32,
        proposal: z.number().int().min(1),
        choice: z.enum(['yes', 'no']),
      })
      .strict(),
    result: ProposalView,
  },
  /** Accepts the terms now in effect: a contributor paused over a change of terms trains again. */
  'governance.acceptTerms': { params: ProjectParam, result: GovernanceView },
  /** The flags this node knows on a project (from its peers; docs/governance.md). */
  'projects.flags': { params: ProjectParam, result: z.array(FlagView) },
  /** Flags a project as this node (one flag per project; signed; spread to its peers). */
  'projects.flag': {
    params: z.object({ project: Hex32, reason: z.string().trim().min(1).max(500) }).strict(),
    result: z.array(FlagView),
  },
  /**
   * Writes a checkpoint (default: the latest) as safetensors + a model card, if the charter lets
   * this node download the weights (EXPORT_NOT_ALLOWED otherwise). `path`: absolute, .safetensors.
   */
  'model.export': {
    params: z
      .object({
        project: Hex32,
        round: z.number().int().min(0).optional(),
        /** Absent: the node's own exports folder (<data dir>/exports), e.g. for the UI. */
        path: z
          .string()
          .min(2)
          .max(4096)
          .regex(
            /^(\/|[A-Za-z]:[\\/]).*\.safetensors$/i,
            'must be an absolute path ending in .safetensors',
          )
          .optional(),
        verify: z.boolean().default(true),
      })
      .strict(),
    result: ModelExport,
  },
} as const

export type MethodName = keyof typeof Methods
export type MethodParams<M extends MethodName> = z.input<(typeof Methods)[M]['params']>
export type MethodResult<M extends MethodName> = z.infer<(typeof Methods)[M]['result']>
/** What a handler receives: params after validation, defaults filled in. */
export type MethodParsedParams<M extends MethodName> = z.infer<(typeof Methods)[M]['params']>

// ---------------------------------------------------------------------------------------------
// Events pushed by the node to every connected UI

export const Events = {
  status: NodeStatus,
  progress: RoundProgress,
  loss: LossPoint,
  receipt: ReceiptView,
  credits: CreditsSummary,
  projects: z.array(ProjectSummary),
  settings: Settings,
  log: LogEntry,
  /** A proposal opened or its vote closed (docs/governance.md). */
  governance: GovernanceEvent,
  /** A flag on a project arrived or was made. */
  flag: FlagView,
} as const

export type EventName = keyof typeof Events
export type EventData<E extends EventName> = z.infer<(typeof Events)[E]>
export type ApiEvent = { [E in EventName]: { event: E; data: EventData<E> } }[EventName]

export const EventEnvelope = z.object({ event: z.string().min(1).max(64), data: z.unknown() })

/** Validates a pushed event; null when the name is unknown or the data does not match. */
export function parseEvent(raw: unknown): ApiEvent | null {
  const env = EventEnvelope.safeParse(raw)
  if (!env.success || !Object.hasOwn(Events, env.data.event)) return null
  const name = env.data.event as EventName
  const data = Events[name].safeParse(env.data.data)
  return data.success ? ({ event: name, data: data.data } as ApiEvent) : null
}

/** What crosses a transport for one call. `id` pairs a response with its request. */
export const RequestEnvelope = z.object({
  id: z.number().int().nonnegative(),
  method: z.string().min(1).max(64),
  params: z.unknown().optional(),
})
export type RequestEnvelope = z.infer<typeof RequestEnvelope>

export type Outcome<T> = { ok: true; value: T } | { ok: false; code: string; message: string }
