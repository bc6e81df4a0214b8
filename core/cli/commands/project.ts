/**
 * `tandem project create|info|host`: project ledgers in this node's corestore (the DatasetStore's,
 * so one process holds the store's lock). Each project's ledger is signed by its own key pair,
 * derived from the corestore's primary key and a name recorded in <data>/projects.json: the node
 * identity cannot be used because one key pair gives one core, and a node may host several
 * projects; and no extra secret is written to disk. The name is all a restarted host needs to
 * reopen its writer.
 *
 * `project host` runs one project's coordinator headlessly (core/host/host.ts). Its swarm identity
 * is the project's host key pair, because contributors accept round announcements only from the
 * peer whose Noise key is the manifest's host key; so one such process hosts one project. The
 * offer journal lives in <data>/host/<project>/, so a killed host resumes its open round.
 */
import type { Command } from 'commander'
import { randomUUID } from 'node:crypto'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { TandemError } from '../../api/errors.js'
import { DatasetStore } from '../../data/dataset-store.js'
import { importDataset } from '../../data/import.js'
import { watchProposalInbox } from './proposal-inbox.js'
import { ProjectHost } from '../../host/host.js'
import { createProject, LedgerWriter, type HostKeyPair } from '../../ledger/ledger.js'
import {
  parseProjectSpec,
  readProjectSpecObject,
  parseProjectSpecJson,
  type ProjectSpec,
} from '../../ledger/manifest.js'
import { readLedger } from '../../ledger/reader.js'
import { SwarmNode } from '../../net/swarm-node.js'
import { parseBootstrap } from '../../net/swarm.js'
import { packageInfo } from '../../util/package-info.js'
import type { CliIO } from '../io.js'
import { stopSignal } from '../stop-signal.js'

interface HostedProject {
  key: string
  keyName: string
}

async function hosted(dataDir: string): Promise<HostedProject[]> {
  try {
    return JSON.parse(await readFile(join(dataDir, 'projects.json'), 'utf8')) as HostedProject[]
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw new TandemError('INTERNAL', `cannot read ${join(dataDir, 'projects.json')}`, {
      cause: err,
    })
  }
}

async function saveHosted(dataDir: string, list: HostedProject[]): Promise<void> {
  const file = join(dataDir, 'projects.json')
  await writeFile(`${file}.tmp`, JSON.stringify(list, null, 2))
  await rename(`${file}.tmp`, file)
}

async function readSpecFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    throw new TandemError('BAD_ARGUMENT', `cannot read ${path}: ${(err as Error).message}`)
  }
}

/** Creates a project ledger signed by a fresh key pair derived from the store; records its name. */
async function createHosted(store: DatasetStore, spec: ProjectSpec): Promise<string> {
  const keyName = `tandem/project/${randomUUID()}`
  const keyPair = await store.corestore.createKeyPair(keyName)
  const host = { publicKey: keyPair.publicKey, secretKey: keyPair.secretKey! }
  const key = await createProject(store.corestore, spec, host)
  await saveHosted(store.dataDir, [...(await hosted(store.dataDir)), { key, keyName }])
  return key
}

function projectKeyArg(key: string): string {
  const hex = key.trim().toLowerCase()
  if (!/^[0-9a-f]{64}$/.test(hex))
    throw new TandemError('BAD_ARGUMENT', `"${key}" is not a project key (64 hex characters)`)
  return hex
}

interface HostFlags {
  spec?: string
  dataset?: string
  bootstrap?: string[]
  stateDir?: string
  rounds?: string
  json?: boolean
}

/**
 * The dataset a new project trains on: a key already on this node, or a file imported now with
 * the importer's defaults (for other options, run `tandem dataset import` first and pass the key).
 */
async function resolveDataset(store: DatasetStore, arg: string): Promise<string> {
  if (/^[0-9a-f]{64}$/i.test(arg.trim())) {
    const key = arg.trim().toLowerCase()
    if (!store.entry(key))
      throw new TandemError('DATASET_NOT_FOUND', `no dataset ${key} on this node`)
    return key
  }
  return (await importDataset(store, { file: arg })).key
}

