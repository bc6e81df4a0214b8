/**
 * Updates (electron-updater; the decision is in docs/decisions.md): checked in the background,
 * downloaded and installed only after the person said yes, and installed only between rounds,
 * so a round this machine is training is never cut short by an update.
 *
 * 1. Check 1 minute after start, then every 6 hours. Nothing is downloaded by itself
 *    (autoDownload off) and nothing is installed on quit by itself (autoInstallOnAppQuit off).
 * 2. A newer version: the tray offers it ("Update to version X") and, when the person turned that
 *    notification on, a notification says so.
 * 3. The person accepts: the download starts. electron-updater checks the file's SHA-512 against
 *    the signed-over-HTTPS release metadata and, on Windows, that the installer is signed by our
 *    publisher; on macOS Squirrel.Mac accepts only an app signed like the one running.
 * 4. Downloaded and accepted: installed (quit, install, restart) as soon as the node is between
 *    rounds: no round in progress, or this machine's part of it already submitted.
 */
import type { NodeStatus } from '../../core/api/contract.js'
import type { Listener } from './electron-like.js'

/** The slice of electron-updater's autoUpdater used here. */
export interface UpdaterLike {
  autoDownload: boolean
  autoInstallOnAppQuit: boolean
  allowDowngrade: boolean
  on(event: string, listener: Listener): unknown
  checkForUpdates(): Promise<unknown>
  downloadUpdate(): Promise<unknown>
  quitAndInstall(isSilent?: boolean, isForceRunAfter?: boolean): void
}

export type UpdateView = { version: string; state: 'available' | 'downloaded' } | null

export interface UpdatePolicyOptions {
  updater: UpdaterLike
  /** The tray and notifications: what to offer now. */
  onChange(view: UpdateView): void
  warn(line: string): void
  firstCheckMs?: number
  everyMs?: number
}

/** Whether installing now would cut a round short. */
export function betweenRounds(status: Pick<NodeStatus, 'activity' | 'progress'> | null): boolean {
  if (!status) return true
  if (status.activity !== 'training') return true
  const phase = status.progress?.phase
  return phase === undefined || phase === 'submitted' || phase === 'closed'
}

export class UpdatePolicy {
  private view: UpdateView = null
  private consented = false
  private downloading = false
  private installing = false
  private status: Pick<NodeStatus, 'activity' | 'progress'> | null = null
  private timers: NodeJS.Timeout[] = []

  constructor(private readonly opts: UpdatePolicyOptions) {
    const u = opts.updater
    u.autoDownload = false
    u.autoInstallOnAppQuit = false
    u.allowDowngrade = false
    u.on('update-available', (info: { version: string }) => {
      if (this.view?.version === info.version) return
      this.consented = false
      this.set({ version: info.version, state: 'available' })
    })
    u.on('update-downloaded', (info: { version: string }) => {
      this.downloading = false
      this.set({ version: info.version, state: 'downloaded' })
      this.maybeInstall()
    })
    u.on('error', (err: Error) => {
      this.downloading = false
      opts.warn(`tandem: update: ${err.message}`)
    })
  }

  get current(): UpdateView {
    return this.view
  }

  /** Background checks: the first after a minute, then every 6 hours. */
  start(): void {
    const check = () => void this.check()
    const first = setTimeout(check, this.opts.firstCheckMs ?? 60_000)
    const every = setInterval(check, this.opts.everyMs ?? 6 * 3600_000)
    first.unref()
    every.unref()
    this.timers.push(first, every)
  }

  async check(): Promise<void> {
    try {
      await this.opts.updater.checkForUpdates()
    } catch (err) {
      this.opts.warn(
        `tandem: update check failed: ${err instanceof Error ? err.message : String(err)}`,
      )
    }
  }

  /** The person said yes to the offered version: download it, install it between rounds. */
  accept(): void {
    if (!this.view) return
    this.consented = true
    if (this.view.state === 'available' && !this.downloading) {
      this.downloading = true
      this.opts.updater.downloadUpdate().catch((err: unknown) => {
        this.downloading = false
        this.opts.warn(`tandem: update download failed: ${String(err)}`)
      })
    }
    this.maybeInstall()
  }

  /** The node's status, from its status events: installing waits for a round boundary. */
  nodeStatus(status: Pick<NodeStatus, 'activity' | 'progress'>): void {
    this.status = status
    this.maybeInstall()
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t)
    this.timers = []
  }

  private maybeInstall(): void {
    if (this.installing || !this.consented || this.view?.state !== 'downloaded') return
    if (!betweenRounds(this.status)) return
    this.installing = true
    this.opts.updater.quitAndInstall(false, true)
  }

  private set(view: UpdateView): void {
    this.view = view
    this.opts.onChange(view)
  }
}
