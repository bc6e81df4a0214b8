/**
 * `tandem testnet`: a private DHT on 127.0.0.1 for local networks. Prints the address to pass to
 * other commands' `--bootstrap`, then runs until Ctrl-C.
 */
import type { Command } from 'commander'
import { TandemError } from '../../api/errors.js'
import { startLoopbackTestnet } from '../../net/testnet.js'
import type { CliIO } from '../io.js'
import { stopSignal } from '../stop-signal.js'

interface TestnetOptions {
  port: string
  nodes: string
  json?: boolean
}

export function registerTestnet(program: Command, io: CliIO): void {
  program
    .command('testnet')
    .description('run a private DHT on 127.0.0.1 and print its bootstrap address (Ctrl-C stops it)')
    .option('--port <n>', 'UDP port of the first bootstrap node (0: any free port)', '0')
    .option('--nodes <n>', 'how many DHT nodes to run', '3')
    .option('--json', 'print one JSON object with the address')
    .action(async (opts: TestnetOptions) => {
      const port = Number(opts.port)
      const nodes = Number(opts.nodes)
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new TandemError('BAD_ARGUMENT', '--port must be an integer from 0 to 65535')
      }
      if (!Number.isInteger(nodes) || nodes < 1 || nodes > 16) {
        throw new TandemError('BAD_ARGUMENT', '--nodes must be an integer from 1 to 16')
      }
      const signal = stopSignal()
      try {
        const testnet = await startLoopbackTestnet(nodes, port)
        const bootstrap = testnet.bootstrap[0] ?? ''
        if (opts.json) io.out(JSON.stringify({ bootstrap, nodes: testnet.bootstrap }) + '\n')
        else {
          io.out(`testnet: private DHT on ${testnet.bootstrap.join(', ')}\n`)
          io.out(`use it with: --bootstrap ${bootstrap}\n`)
          io.out('press Ctrl-C to stop\n')
        }
        await signal.stopped
        await testnet.destroy()
      } finally {
        signal.dispose()
      }
      if (!opts.json) io.out('stopped\n')
    })
}
