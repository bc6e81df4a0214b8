/**
 * `tandem verify <projectKey>`: audit a project's host from a fresh node. The ledger, the dataset's
 * validation split and the contributors' updates are fetched from the project's peers into a
 * temporary corestore (deleted afterwards: a verifier should depend on nothing it held before, and
 * must not take the lock of this node's own store, which a running node holds), then every closed
 * round is replayed (core/host/verify.ts). Prints one line per round (or one JSON object) and exits
 * non-zero (VERIFY_FAILED) when any round has a problem, including rounds that could not be checked.
 */
import type { Command } from 'commander'
import Corestore from 'corestore'
import crypto from 'hypercore-crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import z32 from 'z32'
import { TandemError } from '../../api/errors.js'
import { Dataset } from '../../data/dataset.js'
import { joinDataset } from '../../data/seeding.js'
import { selectBackend, type BackendPreference } from '../../engine/backends/probe.js'
import { formatRoundReport, formatVerifySummary, verifyLedger } from '../../host/verify.js'
import { readManifestBlock } from '../../ledger/reader.js'
import type { ReceiptedVote } from '../../ledger/vote-receipt.js'
import { SwarmNode } from '../../net/swarm-node.js'
import { parseBootstrap } from '../../net/swarm.js'
import { packageInfo } from '../../util/package-info.js'
import type { CliIO } from '../io.js'
import { readVoteReceipts } from './vote-receipts-input.js'

interface VerifyFlags {
  bootstrap?: string[]
  timeout: string
  backend: string
  json?: boolean
  receipts?: string
}

export function parseProjectKey(text: string): Buffer {
  let key: Buffer | null = null
  if (/^[0-9a-f]{64}$/i.test(text.trim())) key = Buffer.from(text.trim(), 'hex')
  else {
    try {
      key = z32.decode(text.trim())
    } catch {
      key = null
    }
  }
  if (!key || key.length !== 32)
    throw new TandemError('BAD_ARGUMENT', `"${text}" is not a project key (64 hex characters)`)
  return key
}

export function registerVerify(program: Command, io: CliIO): void {
  program
    .command('verify <projectKey>')
    .description("replay a project's ledger and check its host's work, round by round")
    .option(
      '--bootstrap <host:port,...>',
      'use a private DHT (see `tandem testnet`)',
      (v, prev) => [...((prev as string[] | undefined) ?? []), ...v.split(',').filter(Boolean)],
    )
    .option('--timeout <seconds>', 'wait this long for each ledger block, update and shard', '60')
    .option('--backend <name>', 'TF.js backend for validation losses (auto, wasm, cpu, …)', 'auto')
    .option('--json', 'print one JSON object')
    .option(
      '--receipts <file|dir>',
      "voters' vote receipts (a node's vote-receipts.json, or a folder of them): each receipted vote must count",
    )
    .action(async (keyText: string, flags: VerifyFlags) => {
      // Everything the user typed is checked before the network is touched.
      const key = parseProjectKey(keyText)
      if (flags.bootstrap) parseBootstrap(flags.bootstrap)
      const seconds = Number(flags.timeout)
      if (!(seconds > 0) || !Number.isFinite(seconds))
        throw new TandemError('BAD_ARGUMENT', '--timeout must be a positive number of seconds')
      const receipts = flags.receipts ? await readVoteReceipts(flags.receipts) : undefined
      await verifyCommand(key, flags, seconds * 1000, io, receipts)
    })
}

async function verifyCommand(
  key: Buffer,
  flags: VerifyFlags,
  timeoutMs: number,
  io: CliIO,
  voteReceipts: ReceiptedVote[] | undefined,
) {
  const hex = key.toString('hex')
  const dir = await mkdtemp(join(tmpdir(), 'tandem-verify-'))
  const store = new Corestore(join(dir, 'corestore'))
  let node: SwarmNode | null = null
  let dataset: Dataset | null = null
  const ledger = store.get({ key })
  try {
    await store.ready()
    node = new SwarmNode({
      keyPair: crypto.keyPair(),
      ...(flags.bootstrap ? { bootstrap: flags.bootstrap } : {}),
      roles: [],
      agent: `tandem/${packageInfo().version}`,
      corestore: store,
    })
    node.joinProject(key)
    await ledger.ready()
    let first: Buffer | null
    try {
      first = await ledger.get(0, { wait: true, timeout: timeoutMs })
      // The latest length any peer has: the ledger grows while the project runs.
      await ledger.update({ wait: true })
    } catch (err) {
      throw new TandemError(
        'VERIFY_LEDGER_UNAVAILABLE',
        `no peer served project ${hex} within ${timeoutMs / 1000} s`,
        { cause: err },
      )
    }
    if (!first) throw new TandemError('VERIFY_LEDGER_UNAVAILABLE', `project ${hex} is not served`)
    const manifest = readManifestBlock(first)
    const datasetKey = Buffer.from(manifest.dataset.key, 'hex')
    await joinDataset(node.swarm, datasetKey)
    dataset = await Dataset.open(store.get({ key: datasetKey }), { timeoutMs })
    await selectBackend(flags.backend as BackendPreference)
    if (!flags.json) io.out(`verifying ${manifest.name} (${hex}), ${ledger.length} blocks\n`)
    const report = await verifyLedger({
      ledger,
      store,
      dataset,
      timeoutMs,
      ...(voteReceipts ? { voteReceipts } : {}),
      ...(flags.json ? {} : { onRound: (r) => io.out(formatRoundReport(r)) }),
    })
    io.out(flags.json ? `${JSON.stringify(report)}\n` : formatVerifySummary(report))
    if (!report.ok) {
      const bad = report.rounds.filter((r) => !r.ok).length
      throw new TandemError(
        'VERIFY_FAILED',
        `project ${hex} did not verify: ${bad} round(s) and ${report.problems.length} other problem(s)`,
      )
    }
  } finally {
    // Closing a fresh temporary store after the report was written: a failed close must not
    // replace the verification's outcome.
    await dataset?.close().catch(() => {})
    await ledger.close().catch(() => {})
    await node?.destroy()
    await store.close().catch(() => {})
    await rm(dir, { recursive: true, force: true })
  }
}
