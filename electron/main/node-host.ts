/**
 * Opens the contributor node for the desktop app, inside the node's utility process
 * (node-service.ts):
 *
 * - the node's code is loaded at run time from the compiled core (dist/, built by `npm run
 *   build:core` and shipped in the package), not bundled: the training engine starts worker
 *   threads from files next to its own module, which a bundle would not have;
 * - state lives in Electron's userData directory (main passes its path).
 *
 * What only the desktop session knows (idle time, power, sleep, lock screen, heat, programs the
 * person listed) is reported by main through `node.setEnvironment`; login items are applied by
 * main from the node's `settings` events.
 */
import type { ApiEvent } from '../../core/api/contract.js'
import type { Handlers } from '../../core/api/dispatch.js'
import type { ShellApiModule, ShellNode, ShellNodeModule } from '../../core/api/shell.js'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

export interface NodeHostOptions {
  /** The app's root: dist/core/ is under it. */
  appPath: string
  userData: string
  /** A private DHT (TANDEM_BOOTSTRAP=host:port,…); absent: the public DHT. */
  bootstrap?: string[]
}

export interface NodeHost {
  handlers: Partial<Handlers>
  node: ShellNode
  close(): Promise<void>
}

export async function startNodeHost(
  opts: NodeHostOptions,
  emit: (event: ApiEvent) => void,
): Promise<NodeHost> {
  const dist = (rel: string) => pathToFileURL(join(opts.appPath, 'dist', 'core', rel)).href
  const { ContributorNode } = (await import(dist('node/node.js'))) as ShellNodeModule
  const { createApi } = (await import(dist('node/api.js'))) as ShellApiModule
  const node = await ContributorNode.open({
    shell: 'electron',
    home: opts.userData,
    ...(opts.bootstrap ? { bootstrap: opts.bootstrap } : {}),
  })
  node.on('event', emit)
  return {
    handlers: createApi(node, 'electron'),
    node,
    close: () => node.close(),
  }
}
