/**
 * Keeps the node's utility process running: starts it, forwards contract calls and the desktop
 * session's reports to it, restarts it with exponential backoff after a crash (and says so, so
 * the UI and the tray can tell the person), and stops it on quit: a clean stop within a deadline,
 * then a kill.
 *
 * Backoff: 1 s after the first crash, doubling to at most 60 s; a node that ran for 2 minutes
 * before crashing starts again from 1 s. It never gives up: a node that cannot start (a broken
 * state directory, a full disk) says why each time, and the person can quit.
 */
import type { Outcome } from '../../core/api/contract.js'
import type { ShellEnvironment } from '../../core/api/shell.js'
import type { MessagePortLike, UtilityProcessLike } from './electron-like.js'
import { isFromNode, type FromNode, type ToNode } from './node-messages.js'

export type NodeState =
  | { state: 'starting'; restarts: number }
  | { state: 'running'; restarts: number }
  | {
      state: 'restarting'
      restarts: number
      /** Why it stopped: the exit code, or the node's own message when it could not start. */
      reason: string
      retryInMs: number
    }
  | { state: 'stopping'; restarts: number }
  | { state: 'stopped'; restarts: number; how: 'clean' | 'killed' }

export interface NodeProcess {
  child: UtilityProcessLike
  /** Main's end of the MessageChannelMain, already started. */
  port: MessagePortLike
}

export interface SupervisorOptions {
  /** Forks the utility process and connects a port to it (index.ts; a fake in tests). */
  spawn(): NodeProcess
  onEvent(event: unknown): void
  onState(state: NodeState): void
  backoff?: { initialMs: number; maxMs: number; stableMs: number }
  /** How long a clean stop may take before the process is killed (default 10 s). */
  stopDeadlineMs?: number
  now?: () => number
}

const DEFAULT_BACKOFF = { initialMs: 1000, maxMs: 60_000, stableMs: 120_000 }

export const NODE_DOWN: Outcome<never> = {
  ok: false,
  code: 'WRONG_STATE',
  message: 'the node is not running right now (it is starting or restarting)',
}

export class NodeSupervisor {
  private proc: NodeProcess | null = null
  private status: NodeState = { state: 'stopped', restarts: 0, how: 'clean' }
  private readonly pending = new Map<number, (outcome: Outcome<unknown>) => void>()
  private nextId = 1
  private crashes = 0
  private startedAt = 0
  private failure: string | null = null
  private retry: NodeJS.Timeout | null = null
  private env: ShellEnvironment = {}
  private network: 'suspend' | 'resume' = 'resume'
  private stopping: Promise<'clean' | 'killed'> | null = null
  private readonly backoff: typeof DEFAULT_BACKOFF
  private readonly now: () => number

  constructor(private readonly opts: SupervisorOptions) {
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF
    this.now = opts.now ?? Date.now
  }

  get state(): NodeState {
    return this.status
  }

  start(): void {
    if (this.proc || this.stopping) return
    this.launch()
  }

  /** Forwards one contract call; answered WRONG_STATE while the node is not running. */
  request(payload: unknown): Promise<Outcome<unknown>> {
    if (this.status.state !== 'running' || !this.proc) return Promise.resolve(NODE_DOWN)
    const id = this.nextId++
    const { port } = this.proc
    return new Promise((resolve) => {
      this.pending.set(id, resolve)
      this.post(port, { type: 'request', id, payload })
    })
  }

  /** The desktop session changed; kept and sent again to every new node process. */
  setEnvironment(env: ShellEnvironment): void {
    this.env = { ...this.env, ...env }
    if (this.env.hold === null) delete this.env.hold
    if (this.status.state === 'running' && this.proc)
      this.post(this.proc.port, { type: 'environment', env })
  }

  /** Suspends or resumes the swarm (sleep and wake-up). */
  setNetwork(action: 'suspend' | 'resume'): void {
    this.network = action
    if (this.status.state === 'running' && this.proc)
      this.post(this.proc.port, { type: 'network', action })
  }

