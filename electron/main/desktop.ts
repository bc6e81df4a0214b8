/**
 * The desktop app, composed: main keeps only the window, the tray, the power and session
 * signals, and the IPC forwarding; the contributor node runs in its own utility process
 * (node-supervisor.ts, node-service.ts). index.ts calls `startDesktop` with the real `electron`
 * module; the tests call it with a fake one (test/support/fake-electron.ts).
 *
 * Before `ready`: the app:// scheme's privileges, the single-instance lock, the link handlers
 * (macOS delivers `open-url` early) and the guard on every web contents. At `ready`: permissions
 * denied, app:// served, the menu, the link scheme registered, then either the demo window (its
 * own node elsewhere) or the node, the tray, the window and the background update checks.
 */
import {
  parseEvent,
  type ApiEvent,
  type NodeStatus,
  type Outcome,
} from '../../core/api/contract.js'
import { dispatch } from '../../core/api/dispatch.js'
import { registerAppScheme, serveApp } from './app-protocol.js'
import { applyAutostart, startHidden } from './autostart.js'
import { DesktopPrefsStore } from './desktop-prefs.js'
import type { BrowserWindowLike, ElectronLike, PreventableEvent } from './electron-like.js'
import { ExclusivePrograms, offeredPrograms, type ListProcesses } from './exclusive-apps.js'
import { Holds } from './holds.js'
import { pushEvent, registerApi, uiUrlCheck } from './ipc.js'
import { joinPageUrl, LinkRouter, registerLinkScheme } from './links.js'
import type { NodeInit } from './node-messages.js'
import { describeNodeState, NodeSupervisor, type NodeState } from './node-supervisor.js'
import { noticeForEvent, Notifier } from './notifications.js'
import { PowerWatcher } from './power.js'
import { applyApplicationMenu, denyAllPermissions, guardAllWebContents } from './security.js'
import { DesktopTray, type TrayView } from './tray.js'
import { uiSource, type UiSource } from './ui-source.js'
import { UpdatePolicy, type UpdaterLike } from './updates.js'
import { createMainWindow, reveal } from './window.js'

export interface DesktopOptions {
  electron: ElectronLike
  argv: readonly string[]
  env: Record<string, string | undefined>
  platform: NodeJS.Platform
  files: {
    /** The renderer build (out/renderer), served on app://tandem/. */
    renderer: string
    preload: string
    /** The node's utility-process entry (out/main/node.js). */
    nodeEntry: string
    trayIcon: string
    windowIcon?: string
  }
  listProcesses: ListProcesses
  /** electron-updater's autoUpdater, loaded only in a packaged app; null: no updates. */
  updater?: () => Promise<UpdaterLike | null>
  /** User id (Unix) whose programs the picker offers. */
  uid?: number
  stopDeadlineMs?: number
  warn?: (line: string) => void
}

export interface Desktop {
  /** Resolves once the app is set up after `ready`. */
  ready: Promise<void>
  source(): UiSource | null
  window(): BrowserWindowLike | null
  supervisor(): NodeSupervisor | null
  tray(): DesktopTray | null
  trayView(): TrayView | null
  updates(): UpdatePolicy | null
  prefs(): DesktopPrefsStore | null
  exclusive(): ExclusivePrograms | null
}

