/**
 * `tandem start` and `tandem daemon`: run this machine's contributor node in the foreground.
 *
 *   start    the node alone: joins the given projects (and those joined before), trains, and logs
 *            to stdout. For rigs driven by config files and for the demo's simulated contributors.
 *   daemon   the node plus the local API (HTTP + WebSocket on 127.0.0.1 with a token) serving the
 *            built UI, so a machine without a screen is managed from a browser. The UI's URL
 *            carries the token in its fragment; `tandem status` and friends find it in daemon.json.
 *            The URL is printed only when stdout is a terminal: under systemd or with output
 *            redirected it would land in a journal or log file that outlives it, so then only the
 *            path of daemon.json is printed, and `tandem url` prints the URL on request. The token
 *            is new at every start; `tandem daemon --new-token` replaces a running daemon's.
 *
 * Both stop cleanly on Ctrl-C / SIGTERM: the round in progress is abandoned (its update is not
 * offered), state is flushed, the swarm is left.
 */
import type { Command } from 'commander'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { TandemError } from '../../api/errors.js'
import { BACKENDS } from '../../engine/backends/probe.js'
import type { EngineOptions } from '../../engine/engine.js'
import { parseBootstrap } from '../../net/swarm.js'
import { createApi } from '../../node/api.js'
import { ContributorNode } from '../../node/node.js'
import { startApiServer, type ApiServer } from '../../server/api-server.js'
import { daemonFilePath } from '../../server/daemon-file.js'
import { packageInfo } from '../../util/package-info.js'
import type { CliIO } from '../io.js'
import { stopSignal } from '../stop-signal.js'
import { daemonUiUrl, rotateDaemonToken } from './client-http.js'

export interface NodeFlags {
  home?: string
  bootstrap?: string[]
  join?: string[]
  share?: string
  backend?: string
  threads?: string
  port?: string
  ui?: string
  json?: boolean
  newToken?: boolean
}

export interface RunningNode {
  node: ContributorNode
  server: ApiServer | null
  stop(): Promise<void>
}

function engineOverrides(flags: NodeFlags): Partial<EngineOptions> {
  const out: Partial<EngineOptions> = {}
  if (flags.backend !== undefined) {
    if (!(BACKENDS as readonly string[]).includes(flags.backend) && flags.backend !== 'auto')
      throw new TandemError('BAD_ARGUMENT', `--backend must be one of auto, ${BACKENDS.join(', ')}`)
    out.backend = flags.backend as EngineOptions['backend']
  }
  if (flags.threads !== undefined) {
    const n = Number(flags.threads)
    if (!Number.isInteger(n) || n < 1 || n > 256)
      throw new TandemError('BAD_ARGUMENT', '--threads must be a whole number from 1 to 256')
    out.maxThreads = n
  }
  return out
}

/** The built UI shipped with the package (out/renderer), if it was built. */
export function defaultUiDir(): string | null {
  const dir = join(packageInfo().root, 'out', 'renderer')
  return existsSync(join(dir, 'index.html')) ? dir : null
}

/** Starts a node (and with `serve`, the API server) as the daemon and the demo use it. */
export async function startNode(
  flags: NodeFlags,
  serve: boolean,
  echo?: { write(line: string): unknown },
): Promise<RunningNode> {
  if (flags.bootstrap) parseBootstrap(flags.bootstrap)
  const share = flags.share === undefined ? undefined : Number(flags.share)
  if (share !== undefined && !(Number.isInteger(share) && share >= 1 && share <= 10_000))
    throw new TandemError('BAD_ARGUMENT', '--share must be a whole number from 1 to 10000')
  const port = flags.port === undefined ? 0 : Number(flags.port)
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new TandemError('BAD_ARGUMENT', '--port must be a port number (0 = any free port)')
  const node = await ContributorNode.open({
    shell: 'daemon',
    ...(flags.home ? { home: flags.home } : {}),
    ...(flags.bootstrap ? { bootstrap: flags.bootstrap } : {}),
    engine: engineOverrides(flags),
    ...(echo ? { logEcho: echo } : {}),
  })
  let server: ApiServer | null = null
  try {
    for (const key of flags.join ?? []) await node.join(key, share)
    if (serve) {
      const uiDir = flags.ui ?? defaultUiDir()
      server = await startApiServer({
        handlers: createApi(node, 'daemon'),
        uiDir,
        port,
        stateDir: node.paths.data,
        log: node.log.child('api'),
      })
      const s = server
      node.on('event', (e) => s.broadcast(e))
    }
  } catch (err) {
    await server?.close().catch(() => {}) // the startup error rethrown below is the one to report
    await node.close()
    throw err
  }
  return {
    node,
    server,
    async stop() {
      // Closing the API server must not keep the node from closing (which saves its state).
      await server?.close().catch(() => {})
      await node.close()
    },
  }
}

