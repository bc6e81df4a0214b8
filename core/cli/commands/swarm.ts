/**
 * `tandem swarm`: run this node on the swarm (public DHT, or `--bootstrap host:port`) with its
 * identity from the app data dir, join the discovery topic and any projects, and print peers and
 * state changes as they happen. Offline is a state, not an error: the node keeps trying. The node's
 * corestore (the dataset store's, in the same data dir) replicates on every connection, so what
 * this node holds is served while it runs.
 */
import type { Command } from 'commander'
import z32 from 'z32'
import { TandemError } from '../../api/errors.js'
import { DatasetStore } from '../../data/dataset-store.js'
import { loadOrCreateIdentity } from '../../net/identity.js'
import { SwarmNode } from '../../net/swarm-node.js'
import { parseBootstrap } from '../../net/swarm.js'
import { appPaths } from '../../util/app-paths.js'
import { packageInfo } from '../../util/package-info.js'
import type { CliIO } from '../io.js'
import { stopSignal, type StopSignal } from '../stop-signal.js'

interface SwarmOptions {
  bootstrap?: string[]
  project?: string[]
  host?: boolean
  json?: boolean
  until?: string
}

export function registerSwarm(program: Command, io: CliIO): void {
  program
    .command('swarm')
    .description('join the swarm and show peers as they connect (Ctrl-C stops)')
    .option('--bootstrap <host:port...>', 'use a private DHT (see `tandem testnet`)')
    .option('--project <key...>', 'also join these projects (64 hex or 52 z-base-32 characters)')
    .option('--host', 'announce on the discovery topic as a project host')
    .option('--until <n>', 'exit once this many peers are connected')
    .option('--json', 'print one JSON object per event')
    .action(async (opts: SwarmOptions) => {
      if (opts.bootstrap) parseBootstrap(opts.bootstrap) // coded BAD_ARGUMENT before starting
      const projects = (opts.project ?? []).map(parseKey)
      const until = opts.until === undefined ? Infinity : Number(opts.until)
      if (!(until >= 1)) throw new TandemError('BAD_ARGUMENT', '--until must be 1 or more')
      await runSwarm(opts, projects, until, io)
    })
}

function parseKey(text: string): Buffer {
  let key: Buffer | null = null
  if (/^[0-9a-f]{64}$/i.test(text)) key = Buffer.from(text, 'hex')
  else {
    try {
      key = z32.decode(text)
    } catch {
      key = null
    }
  }
  if (!key || key.length !== 32) {
    throw new TandemError('BAD_ARGUMENT', `"${text}" is not a 32-byte key (hex or z-base-32)`)
  }
  return key
}

async function runSwarm(opts: SwarmOptions, projects: Buffer[], until: number, io: CliIO) {
  const dataDir = appPaths().data
  const identity = await loadOrCreateIdentity(dataDir)
  // Before the first line of output: whoever reads it may press Ctrl-C at once.
  const signal = stopSignal()
  // The one corestore of this data dir, the dataset store's (a second store on the same directory
  // would fail its lock).
  let datasets: DatasetStore
  try {
    datasets = await DatasetStore.open({ dataDir })
  } catch (err) {
    signal.dispose()
    throw err
  }
  const node = new SwarmNode({
    keyPair: identity,
    ...(opts.bootstrap ? { bootstrap: opts.bootstrap } : {}),
    roles: opts.host ? ['host'] : ['contributor'],
    agent: `tandem/${packageInfo().version}`,
    corestore: datasets.corestore,
  })
  try {
    await report(node, opts, projects, until, io, signal)
  } finally {
    signal.dispose()
    await node.destroy()
    await datasets.close()
  }
}

/** Prints the node's events until a signal, or until `until` peers are connected. */
async function report(
  node: SwarmNode,
  opts: SwarmOptions,
  projects: Buffer[],
  until: number,
  io: CliIO,
  signal: StopSignal,
) {
  const say = (event: string, fields: Record<string, unknown>, text: string) =>
    io.out(opts.json ? JSON.stringify({ event, ...fields }) + '\n' : text + '\n')

  say(
    'start',
    { id: node.displayId, key: node.key.toString('hex'), state: node.state },
    `node ${node.displayId} on ${opts.bootstrap ? opts.bootstrap.join(', ') : 'the public DHT'}; ${node.state}`,
  )
  node.on('state', (state) => say('state', { state }, `state: ${state}`))
  node.on('ban', (ban) => say('ban', { ...ban }, `banned ${ban.key.slice(0, 8)}… (${ban.code})`))

  node.on('peer', (peer) => {
    say(
      'peer',
      { id: peer.displayId, roles: peer.hello?.roles, peers: node.peers().length },
      `peer ${peer.displayId} (${peer.hello?.roles.join(', ') || 'no roles'}); ${node.peers().length} connected`,
    )
    if (node.peers().length >= until) signal.stop('enough peers')
  })
  node.on('peer-leave', (peer) =>
    say('peer-leave', { id: peer.displayId }, `peer ${peer.displayId} left`),
  )
  node.joinDiscovery()
  for (const p of projects) node.joinProject(p)

  await signal.stopped
  say('stop', { counters: node.status().counters }, 'stopping…')
}
