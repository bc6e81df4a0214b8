/**
 * A fake `electron` for the desktop shell's tests: the slice of Electron's main-process API that
 * electron/main/ uses (electron-like.ts), recording what the shell does with it and letting a test
 * fire the events Electron would (a web contents created, a navigation, the screen locking, a
 * second instance…). The Electron binary cannot run on our machines; test/e2e/electron-app.test.ts
 * drives the real one where it exists.
 */
import { EventEmitter } from 'node:events'
import type {
  AppLike,
  BrowserWindowLike,
  BrowserWindowOptionsLike,
  CustomSchemeLike,
  ElectronLike,
  IpcMainInvokeEventLike,
  LoginItemSettingsLike,
  MenuItemOptionsLike,
  MenuLike,
  MessagePortLike,
  PermissionHandlerSession,
  UtilityProcessLike,
  WebContentsLike,
  WindowOpenDetails,
} from '../../electron/main/electron-like.js'

/** An event a listener may cancel, as Electron passes to will-navigate and friends. */
export class FakeEvent {
  defaultPrevented = false
  preventDefault(): void {
    this.defaultPrevented = true
  }
}

let nextContentsId = 1

export class FakeWebContents extends EventEmitter implements WebContentsLike {
  readonly id = nextContentsId++
  readonly sent: Array<[string, unknown[]]> = []
  url = ''
  destroyed = false
  reloads = 0
  openHandler: ((details: WindowOpenDetails) => { action: 'allow' | 'deny' }) | null = null
  send(channel: string, ...args: unknown[]): void {
    this.sent.push([channel, args])
  }
  isDestroyed(): boolean {
    return this.destroyed
  }
  getURL(): string {
    return this.url
  }
  setWindowOpenHandler(handler: (details: WindowOpenDetails) => { action: 'allow' | 'deny' }) {
    this.openHandler = handler
  }
  reload(): void {
    this.reloads++
  }
  /** Fires a cancelable event the way Electron does; true when a listener prevented it. */
  fireCancelable(event: string, ...args: unknown[]): boolean {
    const e = new FakeEvent()
    this.emit(event, e, ...args)
    return e.defaultPrevented
  }
}

export class FakeWindow extends EventEmitter implements BrowserWindowLike {
  static all: FakeWindow[] = []
  static created: FakeWindow[] = []
  readonly webContents = new FakeWebContents()
  visible = false
  destroyed = false
  minimized = false
  focused = 0
  loaded: string[] = []
  constructor(readonly options: BrowserWindowOptionsLike = {}) {
    super()
    FakeWindow.all.push(this)
    FakeWindow.created.push(this)
    FakeElectron.current?.app.emit('web-contents-created', new FakeEvent(), this.webContents)
  }
  static getAllWindows(): FakeWindow[] {
    return FakeWindow.all.filter((w) => !w.destroyed)
  }
  loadURL(url: string): Promise<void> {
    this.loaded.push(url)
    this.webContents.url = url
    return Promise.resolve()
  }
  show(): void {
    this.visible = true
  }
  hide(): void {
    this.visible = false
  }
  focus(): void {
    this.focused++
  }
  isMinimized(): boolean {
    return this.minimized
  }
  isVisible(): boolean {
    return this.visible
  }
  isDestroyed(): boolean {
    return this.destroyed
  }
  restore(): void {
    this.minimized = false
  }
  /** What the user's click on the close button does: true when the window really closed. */
  userClose(): boolean {
    const e = new FakeEvent()
    this.emit('close', e)
    if (e.defaultPrevented) return false
    this.destroyed = true
    this.webContents.destroyed = true
    this.emit('closed')
    return true
  }
}

