/**
 * The local API contract (core/api/contract.ts) implemented on a ContributorNode: one handler per
 * method. The dispatcher validated the params already and validates every result, so handlers only
 * map node state to contract shapes. Both transports (Electron IPC, the daemon's HTTP/WebSocket)
 * serve this same object.
 */
import { arch, platform } from 'node:os'
import type Hypercore from 'hypercore'
import type { AppInfo, ProjectSummary } from '../api/contract.js'
import type { Handlers } from '../api/dispatch.js'
import { TandemError } from '../api/errors.js'
import { Dataset } from '../data/dataset.js'
import { recordBytes, vocabSize, type DatasetHeader, type TensorLayout } from '../data/header.js'
import { encodedSize } from '../engine/compress/codec.js'
import { compressOnce } from '../engine/compress/error-feedback.js'
import { classify, imageShape } from '../engine/classify.js'
import { sampleTokens } from '../engine/generate.js'
import { countParams, trainFlopsPerSample } from '../engine/spec/cost.js'
import { verifyLedger } from '../host/verify.js'
import { effectiveManifest } from '../ledger/governance.js'
import type { Manifest } from '../ledger/manifest.js'
import {
  readCheckpoint,
  readLedger,
  readManifestBlock,
  type LedgerState,
} from '../ledger/reader.js'
import { replayStanding } from '../ledger/standing.js'
import { packageInfo } from '../util/package-info.js'
import { CoalescedRun } from './coalesced-run.js'
import { governanceHandlers } from './governance-api.js'
import { DiscoveredProjects } from './discovered-projects.js'
import type { ContributorNode } from './node.js'
import { parseProjectRef } from './project-ref.js'

interface ProjectFacts {
  manifest: Manifest
  header: DatasetHeader | null
  ledger: LedgerState | null
}

/** Projects summarised at once while building the list. */
const LIST_CONCURRENCY = 4
/** How long the list waits on a peer for each block of a project this node has not joined. */
const LIST_TIMEOUT_MS = 2_000

function datasetBytes(h: DatasetHeader): number {
  return h.records * recordBytes(h.layout)
}

