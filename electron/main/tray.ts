/**
 * The tray icon: what the node is doing and why, and the controls that matter without opening
 * the window: pause now, pause after this round, resume; the programs that hold training; which
 * notifications to show; open; quit. `trayMenu` builds the menu from what is known (pure, so the
 * tests check it item by item); `DesktopTray` keeps the icon's menu and tooltip up to date.
 */
import type { NodeStatus } from '../../core/api/contract.js'
import type {
  MenuClassLike,
  MenuItemOptionsLike,
  TrayClassLike,
  TrayLike,
} from './electron-like.js'
import {
  NOTIFICATION_KINDS,
  NOTIFICATION_LABELS,
  type DesktopPrefs,
  type NotificationKind,
} from './desktop-prefs.js'
import { describeNodeState, type NodeState } from './node-supervisor.js'

export interface TrayView {
  /** The node's last status; null before the first one. */
  status: Pick<NodeStatus, 'activity' | 'reason' | 'userPaused' | 'pauseAfterRound'> | null
  node: NodeState
  prefs: Pick<DesktopPrefs, 'notify' | 'exclusivePrograms'>
  /** Programs running now that the person may pick (exclusive-apps.ts). */
  offered: readonly string[]
  /** A downloaded update waiting for the person's go-ahead (updates.ts). */
  update: { version: string; state: 'available' | 'downloaded' } | null
}

export interface TrayActions {
  pause(mode: 'now' | 'after-round'): void
  resume(): void
  open(): void
  quit(): void
  toggleProgram(name: string): void
  toggleNotification(kind: NotificationKind): void
  /** The person agreed to the offered update: download it, install it between rounds. */
  acceptUpdate(): void
}

const ACTIVITY: Record<NodeStatus['activity'], string> = {
  training: 'Training',
  paused: 'Paused',
  idle: 'Idle',
  waiting: 'Waiting',
  offline: 'Offline',
}

/** One line: "Training — no limits apply", or what the node process is doing when not running. */
export function trayStatusLine(view: Pick<TrayView, 'status' | 'node'>): string {
  if (view.node.state !== 'running') {
    const text = describeNodeState(view.node)
    return text.charAt(0).toUpperCase() + text.slice(1)
  }
  if (!view.status) return 'Starting…'
  const { activity, reason } = view.status
  return reason ? `${ACTIVITY[activity]} — ${reason}` : ACTIVITY[activity]
}

export function trayMenu(view: TrayView, act: TrayActions): MenuItemOptionsLike[] {
  const running = view.node.state === 'running' && view.status !== null
  const status = view.status
  const paused = status?.userPaused === true
  const afterRound = status?.pauseAfterRound === true
  const programs = [...new Set([...view.prefs.exclusivePrograms, ...view.offered])].sort()
  const items: MenuItemOptionsLike[] = [
    { label: trayStatusLine(view), enabled: false },
    { type: 'separator' },
    { label: 'Pause now', enabled: running && !paused, click: () => act.pause('now') },
    {
      label: 'Pause after this round',
      enabled: running && !paused && !afterRound && status?.activity === 'training',
      click: () => act.pause('after-round'),
    },
    { label: 'Resume', enabled: running && (paused || afterRound), click: () => act.resume() },
    { type: 'separator' },
    {
      label: 'Pause while these programs run',
      submenu:
        programs.length === 0
          ? [{ label: 'No programs found', enabled: false }]
          : programs.map((name) => ({
              label: name,
              type: 'checkbox' as const,
              checked: view.prefs.exclusivePrograms.includes(name),
              click: () => act.toggleProgram(name),
            })),
    },
    {
      label: 'Notify me',
      submenu: NOTIFICATION_KINDS.map((kind) => ({
        label: NOTIFICATION_LABELS[kind],
        type: 'checkbox' as const,
        checked: view.prefs.notify[kind],
        click: () => act.toggleNotification(kind),
      })),
    },
  ]
  if (view.update) {
    items.push(
      view.update.state === 'available'
        ? {
            label: `Update to version ${view.update.version} (installs between rounds)`,
            click: () => act.acceptUpdate(),
          }
        : { label: `Version ${view.update.version} installs between rounds`, enabled: false },
    )
  }
  items.push(
    { type: 'separator' },
    { label: 'Open Tandem', click: () => act.open() },
    { label: 'Quit Tandem', click: () => act.quit() },
  )
  return items
}

export class DesktopTray {
  private readonly tray: TrayLike

  constructor(
    Tray: TrayClassLike,
    private readonly Menu: MenuClassLike,
    icon: string,
    private readonly actions: TrayActions,
  ) {
    this.tray = new Tray(icon)
    // A click on the icon (Windows, most Linux desktops) opens the window; the menu is on the
    // right button (and on the left one on macOS).
    this.tray.on('click', () => actions.open())
  }

  update(view: TrayView): void {
    this.tray.setToolTip(`Tandem — ${trayStatusLine(view)}`)
    this.tray.setContextMenu(this.Menu.buildFromTemplate(trayMenu(view, this.actions)))
  }

  destroy(): void {
    this.tray.destroy()
  }
}
