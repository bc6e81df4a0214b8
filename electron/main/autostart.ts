/**
 * "Start at login" (the node's startAtLogin setting), starting hidden in the tray:
 *
 * - Linux: an XDG autostart entry, ~/.config/autostart/tandem.desktop ($XDG_CONFIG_HOME when
 *   set), whose command is the AppImage (when running from one: $APPIMAGE) or the installed
 *   executable, with `--hidden`; removed when the setting is off. Electron's login items do
 *   nothing on Linux.
 * - Windows: a login item with the `--hidden` argument.
 * - macOS: a login item; the app starts hidden when macOS says it was opened at login.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { AppLike } from './electron-like.js'

export const HIDDEN_FLAG = '--hidden'

export interface AutostartEnv {
  platform: NodeJS.Platform
  /** The executable to start: $APPIMAGE or app.getPath('exe'). */
  exe: string
  home: string
  xdgConfigHome?: string
}

export function autostartFile(env: Pick<AutostartEnv, 'home' | 'xdgConfigHome'>): string {
  return join(env.xdgConfigHome || join(env.home, '.config'), 'autostart', 'tandem.desktop')
}

/** Quotes an argument for a desktop entry's Exec key (XDG Desktop Entry spec). */
function execArg(arg: string): string {
  if (!/[\s"'\\$`]/.test(arg)) return arg
  return `"${arg.replace(/(["`$\\])/g, '\\$1')}"`
}

export function desktopEntry(exe: string): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Tandem',
    'Comment=Lend this computer to open AI training while you are not using it',
    `Exec=${execArg(exe)} ${HIDDEN_FLAG}`,
    'Icon=tandem',
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n')
}

export async function applyAutostart(app: AppLike, env: AutostartEnv, on: boolean): Promise<void> {
  if (env.platform === 'linux') {
    const file = autostartFile(env)
    if (!on) {
      await rm(file, { force: true })
      return
    }
    await mkdir(join(file, '..'), { recursive: true })
    const tmp = `${file}.${process.pid}.tmp`
    await writeFile(tmp, desktopEntry(env.exe))
    await rename(tmp, file)
    return
  }
  if (env.platform === 'darwin') app.setLoginItemSettings({ openAtLogin: on, openAsHidden: true })
  else app.setLoginItemSettings({ openAtLogin: on, args: [HIDDEN_FLAG] })
}

/** Started by the login item or autostart entry: stay in the tray. */
export function startHidden(argv: readonly string[]): boolean {
  return argv.includes(HIDDEN_FLAG)
}