export function createApi(node: ContributorNode, shell: AppInfo['host']): Handlers {
  // A project pushed as soon as it can be listed: a first-run page open before the host's
  // announcement reached this node would otherwise list nothing until it reconnects.
  const discovered = DiscoveredProjects.forNode(node, () => pushProjects())
  const store = node.datasets.corestore

  /** The ledger state a participant holds, else read from `core` (opened and ready). */
  async function ledgerState(project: string, core: Hypercore) {
    return (
      node.participant(project)?.ledgerState ??
      (await readLedger(core, { wait: true, timeout: 10_000 }).catch(() => {
        throw new TandemError('PROJECT_NOT_FOUND', `project ${project} is not reachable`)
      }))
    )
  }

  /**
   * A project's manifest, ledger state and tensor dataset layout (null for token datasets), for
   * the image "try it" methods. With `keepOpen` the ledger core stays open for a checkpoint read
   * and the caller closes it; otherwise it is closed here.
   */
  async function imageModel(project: string, keepOpen = false) {
    const core = store.get({ key: Buffer.from(project, 'hex') })
    try {
      await core.ready()
      const state = await ledgerState(project, core)
      const manifest = state.manifest
      let layout: TensorLayout | null = null
      if (manifest.model.type !== 'transformer') {
        const ds = await Dataset.open(
          store.get({ key: Buffer.from(manifest.dataset.key, 'hex') }),
          { timeoutMs: 10_000 }, // the header only: local for members, else briefly from peers
        )
        if (ds.header.layout.kind === 'tensors') layout = ds.header.layout
        await ds.close()
      }
      if (!keepOpen) await core.close().catch(() => {})
      return { manifest, layout, core, state }
    } catch (err) {
      await core.close().catch(() => {})
      throw err
    }
  }

  /** Manifest, dataset header and ledger of a project, from local cores or briefly from peers. */
  async function facts(key: string, timeoutMs = 10_000): Promise<ProjectFacts> {
    const core = store.get({ key: Buffer.from(key, 'hex') })
    try {
      await core.ready()
      const block = await core.get(0, { wait: true, timeout: timeoutMs }).catch(() => null)
      if (!block)
        throw new TandemError('PROJECT_NOT_FOUND', `project ${key} is not reachable right now`)
      const manifest = readManifestBlock(block)
      // A member's participant holds the ledger as read; for others read it now (a contributor
      // never downloads the outer-state blocks, so waiting is needed to read a ledger whole).
      const ledger =
        node.participant(key)?.ledgerState ??
        (await readLedger(core, { wait: true, timeout: timeoutMs }).catch(() => null))
      let header: DatasetHeader | null = null
      const ds = await Dataset.open(store.get({ key: Buffer.from(manifest.dataset.key, 'hex') }), {
        wait: node.participant(key) !== undefined,
        timeoutMs: 2000,
      }).catch(() => null)
      if (ds) {
        header = ds.header
        await ds.close()
      }
      return { manifest, header, ledger }
    } finally {
      // Opened only for this read: what it read is returned or thrown already, and the store
      // closes the core with itself, so a failed close cannot change the answer.
      await core.close().catch(() => {})
    }
  }

  async function summary(key: string, timeoutMs?: number): Promise<ProjectSummary> {
    const { manifest, header, ledger } = await facts(key, timeoutMs)
    const joined = node.joinedProjects().find((p) => p.key === key)
    const announce = discovered.get(key)
    const me = node.identity.publicKey.toString('hex')
    const receipts = ledger?.rounds.flatMap((r) => (r.receipt ? [r.receipt] : [])) ?? []
    const standing = replayStanding(manifest, receipts)
    const contributors = new Set(receipts.flatMap((r) => r.contributions.map((c) => c.contributor)))
    const params = countParams(manifest.model)
    const updateBytes = encodedSize(
      compressOnce(new Float32Array(params), manifest.recipe.compression),
    )
    const dataBytes = header ? datasetBytes(header) : 0
    return {
      key,
      name: manifest.name,
      description: manifest.description,
      joined: Boolean(joined),
      hosting: node.hosting === key,
      paused: joined?.paused ?? false,
      share: joined?.share ?? 100,
      round: ledger ? ledger.rounds.length - 1 : (announce?.round ?? 0),
      contributors: Math.max(contributors.size, announce?.contributors ?? 0),
      model: {
        kind: manifest.model.type,
        params,
        gflopPerSample: trainFlopsPerSample(manifest.model) / 1e9,
      },
      dataset: {
        key: manifest.dataset.key,
        name: header?.name ?? 'unknown (not downloaded yet)',
        license: header?.license ?? 'unknown',
        bytes: dataBytes,
      },
      host: manifest.host,
      // Each round: the checkpoint down (f32 weights) and one compressed update up.
      bandwidthPerRound: params * 4 + updateBytes,
      diskBytes: dataBytes + params * 8 * 2,
      recipe: {
        innerSteps: manifest.recipe.innerSteps,
        batchSize: manifest.recipe.batchSize,
        roundDeadlineSec: manifest.recipe.roundDeadlineSec,
        rule: (ledger ? effectiveManifest(ledger, ledger.rounds.length - 1) : manifest).aggregation
          .rule,
      },
      credits: standing.get(me)?.credits ?? 0,
      reputation: standing.get(me)?.reputation ?? null,
      charter:
        (ledger ? effectiveManifest(ledger, ledger.rounds.length - 1) : manifest).charter ?? null,
    }
  }

  /** Summaries of joined, hosted and discovered projects; unreachable ones are left out. */
  async function buildList(): Promise<ProjectSummary[]> {
    const mine = new Set(node.joinedProjects().map((p) => p.key))
    if (node.hosting) mine.add(node.hosting)
    const keys = [...new Set([...mine, ...discovered.keys()])]
    const out: Array<ProjectSummary | null> = keys.map(() => null)
    // A few at a time, and briefly for projects not joined: one unreachable project must not
    // hold up the list.
    let next = 0
    const worker = async () => {
      while (next < keys.length) {
        const i = next++
        const key = keys[i]!
        try {
          out[i] = await summary(key, mine.has(key) ? undefined : LIST_TIMEOUT_MS)
        } catch (err) {
          node.log.child('api').debug(`project ${key.slice(0, 8)}: ${(err as Error).message}`)
        }
      }
    }
    await Promise.all(Array.from({ length: LIST_CONCURRENCY }, worker))
    return out.filter((p): p is ProjectSummary => p !== null)
  }

  // One rebuild at a time: requests meanwhile share the next one (an announce flood once queued
  // thousands of rebuilds).
  const rebuild = new CoalescedRun(buildList)
  const list = () => rebuild.request()

  const pushProjects = () => {
    list().then(
      (projects) => node.push({ event: 'projects', data: projects }),
      (err: unknown) => node.log.child('api').warn(`project list: ${String(err)}`),
    )
  }

  return {
    ...governanceHandlers(node),
    'app.info': () => ({
      name: 'tandem',
      version: packageInfo().version,
      host: shell,
      platform: `${platform()}-${arch()}`,
      node: process.versions.node,
    }),
    'node.status': () => node.status(),
    'node.preflight': () => node.preflight(),
    'node.pause': ({ mode }) => {
      node.pause(mode)
      return node.status()
    },
    'node.resume': () => {
      node.resume()
      return node.status()
    },
    'node.environment': (env) => {
      node.setEnvironment(env)
      return { ok: true as const }
    },
    'projects.list': () => list(),
    'projects.get': ({ project }) => summary(project),
    'projects.join': async ({ project, share }) => {
      const key = parseProjectRef(project)
      // Refuse a key that names no project before remembering it: the manifest must be reachable.
      await facts(key, 15_000)
      await node.join(key, share)
      pushProjects()
      return summary(key)
    },
    'projects.leave': async ({ project }) => {
      await node.leave(project)
      pushProjects()
      return { ok: true as const }
    },
    'projects.setShare': ({ project, share }) => {
      node.updateProject(project, { share })
      pushProjects()
      return summary(project)
    },
    'projects.setPaused': ({ project, paused }) => {
      node.updateProject(project, { paused })
      pushProjects()
      return summary(project)
    },
    'credits.summary': () => node.creditsSummary(),
    'receipts.list': ({ project, limit }) =>
      node.state
        .get()
        .receipts.filter((r) => !project || r.project === project)
        .slice(-limit)
        .reverse(),
    'ledger.verify': async ({ project }) => {
      const ledger = store.get({ key: Buffer.from(project, 'hex') })
      try {
        await ledger.ready()
        const block = await ledger.get(0, { wait: true, timeout: 10_000 }).catch(() => null)
        if (!block)
          throw new TandemError('PROJECT_NOT_FOUND', `project ${project} is not reachable`)
        const manifest = readManifestBlock(block)
        const dataset = await node.datasets.open(manifest.dataset.key, { timeoutMs: 30_000 })
        try {
          const report = await verifyLedger({ ledger, store, dataset, timeoutMs: 30_000 })
          return {
            project,
            ok: report.ok,
            rounds: [
              ...(report.problems.length
                ? [{ round: 0, ok: false, problems: report.problems }]
                : []),
              ...report.rounds.map((r) => ({ round: r.round, ok: r.ok, problems: r.problems })),
            ],
          }
        } finally {
          await dataset.close()
        }
      } finally {
        await ledger.close().catch(() => {}) // read-only session for this call, as above
      }
    },
    'settings.get': () => node.settings.get(),
    'settings.set': (patch) => node.settings.update(patch),
    'logs.tail': (q) => node.log.tail(q),
    'metrics.loss': ({ project, limit }) =>
      node.state
        .get()
        .loss.filter((p) => !project || p.project === project)
        .slice(-limit),
    'model.imageInput': async ({ project }) => {
      const { manifest, layout } = await imageModel(project)
      if (!layout) return null
      try {
        return { ...imageShape(manifest.model, layout.shape), classes: layout.labels.classes }
      } catch (err) {
        if (err instanceof TandemError && err.code === 'BAD_ARGUMENT') return null
        throw err
      }
    },
    'model.classify': async ({ project, pixels, top }) => {
      const { manifest, layout, core, state } = await imageModel(project, true)
      try {
        if (!layout || !state)
          throw new TandemError('BAD_ARGUMENT', 'only image-model projects classify images')
        const shape = imageShape(manifest.model, layout.shape)
        const size = shape.height * shape.width * shape.channels
        if (pixels.length !== size)
          throw new TandemError(
            'BAD_ARGUMENT',
            `the model takes ${shape.height}×${shape.width}×${shape.channels} = ${size} pixel values, not ${pixels.length}`,
          )
        // 8-bit image datasets store 0..255 and train on stored × scale (1/255); wider types too.
        const features = Float32Array.from(pixels, (v) => v * layout.scale)
        const round = state.rounds.length - 1
        const { weights } = await readCheckpoint(core, state, round, {
          wait: true,
          timeout: 10_000,
        })
        return { round, ...(await classify(manifest.model, weights, features, top)) }
      } finally {
        await core.close().catch(() => {})
      }
    },
    'model.sample': async ({ project, prompt, length }) => {
      const core = store.get({ key: Buffer.from(project, 'hex') })
      try {
        await core.ready()
        const state = await ledgerState(project, core)
        const manifest = state.manifest
        if (manifest.model.type !== 'transformer')
          throw new TandemError('BAD_ARGUMENT', 'only language-model projects generate text')
        const round = state.rounds.length - 1
        const { weights } = await readCheckpoint(core, state, round, {
          wait: true,
          timeout: 10_000,
        })
        const ds = await Dataset.open(
          store.get({ key: Buffer.from(manifest.dataset.key, 'hex') }),
          {
            wait: false,
          },
        )
        const layout = ds.header.layout
        await ds.close()
        if (layout.kind !== 'tokens' || vocabSize(layout) > manifest.model.vocab)
          throw new TandemError(
            'SPEC_MISMATCH',
            "the model's vocabulary does not match its dataset",
          )
        const encode = (text: string): number[] =>
          layout.vocab.kind === 'byte'
            ? [...Buffer.from(text, 'utf8')]
            : [...text].flatMap((ch) => {
                const i = (layout.vocab as { symbols: string[] }).symbols.indexOf(ch)
                return i >= 0 ? [i] : []
              })
        const decode = (ids: number[]): string =>
          layout.vocab.kind === 'byte'
            ? Buffer.from(ids).toString('utf8')
            : ids.map((i) => (layout.vocab as { symbols: string[] }).symbols[i] ?? '').join('')
        const ids = await sampleTokens(manifest.model, weights, {
          prompt: encode(prompt),
          length,
          seed: round + 1,
        })
        return { round, text: prompt + decode(ids) }
      } finally {
        await core.close().catch(() => {}) // read-only session for this call, as above
      }
    },
  }
}
