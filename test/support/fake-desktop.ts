/**
 * The desktop app (electron/main/desktop.ts) started against the fake `electron`, with a small
 * scripted node behind the real utility-process service (node-service.ts) and the real contract
 * dispatcher: what main does with windows, the tray, power signals, links and IPC can be checked
 * without the Electron binary. The node here is a stand-in: the real one in the shell's node host
 * is covered by test/integration/electron/node-host.test.ts.
 */
import { EventEmitter } from 'node:events'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import type { ApiEvent, NodeStatus, Settings } from '../../core/api/contract.js'
import type { Handlers } from '../../core/api/dispatch.js'
import type { ShellEnvironment, ShellNode } from '../../core/api/shell.js'
import { defaultSettings } from '../../core/node/settings.js'
import { startDesktop, type Desktop, type DesktopOptions } from '../../electron/main/desktop.js'
import type { ProcessInfo } from '../../electron/main/exclusive-apps.js'
import type { MessagePortLike } from '../../electron/main/electron-like.js'
import { isNodeInit } from '../../electron/main/node-messages.js'
import { serveNode } from '../../electron/main/node-service.js'
import type { UpdaterLike } from '../../electron/main/updates.js'
import { FakeElectron, type FakeUtilityProcess } from './fake-electron.js'
import { waitUntil } from './wait.js'

export const NODE_KEY = 'ab'.repeat(32)

/** The scripted node: status follows pause/resume and what the shell reports. */
export class ScriptedNode extends EventEmitter {
  readonly envs: ShellEnvironment[] = []
  readonly network: string[] = []
  readonly calls: string[] = []
  settings: Settings = defaultSettings(4)
  userPaused = false
  pauseAfterRound = false
  activity: NodeStatus['activity'] = 'training'
  closed = false
  /** Closing never finishes (a node stuck on quit). */
  hangOnClose = false

  status(): NodeStatus {
    return {
      activity: this.userPaused ? 'paused' : this.activity,
      reason: this.userPaused ? 'paused by you' : 'no limits apply',
      userPaused: this.userPaused,
      pauseAfterRound: this.pauseAfterRound,
      key: NODE_KEY,
      displayId: 'test-node',
      peers: 0,
      backend: null,
      progress: null,
      startedAt: 0,
    }
  }

  push(event: ApiEvent): void {
    this.emit('event', event)
  }

  handlers(): Partial<Handlers> {
    const after = (name: string) => {
      this.calls.push(name)
      this.push({ event: 'status', data: this.status() })
      return this.status()
    }
    return {
      'node.status': () => this.status(),
      'node.pause': ({ mode }) => {
        if (mode === 'after-round') this.pauseAfterRound = true
        else this.userPaused = true
        return after(`pause:${mode}`)
      },
      'node.resume': () => {
        this.userPaused = false
        this.pauseAfterRound = false
        return after('resume')
      },
      'settings.get': () => this.settings,
      'settings.set': (patch) => {
        this.settings = { ...this.settings, ...patch }
        this.push({ event: 'settings', data: this.settings })
        return this.settings
      },
    }
  }

  shellNode(): ShellNode {
    // The shell uses only these parts of the node; `settings` is unused by the service.
    const node = {
      on: (event: 'event', listener: (e: ApiEvent) => void) => this.on(event, listener),
      setEnvironment: (env: ShellEnvironment) => void this.envs.push(env),
      settings: { get: () => this.settings, on: () => node },
      net: {
        suspend: () => Promise.resolve(void this.network.push('suspend')),
        resume: () => Promise.resolve(void this.network.push('resume')),
      },
      close: () => {
        this.closed = true
        return this.hangOnClose ? new Promise<void>(() => {}) : Promise.resolve()
      },
    }
    return node
  }
}

