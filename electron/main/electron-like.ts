/**
 * The slice of Electron's main-process API the desktop shell uses, declared here so every module
 * of electron/main/ takes it as a parameter instead of importing `electron`: the tests drive the
 * shell with a fake (test/support/fake-electron.ts), since the Electron binary cannot run on our
 * machines. index.ts hands the real module in, so with Electron's own types installed the
 * typecheck proves the real API fits this slice; electron/types/electron-shim.d.ts declares the
 * module as exactly this slice when the `electron` package is absent.
 *
 * Event emitters take listeners of any arguments, as Node's EventEmitter does (so both Electron's
 * classes and the tests' EventEmitter-based fakes fit); each module types the arguments of the
 * events it handles, as Electron documents them.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- EventEmitter's own listener type
export type Listener = (...args: any[]) => void

export interface EmitterLike {
  on(event: string, listener: Listener): unknown
}

export interface PreventableEvent {
  preventDefault(): void
}

export interface WindowOpenDetails {
  readonly url: string
}

export interface WebContentsLike extends EmitterLike {
  readonly id: number
  send(channel: string, ...args: unknown[]): void
  isDestroyed(): boolean
  getURL(): string
  setWindowOpenHandler(handler: (details: WindowOpenDetails) => { action: 'allow' | 'deny' }): void
  reload(): void
}

export interface WebPreferencesLike {
  preload?: string
  contextIsolation?: boolean
  sandbox?: boolean
  nodeIntegration?: boolean
  nodeIntegrationInSubFrames?: boolean
  nodeIntegrationInWorker?: boolean
  webSecurity?: boolean
  allowRunningInsecureContent?: boolean
  experimentalFeatures?: boolean
  enableBlinkFeatures?: string
  webviewTag?: boolean
  navigateOnDragDrop?: boolean
  spellcheck?: boolean
  devTools?: boolean
}

export interface BrowserWindowOptionsLike {
  width?: number
  height?: number
  minWidth?: number
  minHeight?: number
  show?: boolean
  title?: string
  icon?: string
  webPreferences?: WebPreferencesLike
}

export interface BrowserWindowLike extends EmitterLike {
  readonly webContents: WebContentsLike
  loadURL(url: string): Promise<void>
  show(): void
  hide(): void
  focus(): void
  isMinimized(): boolean
  isVisible(): boolean
  isDestroyed(): boolean
  restore(): void
  once(event: string, listener: Listener): unknown
}

export interface BrowserWindowClassLike {
  new (options?: BrowserWindowOptionsLike): BrowserWindowLike
  getAllWindows(): BrowserWindowLike[]
}

export interface LoginItemSettingsLike {
  openAtLogin?: boolean
  openAsHidden?: boolean
  args?: string[]
}

export interface AppLike extends EmitterLike {
  whenReady(): Promise<void>
  quit(): void
  exit(exitCode?: number): void
  getVersion(): string
  requestSingleInstanceLock(): boolean
  readonly isPackaged: boolean
  getAppPath(): string
  getPath(name: 'userData' | 'exe' | 'home'): string
  setLoginItemSettings(settings: LoginItemSettingsLike): void
  setAsDefaultProtocolClient(protocol: string, path?: string, args?: string[]): boolean
}

export interface PermissionHandlerSession {
  setPermissionRequestHandler(
    handler:
      | ((
          webContents: WebContentsLike,
          permission: string,
          callback: (granted: boolean) => void,
          details: { requestingUrl?: string },
        ) => void)
      | null,
  ): void
  setPermissionCheckHandler(
    handler:
      | ((
          webContents: WebContentsLike | null,
          permission: string,
          requestingOrigin: string,
          details: { requestingUrl?: string },
        ) => boolean)
      | null,
  ): void
  setDevicePermissionHandler(handler: ((details: { origin: string }) => boolean) | null): void
}

export interface SessionModuleLike {
  readonly defaultSession: PermissionHandlerSession
}

export interface CustomSchemeLike {
  scheme: string
  privileges?: {
    standard?: boolean
    secure?: boolean
    supportFetchAPI?: boolean
    corsEnabled?: boolean
    stream?: boolean
    bypassCSP?: boolean
    allowServiceWorkers?: boolean
    codeCache?: boolean
  }
}

export interface ProtocolLike {
  registerSchemesAsPrivileged(schemes: CustomSchemeLike[]): void
  handle(scheme: string, handler: (request: Request) => Response | Promise<Response>): void
}

export interface ShellModuleLike {
  openExternal(url: string): Promise<void>
}

export interface MenuItemOptionsLike {
  label?: string
  type?: 'normal' | 'separator' | 'submenu' | 'checkbox' | 'radio'
  enabled?: boolean
  checked?: boolean
  role?: 'quit' | 'close' | 'minimize' | 'copy' | 'paste' | 'cut' | 'selectAll' | 'undo' | 'redo'
  click?: () => void
  submenu?: MenuItemOptionsLike[]
}

export interface MenuLike {
  readonly items: unknown[]
}

export interface MenuClassLike {
  buildFromTemplate(template: MenuItemOptionsLike[]): MenuLike
  setApplicationMenu(menu: MenuLike | null): void
}

export interface TrayLike extends EmitterLike {
  setToolTip(toolTip: string): void
  setContextMenu(menu: MenuLike | null): void
  destroy(): void
}

export interface TrayClassLike {
  new (image: string): TrayLike
}

export interface PowerMonitorLike extends EmitterLike {
  getSystemIdleTime(): number
  isOnBatteryPower(): boolean
  getCurrentThermalState(): 'unknown' | 'nominal' | 'fair' | 'serious' | 'critical'
}

export interface NotificationLike {
  show(): void
}

export interface NotificationClassLike {
  new (options: { title: string; body: string; silent?: boolean }): NotificationLike
  isSupported(): boolean
}

/** A MessagePortMain (main process and utility process alike). */
export interface MessagePortLike extends EmitterLike {
  postMessage(message: unknown): void
  start(): void
  close(): void
}

export interface MessageChannelClassLike {
  new (): { readonly port1: MessagePortLike; readonly port2: MessagePortLike }
}

export interface UtilityProcessLike extends EmitterLike {
  readonly pid: number | undefined
  postMessage(message: unknown, transfer?: MessagePortLike[]): void
  kill(): boolean
}

export interface UtilityProcessModuleLike {
  fork(
    modulePath: string,
    args?: string[],
    options?: { serviceName?: string; stdio?: 'inherit' | 'pipe' | 'ignore'; env?: object },
  ): UtilityProcessLike
}

export interface IpcMainInvokeEventLike {
  readonly senderFrame: { readonly url: string } | null
}

export interface IpcMainLike {
  handle(
    channel: string,
    listener: (event: IpcMainInvokeEventLike, ...args: unknown[]) => unknown,
  ): void
  removeHandler(channel: string): void
}

/** Everything the shell takes from `electron`. */
export interface ElectronLike {
  app: AppLike
  BrowserWindow: BrowserWindowClassLike
  ipcMain: IpcMainLike
  protocol: ProtocolLike
  session: SessionModuleLike
  shell: ShellModuleLike
  Menu: MenuClassLike
  Tray: TrayClassLike
  powerMonitor: PowerMonitorLike
  Notification: NotificationClassLike
  MessageChannelMain: MessageChannelClassLike
  utilityProcess: UtilityProcessModuleLike
}
