/**
 * Desktop notifications, each kind off until the person turns it on (the tray's "Notify me"):
 *
 * - problem: the node stopped working for a reason the person can act on: it crashed or cannot
 *   start (the supervisor says why), or it went offline;
 * - rejected: a round's contribution was rejected (the receipt says why);
 * - update: a new version is ready to install (updates.ts).
 *
 * The same message is not repeated within 10 minutes.
 */
import type { NotificationClassLike } from './electron-like.js'
import type { DesktopPrefs, NotificationKind } from './desktop-prefs.js'

export interface Notice {
  kind: NotificationKind
  title: string
  body: string
}

const REPEAT_MS = 10 * 60_000

/** The notice an event from the node deserves, if any. */
export function noticeForEvent(event: unknown): Notice | null {
  if (typeof event !== 'object' || event === null) return null
  const { event: name, data } = event as { event?: unknown; data?: Record<string, unknown> }
  if (!data) return null
  if (name === 'receipt' && data['accepted'] === false) {
    return {
      kind: 'rejected',
      title: 'Tandem: a contribution was rejected',
      body: `Round ${String(data['round'])}: ${String(data['reason'] ?? 'no reason given')}`,
    }
  }
  if (name === 'status' && data['activity'] === 'offline') {
    return {
      kind: 'problem',
      title: 'Tandem is offline',
      body: String(data['reason'] ?? 'the node cannot reach the network'),
    }
  }
  return null
}

export class Notifier {
  private readonly recent = new Map<string, number>()

  constructor(
    private readonly Notification: NotificationClassLike,
    private readonly prefs: () => DesktopPrefs,
    private readonly now: () => number = Date.now,
  ) {}

  /** Shows the notice when its kind is on; returns whether it was shown. */
  notify(notice: Notice | null): boolean {
    if (!notice || !this.prefs().notify[notice.kind]) return false
    if (!this.Notification.isSupported()) return false
    const key = `${notice.kind}\n${notice.title}\n${notice.body}`
    const last = this.recent.get(key)
    const now = this.now()
    if (last !== undefined && now - last < REPEAT_MS) return false
    this.recent.set(key, now)
    new this.Notification({ title: notice.title, body: notice.body }).show()
    return true
  }
}
