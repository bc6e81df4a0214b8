/**
 * The node's side of the utility process: opens the node (node-host.ts), answers main's
 * forwarded contract calls through the contract's dispatcher, applies what main reports about
 * the desktop session, and stops cleanly when asked. Ledger verification, text sampling and the
 * backend probe run here, so they never block the window or main's event loop.
 */
import { dispatch } from '../../core/api/dispatch.js'
import type { MessagePortLike } from './electron-like.js'
import { isToNode, type FromNode, type ToNode } from './node-messages.js'
import { startNodeHost, type NodeHost, type NodeHostOptions } from './node-host.js'

export interface NodeServiceOptions {
  port: MessagePortLike
  options: NodeHostOptions
  /** Ends the process (process.exit in the utility process). */
  exit(code: number): void
  /** Opens the node (tests may pass their own). */
  start?: typeof startNodeHost
  /** Where problems go (stderr in the utility process). */
  warn?: (line: string) => void
}

export async function serveNode(opts: NodeServiceOptions): Promise<void> {
  const { port } = opts
  const warn = opts.warn ?? ((line) => process.stderr.write(`${line}\n`))
  const post = (message: FromNode) => port.postMessage(message)
  let host: NodeHost | null = null
  let stopping = false

  const stop = async () => {
    if (stopping) return
    stopping = true
    try {
      await host?.close()
    } catch (err) {
      warn(`tandem node: closing failed: ${String(err)}`)
    }
    post({ type: 'stopped' })
    opts.exit(0)
  }

  const handle = (message: ToNode) => {
    if (message.type === 'stop') return void stop()
    if (!host || stopping) {
      if (message.type === 'request') {
        post({
          type: 'reply',
          id: message.id,
          outcome: { ok: false, code: 'WRONG_STATE', message: 'the node is not running' },
        })
      }
      return
    }
    const node = host.node
    switch (message.type) {
      case 'request':
        void dispatch(host.handlers, message.payload).then((outcome) =>
          post({ type: 'reply', id: message.id, outcome }),
        )
        return
      case 'environment':
        node.setEnvironment(message.env)
        return
      case 'network':
        void (message.action === 'suspend' ? node.net.suspend() : node.net.resume()).catch(
          (err: unknown) => warn(`tandem node: swarm ${message.action} failed: ${String(err)}`),
        )
        return
    }
  }

  port.on('message', (event: { data: unknown }) => {
    if (isToNode(event.data)) handle(event.data)
  })
  port.start()

  try {
    host = await (opts.start ?? startNodeHost)(opts.options, (event) =>
      post({ type: 'event', event }),
    )
  } catch (err) {
    post({ type: 'failed', message: err instanceof Error ? err.message : String(err) })
    opts.exit(1)
    return
  }
  if (stopping) {
    await host.close().catch(() => {})
    return
  }
  post({ type: 'ready' })
}
