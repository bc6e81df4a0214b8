/**
 * Entry of the node's utility process (utilityProcess.fork, built to out/main/node.js). Waits for
 * main's first message, which carries the node's options and the MessagePort to serve on.
 */
import type { MessagePortLike } from './electron-like.js'
import { isNodeInit } from './node-messages.js'
import { serveNode } from './node-service.js'

interface ParentPort {
  once(
    event: 'message',
    listener: (event: { data: unknown; ports: MessagePortLike[] }) => void,
  ): void
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort
if (!parentPort) {
  process.stderr.write('tandem: out/main/node.js runs only as Electron utility process\n')
  process.exit(2)
}
parentPort.once('message', ({ data, ports }) => {
  const [port] = ports
  if (!port || !isNodeInit(data)) {
    process.stderr.write('tandem node: the first message from main was not an init\n')
    process.exit(2)
  }
  void serveNode({ port, options: data.options, exit: (code) => process.exit(code) })
})
