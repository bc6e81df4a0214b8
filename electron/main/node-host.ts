/**
 * Runs the contributor node inside the Electron main process and connects it to the shell:
 *
 * - the node's code is loaded at run time from the compiled core (dist/, built by `npm run
 *   build:core` and shipped in the package), not bundled into main: the training engine starts
 *   worker threads from files next to its own module, which a bundle would not have;
 * - state lives in Electron's userData directory;
 * - the shell reports what only a desktop session knows: the user's idle time and the power source
 *   (powerMonitor), so "run only when idle" and "pause on battery" work;
 * - "start at login" is applied through the OS login items whenever the setting changes.
 */
import type { ApiEvent } from '../../core/api/contract.js'
import type { Handlers } from '../../core/api/dispatch.js'
import type { ShellApiModule, ShellNodeModule } from '../../core/api/shell.js'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

/** The parts of Electron this module needs; the real objects satisfy them. */
export interface ShellLike {
  appPath: string
  userData: string
  /** A private DHT (TANDEM_BOOTSTRAP=host:port,…); absent: the public DHT. */
  bootstrap?: string[]
  systemIdleSeconds(): number
  onBattery(): boolean
  onPowerChange(listener: () => void): void
  setOpenAtLogin(open: boolean): void
}

export interface NodeHost {
  handlers: Partial<Handlers>
  close(): Promise<void>
}

const IDLE_POLL_MS = 15_000

export async function startNodeHost(
  shell: ShellLike,
  emit: (event: ApiEvent) => void,
): Promise<NodeHost> {
  const dist = (rel: string) => pathToFileURL(join(shell.appPath, 'dist', 'core', rel)).href
  const { ContributorNode } = (await import(dist('node/node.js'))) as ShellNodeModule
  const { createApi } = (await import(dist('node/api.js'))) as ShellApiModule
  const node = await ContributorNode.open({
    shell: 'electron',
    home: shell.userData,
    ...(shell.bootstrap ? { bootstrap: shell.bootstrap } : {}),
  })
  node.on('event', emit)

  const report = () =>
    node.setEnvironment({ idleSec: shell.systemIdleSeconds(), onBattery: shell.onBattery() })
  report()
  shell.onPowerChange(report)
  const poll = setInterval(report, IDLE_POLL_MS)

  const applyLogin = () => shell.setOpenAtLogin(node.settings.get().startAtLogin)
  applyLogin()
  node.settings.on('change', (_s, keys) => {
    if (keys.includes('startAtLogin')) applyLogin()
  })

  return {
    handlers: createApi(node, 'electron'),
    async close() {
      clearInterval(poll)
      await node.close()
    },
  }
}
