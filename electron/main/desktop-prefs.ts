/**
 * The desktop app's own preferences (not the node's settings, which the node keeps): what the
 * tray's checkboxes set. Kept in userData/desktop.json, written atomically (a temporary file,
 * then a rename), read leniently: a missing or damaged file gives the defaults, a missing field
 * its default.
 *
 * Notifications are off by default, each kind on its own.
 */
import { readFileSync } from 'node:fs'
import { rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'

export const NOTIFICATION_KINDS = ['problem', 'rejected', 'update'] as const
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number]

export const NOTIFICATION_LABELS: Record<NotificationKind, string> = {
  problem: 'When the node stops working',
  rejected: 'When a contribution is rejected',
  update: 'When an update is ready',
}

const Prefs = z.object({
  version: z.literal(1).catch(1),
  /** Closing the window keeps Tandem running in the tray. */
  closeToTray: z.boolean().catch(true),
  notify: z
    .object({
      problem: z.boolean().catch(false),
      rejected: z.boolean().catch(false),
      update: z.boolean().catch(false),
    })
    .catch({ problem: false, rejected: false, update: false }),
  /** Program names (programName()) that hold training while they run. */
  exclusivePrograms: z.array(z.string().min(1).max(256)).max(64).catch([]),
})
export type DesktopPrefs = z.infer<typeof Prefs>

export function defaultPrefs(): DesktopPrefs {
  return Prefs.parse({})
}

export class DesktopPrefsStore {
  private prefs: DesktopPrefs
  private writing: Promise<void> = Promise.resolve()
  private readonly file: string

  constructor(userData: string) {
    this.file = join(userData, 'desktop.json')
    this.prefs = read(this.file)
  }

  get(): DesktopPrefs {
    return this.prefs
  }

  /** Applies a change and writes the file; writes are queued so the last change wins. */
  update(change: (prefs: DesktopPrefs) => DesktopPrefs): Promise<void> {
    this.prefs = Prefs.parse(change(structuredClone(this.prefs)))
    const text = `${JSON.stringify(this.prefs, null, 2)}\n`
    this.writing = this.writing
      .catch(() => {})
      .then(async () => {
        const tmp = `${this.file}.${process.pid}.tmp`
        await writeFile(tmp, text)
        await rename(tmp, this.file)
      })
    return this.writing
  }
}

function read(file: string): DesktopPrefs {
  try {
    return Prefs.parse(JSON.parse(readFileSync(file, 'utf8')))
  } catch {
    return defaultPrefs()
  }
}
