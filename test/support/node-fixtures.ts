/**
 * Contributor-node fixtures: a real ContributorNode (own home dir, identity, corestore, swarm) on a
 * loopback testnet, training on the cpu backend, closed when the test ends; small helpers to wait
 * on its events and the engine's steps; and a node in a child process (node-process.ts) to kill.
 */
import type { TestContext } from 'node:test'
import type { ApiEvent, RoundProgress } from '../../core/api/contract.js'
import type { StepInfo } from '../../core/engine/inner-loop.js'
import { ContributorNode, type ContributorNodeOptions } from '../../core/node/node.js'
import type { ReceiptRecord } from '../../core/node/participant/participant.js'
import { defer, openStore, tempDir } from './data.js'
import { createLearnableDataset, hostProjectIn, hostSpec, type TestHost } from './host-fixtures.js'
import type { TestNetwork } from './swarm.js'
import { spawnJsonProcess, type JsonEvent, type JsonProcess } from './process.js'

export interface TestNodeOptions extends Partial<Omit<ContributorNodeOptions, 'bootstrap'>> {
  /** Written before the node starts (as if the person had set them in an earlier run). */
  settings?: Record<string, unknown>
}

/**
 * A contributor node on `net`. By default the engine is forced to the cpu backend with one thread;
 * pass `engine` to choose (what it names wins over the settings, as in ContributorNode).
 */
export async function startTestNode(
  t: TestContext,
  net: TestNetwork,
  opts: TestNodeOptions = {},
): Promise<ContributorNode> {
  const { settings, ...rest } = opts
  const home = opts.home ?? (await tempDir(t, 'tandem-node-home-'))
  const node = await ContributorNode.open({
    shell: 'daemon',
    engine: { backend: 'cpu', maxThreads: 1 },
    fetchTimeoutMs: 20_000,
    ...rest,
    home,
    bootstrap: net.bootstrap,
  })
  defer(t, () => node.close())
  node.log.on('entry', (e) => {
    if (e.level === 'warn' || e.level === 'error') t.diagnostic(`node ${e.level}: ${e.msg}`)
  })
  if (settings) await node.settings.update(settings)
  return node
}

type EventData<E extends ApiEvent['event']> = Extract<ApiEvent, { event: E }>['data']

/** Resolves with the first pushed event that matches (only events after the call). */
export function nextEvent<E extends ApiEvent['event']>(
  node: ContributorNode,
  event: E,
  match: (data: EventData<E>) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<EventData<E>> {
  return new Promise<EventData<E>>((resolve, reject) => {
    const timer = setTimeout(() => {
      node.off('event', on)
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))
    }, timeoutMs)
    const on = (e: ApiEvent) => {
      if (e.event !== event) return
      const data = e.data as unknown as EventData<E>
      if (!match(data)) return
      clearTimeout(timer)
      node.off('event', on)
      // (TypeScript cannot see through the distributive Extract here.)
      ;(resolve as (d: unknown) => void)(data)
    }
    node.on('event', on)
  })
}

/** Training progress of a project's round (a step of it, not the 'downloading' placeholder). */
export function trainingStep(
  node: ContributorNode,
  match: (p: RoundProgress) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<RoundProgress> {
  return nextEvent(
    node,
    'progress',
    (p) => p.phase === 'training' && p.step > 0 && match(p),
    what,
    timeoutMs,
  )
}

/** The receipt of `project`'s round `round`, already in the participant or still to come. */
export async function receiptFor(
  node: ContributorNode,
  project: string,
  round: number,
  timeoutMs = 60_000,
): Promise<ReceiptRecord> {
  const participant = node.participant(project)
  if (!participant) throw new Error(`not a member of ${project}`)
  const have = () => participant.receipts().find((r) => r.round === round)
  const found = have()
  if (found) return found
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      participant.off('receipt', on)
      reject(new Error(`timed out after ${timeoutMs} ms waiting for the receipt of round ${round}`))
    }, timeoutMs)
    const on = () => {
      const r = have()
      if (!r) return
      clearTimeout(timer)
      participant.off('receipt', on)
      resolve(r)
    }
    participant.on('receipt', on)
  })
}

/** Every engine step, with the main thread's clock when it arrived. */
export type RecordedStep = StepInfo & {
  /** performance.now() when the step was reported. */
  at: number
  /** CPU time of this whole process (every thread) so far, ms. */
  cpuMs: number
}

export function recordSteps(node: ContributorNode): RecordedStep[] {
  const steps: RecordedStep[] = []
  node.engine.on('step', (info: StepInfo) => {
    const cpu = process.cpuUsage()
    steps.push({ ...info, at: performance.now(), cpuMs: (cpu.user + cpu.system) / 1000 })
  })
  return steps
}

/**
 * Like startTestHost (host-fixtures.ts), with a wider MLP (12 → hidden → 3): steps of tens of ms
 * instead of a few, for measurements that per-step scheduling noise would swamp. Not started.
 */
export async function startWideHost(
  t: TestContext,
  net: TestNetwork,
  recipe: Record<string, unknown>,
  hidden: number[] = [128, 128],
): Promise<TestHost> {
  const store = await openStore(t)
  const datasetKey = await createLearnableDataset(store)
  const base = hostSpec(datasetKey, recipe)
  const spec = { ...base, model: { ...base.model, hidden } } as typeof base
  return hostProjectIn(t, net, store, spec)
}

export type NodeProcessEvent = JsonEvent
export type NodeProcess = JsonProcess

/**
 * Starts test/support/node-process.ts (a contributor node via startNode) on `home`; killed with
 * SIGKILL when the test ends if still running.
 */
export function spawnNodeProcess(
  t: TestContext,
  home: string,
  bootstrap: string,
  options: { join?: string[]; share?: number; settings?: Record<string, unknown> } = {},
): NodeProcess {
  return spawnJsonProcess(
    t,
    'test/support/node-process.ts',
    [home, bootstrap, JSON.stringify(options)],
    'node',
  )
}