export interface FakeDesktopOptions {
  packaged?: boolean
  env?: Record<string, string | undefined>
  argv?: string[]
  platform?: NodeJS.Platform
  processes?: ProcessInfo[]
  updater?: UpdaterLike
  /** Nodes for successive process starts (a crash starts the next); default one fresh node. */
  nodes?: ScriptedNode[]
  stopDeadlineMs?: number
  /** Don't wait for the node to be running. */
  noWait?: boolean
}

export interface FakeDesktop {
  electron: FakeElectron
  desktop: Desktop
  node: () => ScriptedNode
  forks: FakeUtilityProcess[]
  dir: string
  processes: ProcessInfo[]
  /** Quits the app like the tray's Quit: waits until the node stopped. */
  quit(): Promise<void>
}

/** The renderer folder the fake serves on app://: a minimal index.html. */
async function rendererDir(dir: string): Promise<string> {
  const renderer = join(dir, 'renderer')
  await mkdir(join(renderer, 'assets'), { recursive: true })
  await writeFile(join(renderer, 'index.html'), '<!doctype html><title>Tandem</title>')
  await writeFile(join(renderer, 'assets', 'app.js'), 'console.log(1)')
  await writeFile(join(dir, 'secret.txt'), 'not for the page')
  return renderer
}

export async function startFakeDesktop(
  t: TestContext,
  opts: FakeDesktopOptions = {},
): Promise<FakeDesktop> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-desktop-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const electron = new FakeElectron({ userData: join(dir, 'userData'), appPath: dir })
  await mkdir(join(dir, 'userData'), { recursive: true })
  electron.app.isPackaged = opts.packaged ?? true
  const nodes = opts.nodes ?? [new ScriptedNode()]
  let current = nodes[0]!
  let started = 0
  const forks: FakeUtilityProcess[] = []
  const fork = electron.utilityProcess.fork
  electron.utilityProcess.fork = (modulePath: string, args: string[] = []) => {
    const child = fork(modulePath, args)
    forks.push(child)
    const node = nodes[Math.min(started++, nodes.length - 1)]!
    child.on('fake-message', (message: unknown, transfer: MessagePortLike[]) => {
      if (!isNodeInit(message) || !transfer[0]) return
      current = node
      void serveNode({
        port: transfer[0],
        options: message.options,
        exit: (code) => child.exitWith(code),
        start: (_o, emit) => {
          node.on('event', emit)
          return Promise.resolve({
            handlers: node.handlers(),
            node: node.shellNode(),
            close: () => node.shellNode().close(),
          })
        },
      })
    })
    return child
  }
  const processes = [...(opts.processes ?? [])]
  const options: DesktopOptions = {
    electron,
    argv: opts.argv ?? ['/opt/Tandem/tandem'],
    env: opts.env ?? {},
    platform: opts.platform ?? 'linux',
    files: {
      renderer: await rendererDir(dir),
      preload: join(dir, 'preload/index.cjs'),
      nodeEntry: join(dir, 'main/node.js'),
      trayIcon: join(dir, 'icons/tray.png'),
    },
    listProcesses: () => Promise.resolve(processes),
    ...(opts.updater ? { updater: () => Promise.resolve(opts.updater!) } : {}),
    stopDeadlineMs: opts.stopDeadlineMs ?? 2000,
    uid: 1000,
    warn: () => {},
  }
  const desktop = startDesktop(options)
  if (!desktop) throw new Error('startDesktop refused to start (single-instance lock)')
  electron.app.becomeReady()
  await desktop.ready
  const quit = async () => {
    const sup = desktop.supervisor()
    electron.app.quit()
    if (sup) await waitUntil(() => sup.state.state === 'stopped', 'the node to stop', 5000)
  }
  t.after(quit)
  if (!opts.noWait && desktop.supervisor()) {
    await waitUntil(() => desktop.supervisor()!.state.state === 'running', 'the node to run', 5000)
  }
  return { electron, desktop, node: () => current, forks, dir, processes, quit }
}
