/**
 * Stand-in for electron.d.ts, used by the typecheck only when the `electron` package is absent (its
 * install script downloads the Electron binary, which fails on offline machines and npm then drops
 * the optional package). It declares the part of Electron's API that electron/ uses, with Electron's
 * own signatures; with Electron installed, the real declarations are used instead.
 */
declare module 'electron' {
  interface WebFrameMain {
    readonly url: string
  }
  interface IpcMainInvokeEvent {
    readonly senderFrame: WebFrameMain | null
  }
  interface HandlerDetails {
    readonly url: string
  }
  interface WebContents {
    send(channel: string, ...args: unknown[]): void
    isDestroyed(): boolean
    getURL(): string
    setWindowOpenHandler(handler: (details: HandlerDetails) => { action: 'allow' | 'deny' }): void
    on(
      event: 'will-navigate',
      listener: (event: { preventDefault(): void }, url: string) => void,
    ): this
  }
  interface WebPreferences {
    preload?: string
    contextIsolation?: boolean
    sandbox?: boolean
    nodeIntegration?: boolean
  }
  interface BrowserWindowConstructorOptions {
    width?: number
    height?: number
    minWidth?: number
    minHeight?: number
    show?: boolean
    title?: string
    backgroundColor?: string
    webPreferences?: WebPreferences
  }
  class BrowserWindow {
    constructor(options?: BrowserWindowConstructorOptions)
    static getAllWindows(): BrowserWindow[]
    readonly webContents: WebContents
    loadFile(filePath: string): Promise<void>
    loadURL(url: string): Promise<void>
    show(): void
    focus(): void
    isMinimized(): boolean
    restore(): void
    once(event: 'ready-to-show', listener: () => void): this
  }
  interface App {
    whenReady(): Promise<void>
    on(event: 'window-all-closed', listener: () => void): this
    on(event: 'activate', listener: () => void): this
    on(event: 'second-instance', listener: () => void): this
    quit(): void
    getVersion(): string
    requestSingleInstanceLock(): boolean
    readonly isPackaged: boolean
    on(event: 'before-quit', listener: (event: { preventDefault(): void }) => void): this
    getAppPath(): string
    getPath(name: 'userData'): string
    setLoginItemSettings(settings: { openAtLogin?: boolean }): void
  }
  interface PowerMonitor {
    getSystemIdleTime(): number
    isOnBatteryPower(): boolean
    on(event: 'on-battery' | 'on-ac', listener: () => void): this
  }
  export const powerMonitor: PowerMonitor
  interface IpcMain {
    handle(
      channel: string,
      listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown,
    ): void
    removeHandler(channel: string): void
  }
  interface IpcRendererEvent {
    readonly senderId: number
  }
  interface IpcRenderer {
    invoke(channel: string, ...args: unknown[]): Promise<unknown>
    on(channel: string, listener: (event: IpcRendererEvent, ...args: unknown[]) => void): this
  }
  interface ContextBridge {
    exposeInMainWorld(apiKey: string, api: unknown): void
  }
  interface Shell {
    openExternal(url: string): Promise<void>
  }
  export const app: App
  export const ipcMain: IpcMain
  export const ipcRenderer: IpcRenderer
  export const contextBridge: ContextBridge
  export const shell: Shell
  export { BrowserWindow }
  export type { IpcMainInvokeEvent, WebContents, BrowserWindowConstructorOptions }
}