async function runNode(flags: NodeFlags, serve: boolean, io: CliIO): Promise<void> {
  const signal = stopSignal()
  try {
    const running = await startNode(flags, serve, flags.json ? { write: io.out } : undefined)
    const { node, server } = running
    const say = (text: string) => {
      if (!flags.json) io.out(`${text}\n`)
    }
    say(`node ${node.identity.displayId} (${node.identity.publicKey.toString('hex')})`)
    say(`state in ${node.paths.data}`)
    for (const p of node.joinedProjects()) say(`member of project ${p.key} (share ${p.share})`)
    if (server) {
      if (io.isTTY) say(`local API and UI: ${server.uiUrl}`)
      else {
        // Not a terminal: this output may be kept (journal, log file); the token stays out of it.
        say(
          `local API and UI on ${server.url} (its token is in ${daemonFilePath(node.paths.data)})`,
        )
        say('`tandem url` prints the URL to open, `tandem status` and friends use the file')
      }
      if (!defaultUiDir() && !flags.ui)
        say('(the UI is not built: run `npm run build` to serve it)')
    }
    if (!flags.json) {
      node.on('event', (e) => {
        if (e.event === 'receipt') {
          const r = e.data
          say(
            `${r.projectName}: round ${r.round} ${r.accepted ? `accepted, +${r.credits} credits` : `rejected (${r.reason})`}`,
          )
        }
      })
    }
    say('press Ctrl-C to stop')
    const why = await signal.stopped
    say(`stopping (${why})…`)
    await running.stop()
    say('stopped')
  } finally {
    signal.dispose()
  }
}

function nodeOptions(cmd: Command): Command {
  return cmd
    .option('--home <dir>', 'state directory (default: the app data dirs, or TANDEM_HOME)')
    .option('--bootstrap <host:port...>', 'use a private DHT (see `tandem testnet`)')
    .option('--join <key...>', 'join these projects (hex key or tandem://project/<key>)')
    .option('--share <n>', 'resource share for the projects joined with --join')
    .option('--backend <name>', 'force a training backend (overrides the setting)')
    .option('--threads <n>', 'CPU threads for training (overrides the setting)')
    .option('--json', 'log JSON lines instead of human text')
}

export function registerNode(program: Command, io: CliIO): void {
  nodeOptions(program.command('start'))
    .description('run the contributor node in the foreground (no UI; Ctrl-C stops it)')
    .action((flags: NodeFlags) => runNode(flags, false, io))
  nodeOptions(program.command('daemon'))
    .description('run the node headless with the local API and web UI on 127.0.0.1')
    .option('--port <n>', 'port of the local API and UI (default: any free port)')
    .option('--ui <dir>', 'serve the UI from this directory (default: the built out/renderer)')
    .option(
      '--new-token',
      "give the running daemon a new token (the old one is refused) and exit; it's also new at every start",
    )
    .action((flags: NodeFlags) => (flags.newToken ? newToken(flags, io) : runNode(flags, true, io)))
  program
    .command('url')
    .description("print the running daemon's UI address, token included (keep it private)")
    .option('--home <dir>', 'state directory (default: the app data dirs, or TANDEM_HOME)')
    .action(async (flags: { home?: string }) => {
      io.out(`${await daemonUiUrl(flags.home ? { home: flags.home } : {})}\n`)
    })
}

/** `tandem daemon --new-token`: rotate the running daemon's token (client-http.ts). */
async function newToken(flags: NodeFlags, io: CliIO): Promise<void> {
  const { file, info } = await rotateDaemonToken(flags.home ? { home: flags.home } : {})
  if (flags.json) {
    io.out(`${JSON.stringify({ event: 'token-rotated', daemonFile: file, port: info.port })}\n`)
    return
  }
  io.out(`new token written to ${file}; the old one is refused from now on\n`)
  // Open pages lose their connection: they need the new URL.
  if (io.isTTY) io.out(`open the UI at http://127.0.0.1:${info.port}/#token=${info.token}\n`)
  else io.out('`tandem url` prints the new URL for the browser\n')
}