export class FakeApp extends EventEmitter implements AppLike {
  isPackaged = false
  quits = 0
  exitCode: number | null = null
  singleInstance = true
  readonly loginItems: LoginItemSettingsLike[] = []
  readonly protocolClients: Array<{ protocol: string; path?: string; args?: string[] }> = []
  private ready: () => void = () => {}
  private readonly readyPromise = new Promise<void>((resolve) => (this.ready = resolve))
  constructor(private readonly paths: { userData: string; appPath: string }) {
    super()
  }
  whenReady(): Promise<void> {
    return this.readyPromise
  }
  /** The fake's `ready`. */
  becomeReady(): void {
    this.ready()
  }
  quit(): void {
    this.quits++
    const e = new FakeEvent()
    this.emit('before-quit', e)
    if (!e.defaultPrevented) this.emit('will-quit', new FakeEvent())
  }
  exit(code = 0): void {
    this.exitCode = code
  }
  getVersion(): string {
    return '0.1.0'
  }
  requestSingleInstanceLock(): boolean {
    return this.singleInstance
  }
  getAppPath(): string {
    return this.paths.appPath
  }
  getPath(name: 'userData' | 'exe' | 'home'): string {
    if (name === 'exe') return '/opt/Tandem/tandem'
    if (name === 'home') return this.paths.userData
    return this.paths.userData
  }
  setLoginItemSettings(settings: LoginItemSettingsLike): void {
    this.loginItems.push(settings)
  }
  setAsDefaultProtocolClient(protocol: string, path?: string, args?: string[]): boolean {
    this.protocolClients.push({
      protocol,
      ...(path !== undefined ? { path } : {}),
      ...(args ? { args } : {}),
    })
    return true
  }
}

export class FakeSession implements PermissionHandlerSession {
  request: Parameters<PermissionHandlerSession['setPermissionRequestHandler']>[0] = null
  check: Parameters<PermissionHandlerSession['setPermissionCheckHandler']>[0] = null
  device: Parameters<PermissionHandlerSession['setDevicePermissionHandler']>[0] = null
  setPermissionRequestHandler(h: FakeSession['request']): void {
    this.request = h
  }
  setPermissionCheckHandler(h: FakeSession['check']): void {
    this.check = h
  }
  setDevicePermissionHandler(h: FakeSession['device']): void {
    this.device = h
  }
}

export class FakeMenu implements MenuLike {
  constructor(readonly template: MenuItemOptionsLike[]) {}
  get items(): unknown[] {
    return this.template
  }
}

export class FakeTray extends EventEmitter {
  static all: FakeTray[] = []
  toolTip = ''
  menu: FakeMenu | null = null
  destroyed = false
  constructor(readonly image: string) {
    super()
    FakeTray.all.push(this)
  }
  setToolTip(toolTip: string): void {
    this.toolTip = toolTip
  }
  setContextMenu(menu: MenuLike | null): void {
    this.menu = menu as FakeMenu | null
  }
  destroy(): void {
    this.destroyed = true
  }
}

export class FakeNotification {
  static shown: Array<{ title: string; body: string }> = []
  static supported = true
  constructor(readonly options: { title: string; body: string; silent?: boolean }) {}
  static isSupported(): boolean {
    return FakeNotification.supported
  }
  show(): void {
    FakeNotification.shown.push({ title: this.options.title, body: this.options.body })
  }
}

export class FakePowerMonitor extends EventEmitter {
  idleSec = 0
  onBattery = false
  thermal: 'unknown' | 'nominal' | 'fair' | 'serious' | 'critical' = 'nominal'
  getSystemIdleTime(): number {
    return this.idleSec
  }
  isOnBatteryPower(): boolean {
    return this.onBattery
  }
  getCurrentThermalState() {
    return this.thermal
  }
}

/** One end of a MessageChannelMain: what one end posts, the other end's listeners get. */
export class FakePort extends EventEmitter implements MessagePortLike {
  other: FakePort | null = null
  started = false
  closed = false
  readonly posted: unknown[] = []
  postMessage(message: unknown): void {
    if (this.closed) return
    this.posted.push(message)
    const other = this.other
    // Structured clone, delivered on a later tick like a real port.
    const data = structuredClone(message)
    setImmediate(() => {
      if (other && !other.closed) other.emit('message', { data, ports: [] })
    })
  }
  start(): void {
    this.started = true
  }
  close(): void {
    this.closed = true
  }
}

export function fakeChannel(): { port1: FakePort; port2: FakePort } {
  const port1 = new FakePort()
  const port2 = new FakePort()
  port1.other = port2
  port2.other = port1
  return { port1, port2 }
}

