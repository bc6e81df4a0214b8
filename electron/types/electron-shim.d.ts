/**
 * Stand-in for electron.d.ts, used by the typecheck only when the `electron` package is absent
 * (electron/tsconfig.shim.json maps `electron` here). The main process declares the slice of
 * Electron it uses in main/electron-like.ts, so this declares the module as exactly that slice, plus
 * what the preload uses; with Electron installed, index.ts checks the real API against the slice.
 */
import type {
  AppLike,
  BrowserWindowClassLike,
  IpcMainLike,
  MenuClassLike,
  MessageChannelClassLike,
  NotificationClassLike,
  PowerMonitorLike,
  ProtocolLike,
  SessionModuleLike,
  ShellModuleLike,
  TrayClassLike,
  UtilityProcessModuleLike,
} from '../main/electron-like.js'

export const app: AppLike
export const BrowserWindow: BrowserWindowClassLike
export const ipcMain: IpcMainLike
export const protocol: ProtocolLike
export const session: SessionModuleLike
export const shell: ShellModuleLike
export const Menu: MenuClassLike
export const Tray: TrayClassLike
export const powerMonitor: PowerMonitorLike
export const Notification: NotificationClassLike
export const MessageChannelMain: MessageChannelClassLike
export const utilityProcess: UtilityProcessModuleLike

export interface IpcRendererEvent {
  readonly senderId: number
}
export interface IpcRenderer {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>
  on(channel: string, listener: (event: IpcRendererEvent, ...args: unknown[]) => void): this
}
export const ipcRenderer: IpcRenderer
export const contextBridge: {
  exposeInMainWorld(apiKey: string, api: unknown): void
}
