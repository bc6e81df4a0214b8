/**
 * `tandem project create|info`: project ledgers in this node's corestore (the DatasetStore's, so
 * one process holds the store's lock). Each project's ledger is signed by its own key pair, derived
 * from the corestore's primary key and a name recorded in <data>/projects.json: the node identity
 * cannot be used because one key pair gives one core, and a node may host several projects; and no
 * extra secret is written to disk. The name is all a restarted host needs to reopen its writer.
 */
import type { Command } from 'commander'
import { randomUUID } from 'node:crypto'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { TandemError } from '../../api/errors.js'
import { DatasetStore } from '../../data/dataset-store.js'
import { createProject } from '../../ledger/ledger.js'
import { parseProjectSpecJson } from '../../ledger/manifest.js'
import { readLedger } from '../../ledger/reader.js'
import type { CliIO } from '../main.js'

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
        const keyName = `tandem/project/${randomUUID()}`
        const keyPair = await store.corestore.createKeyPair(keyName)
        const host = { publicKey: keyPair.publicKey, secretKey: keyPair.secretKey! }
        const key = await createProject(store.corestore, spec, host)
        await saveHosted(store.dataDir, [...(await hosted(store.dataDir)), { key, keyName }])
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
}