/** The project to host: `key` (created here earlier), or a new one from --spec. */
export async function hostedProject(
  store: DatasetStore,
  key: string | undefined,
  flags: HostFlags,
): Promise<{ key: string; keyPair: HostKeyPair; created: boolean }> {
  let created = false
  if (key === undefined) {
    if (!flags.spec)
      throw new TandemError('BAD_ARGUMENT', 'give a project key, or --spec to create a project')
    const json = await readSpecObject(flags.spec)
    if (flags.dataset) json['dataset'] = { key: await resolveDataset(store, flags.dataset) }
    key = await createHosted(store, parseProjectSpec(json))
    created = true
  } else {
    key = projectKeyArg(key)
    if (flags.spec) throw new TandemError('BAD_ARGUMENT', '--spec creates a project: drop the key')
  }
  const entry = (await hosted(store.dataDir)).find((p) => p.key === key)
  if (!entry)
    throw new TandemError('PROJECT_NOT_FOUND', `project ${key} was not created on this node`)
  const pair = await store.corestore.createKeyPair(entry.keyName)
  return { key, keyPair: { publicKey: pair.publicKey, secretKey: pair.secretKey! }, created }
}

/** A spec file as a plain object, so --dataset can fill in `dataset` before it is checked. */
async function readSpecObject(path: string): Promise<Record<string, unknown>> {
  return readProjectSpecObject(await readSpecFile(path))
}

async function hostProject(key: string | undefined, flags: HostFlags, io: CliIO): Promise<void> {
  if (flags.bootstrap) parseBootstrap(flags.bootstrap)
  const rounds = flags.rounds === undefined ? undefined : Number(flags.rounds)
  if (rounds !== undefined && !(Number.isInteger(rounds) && rounds >= 1))
    throw new TandemError('BAD_ARGUMENT', '--rounds must be a whole number of 1 or more')
  const say = (event: string, fields: Record<string, unknown>, text: string) =>
    io.out(flags.json ? `${JSON.stringify({ event, ...fields })}\n` : `${text}\n`)
  const signal = stopSignal()
  const store = await DatasetStore.open(flags.stateDir ? { dataDir: flags.stateDir } : {})
  let node: SwarmNode | null = null
  let ledger: LedgerWriter | null = null
  let host: ProjectHost | null = null
  let dataset: Awaited<ReturnType<DatasetStore['openLocal']>> | null = null
  try {
    const project = await hostedProject(store, key, flags)
    ledger = await LedgerWriter.open(store.corestore, project.keyPair)
    const manifest = ledger.manifest
    dataset = await store.openLocal(manifest.dataset.key)
    node = new SwarmNode({
      keyPair: project.keyPair,
      ...(flags.bootstrap ? { bootstrap: flags.bootstrap } : {}),
      roles: ['host'],
      agent: `tandem/${packageInfo().version}`,
      corestore: store.corestore,
    })
    host = new ProjectHost({
      node,
      store: store.corestore,
      keyPair: project.keyPair,
      ledger,
      dataset,
      journalDir: join(store.dataDir, 'host', project.key),
      discovery: true,
      ...(rounds !== undefined ? { rounds } : {}),
    })
    const short = (hex: string) => `${hex.slice(0, 8)}…`
    host.on('round-open', (e) =>
      say(
        'round-open',
        { ...e },
        `round ${e.round} ${e.resumed ? 'resumed' : 'open'}${e.extended ? ' (extended)' : ''} ` +
          `until ${new Date(e.deadline).toISOString()}`,
      ),
    )
    host.on('offer', (e) =>
      say(
        'offer',
        { ...e },
        `round ${e.round}: offer from ${short(e.contributor)} ${e.status}` +
          (e.reason ? ` (${e.reason})` : ''),
      ),
    )
    host.on('round-closed', (e) =>
      say(
        'round-closed',
        { ...e },
        `round ${e.round} closed: loss ${e.lossBefore.toFixed(4)} → ${e.lossAfter.toFixed(4)}, ` +
          `${e.accepted} accepted, ${e.rejected} rejected`,
      ),
    )
    host.on('warning', (err) =>
      say('warning', { message: String(err) }, `warning: ${(err as Error)?.message ?? err}`),
    )
    host.on('done', () => signal.stop('rounds done'))
    say(
      'start',
      { project: project.key, created: project.created, dataset: manifest.dataset.key },
      `hosting "${manifest.name}" (${project.key}) on ` +
        `${flags.bootstrap ? flags.bootstrap.join(', ') : 'the public DHT'}`,
    )
    await host.start()
    // Proposals queued by `tandem project propose` while this process holds the store.
    const stopInbox = watchProposalInbox(store.dataDir, host, (ok, text, id) =>
      say(ok ? 'proposal' : 'warning', ok ? { id } : { message: text }, text),
    )
    const why = await Promise.race([signal.stopped, host.finished().then(() => 'done')])
    stopInbox()
    say('stop', { reason: why }, `stopping (${why})…`)
  } finally {
    signal.dispose()
    // Shutting down once the command's outcome is settled: a failed close must not replace that
    // outcome (its error or exit code), and the process exits right after.
    await host?.stop().catch(() => {})
    await node?.destroy()
    await dataset?.close().catch(() => {})
    await ledger?.close().catch(() => {})
    await store.close()
  }
}