/** Sets the app up; null when another instance runs (this one quits and hands over its argv). */
export function startDesktop(opts: DesktopOptions): Desktop | null {
  const { electron, env, platform } = opts
  const { app } = electron
  const warn = opts.warn ?? ((line: string) => process.stderr.write(`${line}\n`))

  registerAppScheme(electron.protocol)
  if (!app.requestSingleInstanceLock()) {
    app.quit()
    return null
  }

  let win: BrowserWindowLike | null = null
  let source: UiSource | null = null
  let supervisor: NodeSupervisor | null = null
  let tray: DesktopTray | null = null
  let updates: UpdatePolicy | null = null
  let prefs: DesktopPrefsStore | null = null
  let exclusive: ExclusivePrograms | null = null
  let view: TrayView | null = null
  let quitting = false

  const links = new LinkRouter()
  links.receive(opts.argv)
  app.on('second-instance', (_event: unknown, argv: string[]) => {
    // Another start (a second click on the icon, or the OS passing a link): show this one.
    if (!links.receive(argv)) showWindow()
  })
  app.on('open-url', (event: PreventableEvent, url: string) => {
    event.preventDefault()
    links.receive(url)
  })
  guardAllWebContents(app, electron.shell)

  const isTrusted = (url: string) => (source ? uiUrlCheck(source.url)(url) : false)
  const windows = () =>
    electron.BrowserWindow.getAllWindows()
      .filter((w) => !w.isDestroyed())
      .map((w) => w.webContents)
  const toUi = (event: ApiEvent | { event: string; data: unknown }) =>
    pushEvent(windows(), event, isTrusted)

  function openWindow(url?: string, hidden = false): BrowserWindowLike {
    const created = createMainWindow(electron.BrowserWindow, {
      source: source!,
      preloadFile: opts.files.preload,
      packaged: app.isPackaged,
      hidden,
      closeToTray: () => !quitting && tray !== null && (prefs?.get().closeToTray ?? true),
      warn,
      ...(opts.files.windowIcon ? { icon: opts.files.windowIcon } : {}),
      ...(url ? { url } : {}),
    })
    created.on('closed', () => {
      if (win === created) win = null
    })
    win = created
    return created
  }

  function showWindow(url?: string): void {
    if (!source) return
    if (!win || win.isDestroyed()) {
      openWindow(url)
      return
    }
    // Only the fragment changes: Chromium navigates within the page (no reload).
    if (url)
      win
        .loadURL(url)
        .catch((err: unknown) => warn(`tandem: could not open ${url}: ${String(err)}`))
    reveal(win)
  }

  function refreshTray(patch: Partial<TrayView> = {}): void {
    if (!view) return
    view = { ...view, ...patch }
    tray?.update(view)
  }

  const ready = app.whenReady().then(async () => {
    denyAllPermissions(electron.session.defaultSession)
    serveApp(electron.protocol, opts.files.renderer)
    applyApplicationMenu(electron.Menu, { packaged: app.isPackaged, platform })
    source = uiSource({ packaged: app.isPackaged, env })
    registerLinkScheme(app, {
      packaged: app.isPackaged,
      execPath: process.execPath,
      appDir: app.getAppPath(),
    })

    if (source.kind === 'demo') {
      // `tandem demo`: the demo's own node serves this UI; the page talks to it over its
      // WebSocket (no preload, no IPC), and closing the window ends this app.
      openWindow()
      app.on('window-all-closed', () => app.quit())
      return
    }

    const store = new DesktopPrefsStore(app.getPath('userData'))
    prefs = store
    const notifier = new Notifier(electron.Notification, () => store.get())
    const holds = new Holds((hold) => supervisor?.setEnvironment({ hold }))

    const sup = new NodeSupervisor({
      spawn: () => {
        const child = electron.utilityProcess.fork(opts.files.nodeEntry, [], {
          serviceName: 'Tandem node',
          stdio: 'inherit',
        })
        const { port1, port2 } = new electron.MessageChannelMain()
        const init: NodeInit = {
          type: 'init',
          options: {
            appPath: app.getAppPath(),
            userData: app.getPath('userData'),
            ...(env['TANDEM_BOOTSTRAP'] ? { bootstrap: env['TANDEM_BOOTSTRAP'].split(',') } : {}),
          },
        }
        child.postMessage(init, [port2])
        port1.start()
        return { child, port: port1 }
      },
      onEvent: (raw) => {
        const event = parseEvent(raw)
        if (!event) return
        toUi(event)
        if (event.event === 'status') {
          refreshTray({ status: event.data })
          updates?.nodeStatus(event.data)
        }
        if (event.event === 'settings') void autostart(event.data.startAtLogin)
        notifier.notify(noticeForEvent(event))
      },
      onState: (state) => nodeState(state),
      ...(opts.stopDeadlineMs !== undefined ? { stopDeadlineMs: opts.stopDeadlineMs } : {}),
    })
    supervisor = sup

    const call = (method: string, params: object = {}) => sup.request({ id: 0, method, params })

    async function autostart(on: boolean): Promise<void> {
      try {
        await applyAutostart(
          app,
          {
            platform,
            exe: env['APPIMAGE'] || app.getPath('exe'),
            home: app.getPath('home'),
            ...(env['XDG_CONFIG_HOME'] ? { xdgConfigHome: env['XDG_CONFIG_HOME'] } : {}),
          },
          on,
        )
      } catch (err) {
        warn(`tandem: could not apply "start at login": ${String(err)}`)
      }
    }

    function nodeState(state: NodeState): void {
      refreshTray({ node: state })
      if (state.state === 'restarting') {
        const msg = describeNodeState(state)
        toUi({ event: 'log', data: { t: Date.now(), level: 'error', subsystem: 'app', msg } })
        notifier.notify({ kind: 'problem', title: 'Tandem stopped working', body: msg })
      }
      if (state.state === 'running') {
        // A fresh node process: the tray's status, and the login item from its settings.
        void call('node.status').then((out: Outcome<unknown>) => {
          if (out.ok) {
            const status = out.value as NodeStatus
            refreshTray({ status })
            updates?.nodeStatus(status)
          }
        })
        void call('settings.get').then((out: Outcome<unknown>) => {
          if (out.ok) void autostart((out.value as { startAtLogin: boolean }).startAtLogin)
        })
      }
    }

    registerApi(
      electron.ipcMain,
      (raw) => {
        const method = (raw as { method?: unknown } | null)?.method
        if (method !== 'app.info') return sup.request(raw)
        return dispatch(
          {
            'app.info': () => ({
              name: 'tandem',
              version: app.getVersion(),
              host: 'electron',
              platform: `${process.platform}-${process.arch}`,
              node: process.versions.node,
            }),
          },
          raw,
        )
      },
      isTrusted,
    )

    view = {
      status: null,
      node: sup.state,
      prefs: store.get(),
      offered: [],
      update: null,
    }
    exclusive = new ExclusivePrograms(
      opts.listProcesses,
      () => store.get().exclusivePrograms,
      holds,
      warn,
    )
    const programs = exclusive
    tray = new DesktopTray(electron.Tray, electron.Menu, opts.files.trayIcon, {
      pause: (mode) => void call('node.pause', { mode }),
      resume: () => void call('node.resume'),
      open: () => showWindow(),
      quit: () => app.quit(),
      toggleProgram: (name) => {
        void store
          .update((p) => ({
            ...p,
            exclusivePrograms: p.exclusivePrograms.includes(name)
              ? p.exclusivePrograms.filter((n) => n !== name)
              : [...p.exclusivePrograms, name],
          }))
          .then(() => programs.check())
          .catch((err: unknown) => warn(`tandem: could not save preferences: ${String(err)}`))
        refreshTray({ prefs: store.get() })
      },
      toggleNotification: (kind) => {
        void store
          .update((p) => ({ ...p, notify: { ...p.notify, [kind]: !p.notify[kind] } }))
          .catch((err: unknown) => warn(`tandem: could not save preferences: ${String(err)}`))
        refreshTray({ prefs: store.get() })
      },
      acceptUpdate: () => updates?.accept(),
    })
    tray.update(view)
    // The picker offers what runs now; refreshed with every process check.
    const refreshOffered = setInterval(
      () =>
        refreshTray({
          offered: offeredPrograms(programs.processes, {
            ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
          }),
        }),
      5000,
    )
    refreshOffered.unref()

    const power = new PowerWatcher(electron.powerMonitor, holds, {
      environment: (e) => sup.setEnvironment(e),
      network: (action) => sup.setNetwork(action),
    })
    power.start()
    programs.start()
    sup.start()

    const link = links.takePending()
    openWindow(link ? joinPageUrl(source.url, link) : undefined, startHidden(opts.argv) && !link)
    links.attach((key) => showWindow(joinPageUrl(source!.url, key)))

    app.on('activate', () => showWindow())
    // With the tray, closing the last window keeps the node running; Quit is in the tray.
    app.on('window-all-closed', () => {})
    app.on('before-quit', (event: PreventableEvent) => {
      quitting = true
      if (sup.state.state === 'stopped') return
      event.preventDefault()
      power.stop()
      programs.stop()
      clearInterval(refreshOffered)
      updates?.stop()
      void sup.stop().then((how) => {
        if (how === 'killed') warn('tandem: the node did not stop in time and was ended')
        tray?.destroy()
        app.quit()
      })
    })

    const updater = app.isPackaged && opts.updater ? await opts.updater().catch(() => null) : null
    if (updater) {
      updates = new UpdatePolicy({
        updater,
        warn,
        onChange: (update) => {
          refreshTray({ update })
          if (update?.state === 'available') {
            notifier.notify({
              kind: 'update',
              title: `Tandem ${update.version} is available`,
              body: 'Choose "Update" in the tray menu; it installs between rounds.',
            })
          }
        },
      })
      updates.start()
    }
  })

  return {
    ready,
    source: () => source,
    window: () => win,
    supervisor: () => supervisor,
    tray: () => tray,
    trayView: () => view,
    updates: () => updates,
    prefs: () => prefs,
    exclusive: () => exclusive,
  }
}