export class FakeUtilityProcess extends EventEmitter implements UtilityProcessLike {
  static nextPid = 1000
  pid: number | undefined = FakeUtilityProcess.nextPid++
  readonly messages: Array<{ message: unknown; transfer: MessagePortLike[] }> = []
  killed = false
  exited = false
  constructor(
    readonly modulePath: string,
    readonly args: string[],
  ) {
    super()
  }
  postMessage(message: unknown, transfer: MessagePortLike[] = []): void {
    this.messages.push({ message, transfer })
    this.emit('fake-message', message, transfer)
  }
  kill(): boolean {
    if (this.exited) return false
    this.killed = true
    this.exitWith(15)
    return true
  }
  /** The process ends (a crash when the code is not 0). */
  exitWith(code: number): void {
    if (this.exited) return
    this.exited = true
    this.pid = undefined
    setImmediate(() => this.emit('exit', code))
  }
}

export class FakeIpcMain {
  readonly handlers = new Map<
    string,
    (event: IpcMainInvokeEventLike, ...args: unknown[]) => unknown
  >()
  handle(channel: string, listener: (e: IpcMainInvokeEventLike, ...a: unknown[]) => unknown) {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`)
    this.handlers.set(channel, listener)
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel)
  }
  invoke(channel: string, senderUrl: string | null, ...args: unknown[]): Promise<unknown> {
    const h = this.handlers.get(channel)
    if (!h) return Promise.reject(new Error(`No handler registered for '${channel}'`))
    return Promise.resolve(
      h({ senderFrame: senderUrl === null ? null : { url: senderUrl } }, ...args),
    )
  }
}

/** The whole fake module. `FakeElectron.current` is the one windows report their creation to. */
export class FakeElectron implements ElectronLike {
  static current: FakeElectron | null = null
  readonly app: FakeApp
  readonly BrowserWindow = FakeWindow
  readonly ipcMain = new FakeIpcMain()
  readonly privileged: CustomSchemeLike[] = []
  readonly protocolHandlers = new Map<string, (request: Request) => Response | Promise<Response>>()
  readonly protocol = {
    registerSchemesAsPrivileged: (schemes: CustomSchemeLike[]) => {
      this.privileged.push(...schemes)
    },
    handle: (scheme: string, handler: (request: Request) => Response | Promise<Response>) => {
      this.protocolHandlers.set(scheme, handler)
    },
  }
  readonly defaultSession = new FakeSession()
  readonly session = { defaultSession: this.defaultSession }
  readonly opened: string[] = []
  readonly shell = {
    openExternal: (url: string) => {
      this.opened.push(url)
      return Promise.resolve()
    },
  }
  applicationMenu: FakeMenu | null | undefined = undefined
  readonly Menu = {
    buildFromTemplate: (template: MenuItemOptionsLike[]) => new FakeMenu(template),
    setApplicationMenu: (menu: MenuLike | null) => {
      this.applicationMenu = menu as FakeMenu | null
    },
  }
  readonly Tray = FakeTray
  readonly powerMonitor = new FakePowerMonitor()
  readonly Notification = FakeNotification
  readonly MessageChannelMain = class {
    readonly port1: FakePort
    readonly port2: FakePort
    constructor() {
      const { port1, port2 } = fakeChannel()
      this.port1 = port1
      this.port2 = port2
    }
  }
  readonly forks: FakeUtilityProcess[] = []
  readonly utilityProcess = {
    fork: (modulePath: string, args: string[] = []) => {
      const child = new FakeUtilityProcess(modulePath, args)
      this.forks.push(child)
      return child
    },
  }

  constructor(paths: { userData: string; appPath: string }) {
    this.app = new FakeApp(paths)
    FakeWindow.all = []
    FakeWindow.created = []
    FakeTray.all = []
    FakeNotification.shown = []
    FakeNotification.supported = true
    FakeElectron.current = this
  }
}

/** Labels of a menu template, with submenus as nested arrays; separators as '—'. */
export function menuLabels(items: MenuItemOptionsLike[]): unknown[] {
  return items.map((i) =>
    i.type === 'separator' ? '—' : i.submenu ? [i.label, menuLabels(i.submenu)] : i.label,
  )
}

/** The menu item with this label (searching submenus too). */
export function menuItem(items: MenuItemOptionsLike[], label: string): MenuItemOptionsLike {
  for (const i of items) {
    if (i.label === label) return i
    if (i.submenu) {
      try {
        return menuItem(i.submenu, label)
      } catch {
        // not in this submenu
      }
    }
  }
  throw new Error(`no menu item "${label}"`)
}