  /** Asks the node to stop; kills it when it has not exited within the deadline. */
  stop(): Promise<'clean' | 'killed'> {
    if (this.stopping) return this.stopping
    if (this.retry) clearTimeout(this.retry)
    this.retry = null
    const proc = this.proc
    if (!proc) {
      this.setState({ state: 'stopped', restarts: this.crashes, how: 'clean' })
      return (this.stopping = Promise.resolve('clean'))
    }
    this.setState({ state: 'stopping', restarts: this.crashes })
    this.stopping = new Promise((resolve) => {
      let how: 'clean' | 'killed' = 'clean'
      const timer = setTimeout(() => {
        how = 'killed'
        proc.child.kill()
      }, this.opts.stopDeadlineMs ?? 10_000)
      proc.child.on('exit', () => {
        clearTimeout(timer)
        this.setState({ state: 'stopped', restarts: this.crashes, how })
        resolve(how)
      })
      this.post(proc.port, { type: 'stop' })
    })
    return this.stopping
  }

  private launch(): void {
    this.failure = null
    this.setState({ state: 'starting', restarts: this.crashes })
    const proc = this.opts.spawn()
    this.proc = proc
    this.startedAt = this.now()
    proc.port.on('message', (event: { data: unknown }) => {
      if (this.proc === proc && isFromNode(event.data)) this.receive(proc, event.data)
    })
    proc.child.on('exit', (code: number) => {
      if (this.proc === proc) this.exited(code)
    })
  }

  private receive(proc: NodeProcess, message: FromNode): void {
    switch (message.type) {
      case 'ready':
        this.setState({ state: 'running', restarts: this.crashes })
        // A new process knows nothing of the session yet: tell it everything reported so far.
        if (Object.keys(this.env).length > 0)
          this.post(proc.port, { type: 'environment', env: this.env })
        if (this.network === 'suspend') this.post(proc.port, { type: 'network', action: 'suspend' })
        return
      case 'failed':
        this.failure = message.message
        return
      case 'event':
        this.opts.onEvent(message.event)
        return
      case 'reply': {
        const resolve = this.pending.get(message.id)
        this.pending.delete(message.id)
        resolve?.(message.outcome)
        return
      }
      case 'stopped':
        return
    }
  }

  private exited(code: number): void {
    const proc = this.proc
    this.proc = null
    proc?.port.close()
    for (const resolve of this.pending.values()) resolve(NODE_DOWN)
    this.pending.clear()
    if (this.stopping) return
    if (this.now() - this.startedAt >= this.backoff.stableMs) this.crashes = 0
    const retryInMs = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** this.crashes)
    this.crashes++
    const reason = this.failure
      ? `it could not start: ${this.failure}`
      : `it exited unexpectedly (code ${code})`
    this.setState({ state: 'restarting', restarts: this.crashes, reason, retryInMs })
    this.retry = setTimeout(() => {
      this.retry = null
      if (!this.stopping) this.launch()
    }, retryInMs)
  }

  private post(port: MessagePortLike, message: ToNode): void {
    port.postMessage(message)
  }

  private setState(state: NodeState): void {
    this.status = state
    this.opts.onState(state)
  }
}

/** The supervisor's state in words, for the tray and the activity log. */
export function describeNodeState(state: NodeState): string {
  switch (state.state) {
    case 'starting':
      return state.restarts > 0 ? 'the node is restarting' : 'the node is starting'
    case 'running':
      return 'the node is running'
    case 'restarting':
      return `the node stopped: ${state.reason}; restarting in ${Math.ceil(state.retryInMs / 1000)} s`
    case 'stopping':
      return 'the node is stopping'
    case 'stopped':
      return state.how === 'killed'
        ? 'the node did not stop in time and was ended'
        : 'the node stopped'
  }
}