export function registerProject(program: Command, io: CliIO): void {
  const project = program.command('project').description('create and inspect training projects')

  project
    .command('create')
    .description('create a project ledger from a spec file and print its key')
    .requiredOption('--spec <file>', 'project spec (JSON)')
    .option('--json', 'print one JSON object')
    .action(async (flags: { spec: string; json?: boolean }) => {
      const spec = parseProjectSpecJson(await readSpecFile(flags.spec))
      const store = await DatasetStore.open()
      try {
        const key = await createHosted(store, spec)
        io.out(flags.json ? `${JSON.stringify({ key, name: spec.name })}\n` : `${key}\n`)
      } finally {
        await store.close()
      }
    })

  project
    .command('info <key>')
    .description("print a project's manifest and round count")
    .option('--json', 'print one JSON object')
    .action(async (key: string, flags: { json?: boolean }) => {
      const hex = key.trim().toLowerCase()
      if (!/^[0-9a-f]{64}$/.test(hex))
        throw new TandemError('BAD_ARGUMENT', `"${key}" is not a project key (64 hex characters)`)
      const store = await DatasetStore.open()
      try {
        const core = store.corestore.get({ key: Buffer.from(hex, 'hex') })
        try {
          await core.ready()
          if (core.length === 0)
            throw new TandemError('PROJECT_NOT_FOUND', `no project ${hex} on this node`)
          const state = await readLedger(core, { wait: false })
          const rounds = state.rounds.length
          const m = state.manifest
          io.out(
            flags.json
              ? `${JSON.stringify({ key: hex, manifest: m, rounds })}\n`
              : `${m.name} (${hex})\n  ${m.description}\n  model ${m.model.type}, ` +
                  `aggregation ${m.aggregation.rule}, dataset ${m.dataset.key}\n` +
                  `  rounds: ${rounds} checkpoint(s), ${state.rounds.filter((r) => r.receipt).length} receipt(s)\n`,
          )
        } finally {
          await core.close()
        }
      } finally {
        await store.close()
      }
    })

  project
    .command('host [key]')
    .description('run the coordinator of a project (created with --spec, or an existing key)')
    .option('--spec <file>', 'create a new project from this spec first')
    .option(
      '--dataset <key|file>',
      "the new project's dataset: a key on this node, or a file to import",
    )
    .option('--bootstrap <host:port...>', 'use a private DHT (see `tandem testnet`)')
    .option('--state-dir <dir>', 'data directory (default: the app data dir, or TANDEM_HOME)')
    .option('--rounds <n>', 'stop after closing this many rounds')
    .option('--json', 'print one JSON object per event')
    .action(async (key: string | undefined, flags: HostFlags) => hostProject(key, flags, io))
}
