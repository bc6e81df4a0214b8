/**
 * Governance from a terminal (docs/governance.md), over the running daemon's local API:
 *
 *   tandem project propose <key> --title <t> --change <json | @file> [--state-dir d]
 *                                         the host proposes a change (written into its ledger, or
 *                                         queued for a running `tandem project host`)
 *   tandem proposals <key>                charter, open proposals with their diff, history
 *   tandem vote <key> <proposal> yes|no   a signed vote, recorded by the host in the ledger
 *   tandem accept-terms <key>             accept changed terms (a paused contributor resumes)
 *   tandem model export <key> [--round N] [--out file.safetensors] [--no-verify]
 *                                         the verified checkpoint as safetensors + model card
 *
 * The others talk to the running daemon. Human text by default, `--json` for the contract's
 * values. Refusals are coded errors
 * (PROPOSAL_NOT_FOUND, PROPOSAL_CLOSED, VOTE_INELIGIBLE, VOTE_DUPLICATE, WRONG_STATE, …).
 */
import type { Command } from 'commander'
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { GovernanceView, ProposalView } from '../../api/contract.js'
import { isTandemError, TandemError } from '../../api/errors.js'
import { DatasetStore } from '../../data/dataset-store.js'
import { Change } from '../../ledger/amendments.js'
import { amendmentDiff } from '../../ledger/governance.js'
import { LedgerWriter } from '../../ledger/ledger.js'
import type { Manifest } from '../../ledger/manifest.js'
import { HostDatasets } from '../../host/host-datasets.js'
import { appPaths } from '../../util/app-paths.js'
import { hostedProject } from './project.js'
import { queueProposal } from './proposal-inbox.js'
import type { CliIO } from '../io.js'
import { callDaemon } from './client-http.js'

interface Flags {
  json?: boolean
  home?: string
}

function common(cmd: Command): Command {
  return cmd
    .option('--json', 'print the API result as JSON')
    .option('--home <dir>', 'the state directory the daemon was started with')
}

function projectKey(text: string): string {
  const hex = text
    .trim()
    .replace(/^tandem:\/\/project\//i, '')
    .toLowerCase()
  if (!/^[0-9a-f]{64}$/.test(hex))
    throw new TandemError('BAD_ARGUMENT', `"${text}" is not a project key (64 hex characters)`)
  return hex
}

async function changeArg(text: string): Promise<Record<string, unknown>> {
  const raw = text.startsWith('@') ? await readFile(text.slice(1), 'utf8') : text
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch (err) {
    throw new TandemError('BAD_ARGUMENT', `--change is not JSON: ${(err as Error).message}`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new TandemError(
      'BAD_ARGUMENT',
      '--change must be a JSON object, e.g. {"kind":"aggregation","rule":"mean"}',
    )
  return value as Record<string, unknown>
}

/**
 * Writes a proposal into the ledger of a project this node hosts. While `tandem project host`
 * runs it holds the store (DATASET_STORE_BUSY): the proposal is queued for it instead
 * (proposal-inbox.ts). Checked first either way, so a bad change is refused here.
 */
async function proposeLocally(
  project: string,
  title: string,
  change: Record<string, unknown>,
  stateDir: string | undefined,
): Promise<{
  id?: number
  round?: number
  queued?: string
  diff?: Array<{ field: string; from: string; to: string }>
}> {
  const parsed = Change.safeParse(change)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new TandemError(
      'BAD_ARGUMENT',
      `invalid change at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
    )
  }
  let store: DatasetStore
  try {
    store = await DatasetStore.open(stateDir ? { dataDir: stateDir } : {})
  } catch (err) {
    if (!isTandemError(err) || err.code !== 'DATASET_STORE_BUSY') throw err
    const dataDir = stateDir ?? appPaths().data
    return { queued: await queueProposal(dataDir, project, title, parsed.data) }
  }
  try {
    const { keyPair } = await hostedProject(store, project, {})
    const ledger = await LedgerWriter.open(store.corestore, keyPair)
    try {
      const before = ledger.effectiveManifest()
      await checkSwap(store, before, parsed.data)
      const id = await ledger.propose(title, parsed.data)
      return { id, round: ledger.round, diff: amendmentDiff(before, parsed.data) }
    } finally {
      await ledger.close()
    }
  } finally {
    await store.close()
  }
}

/**
 * A dataset or model change the host could not run is refused before the vote, as the running
 * host refuses it (host-datasets.ts): the dataset must be on this node and fit the model in effect.
 */
async function checkSwap(store: DatasetStore, m: Manifest, change: Change): Promise<void> {
  if (change.kind !== 'dataset' && change.kind !== 'model') return
  const base = await store.openLocal(m.dataset.key)
  const datasets = new HostDatasets({ store: store.corestore, base, timeoutMs: 5_000 })
  try {
    await datasets.check(m, change)
  } finally {
    await datasets.close(() => {})
    await base.close()
  }
}

/** What `project propose` prints once the proposal is in the ledger: its id and its diff. */
export function formatProposed(out: {
  id?: number
  round?: number
  diff?: Array<{ field: string; from: string; to: string }>
}): string {
  const lines = [`proposal ${out.id} recorded in round ${out.round}`]
  for (const d of out.diff ?? []) lines.push(`  ${d.field}: ${d.from} → ${d.to}`)
  return `${lines.join('\n')}\n`
}

export function formatProposal(p: ProposalView): string {
  const outcome =
    p.status === 'open'
      ? `open until the end of round ${p.closesAfterRound ?? '?'}`
      : `${p.status}${p.enactedAt !== null ? `, in effect from round ${p.enactedAt}` : ''}`
  const lines = [
    `#${p.id} ${p.title} — ${outcome}`,
    `  votes: yes ${p.yes}, no ${p.no} of ${p.eligibleWeight} eligible (${p.eligibleVoters} voters)${p.quorumMet ? '' : ', quorum not met'}${p.rejectedVotes ? `, ${p.rejectedVotes} not counted` : ''}`,
    ...p.diff.map((d) => `  ${d.field}: ${d.from} → ${d.to}`),
  ]
  if (p.changesTerms) lines.push('  changes the terms: contributors who do not vote yes pause')
  if (p.myVote) lines.push(`  you voted ${p.myVote}`)
  else if (p.canVote) lines.push(`  you may vote: tandem vote <project> ${p.id} yes|no`)
  return `${lines.join('\n')}\n`
}

export function formatGovernance(g: GovernanceView): string {
  const c = g.charter
  const out: string[] = []
  if (!c) out.push('charter: no charter')
  else {
    out.push(`purpose: ${c.purpose}`)
    if (c.prohibitedUses.length) out.push(`not for: ${c.prohibitedUses.join('; ')}`)
    out.push(`weights: ${c.weights.licence}, download: ${c.weights.download}`)
    out.push(`data: ${c.dataSources.map((d) => `${d.name} (${d.licence})`).join(', ')}`)
    out.push(`host: ${c.host.name} <${c.host.contact}>`)
    const pol = c.governance
    const period =
      'rounds' in pol.votingPeriod
        ? `${pol.votingPeriod.rounds} round(s)`
        : `${pol.votingPeriod.seconds} s`
    out.push(
      `policy: ${pol.weighting}, quorum ${pol.quorum}, threshold ${pol.threshold}, voting ${period}`,
    )
  }
  if (g.terms.paused)
    out.push('PAUSED: the terms changed; `tandem accept-terms <project>` to go on')
  out.push(g.proposals.length ? '' : 'no proposals')
  return `${out.join('\n')}\n${g.proposals.map(formatProposal).join('')}`
}

export function registerGovernance(program: Command, io: CliIO): void {
  const print = <T>(flags: Flags, value: T, human: (v: T) => string) =>
    io.out(flags.json ? `${JSON.stringify(value)}\n` : human(value))
  const target = (flags: Flags) => (flags.home ? { home: flags.home } : {})

  const project =
    program.commands.find((c) => c.name() === 'project') ??
    program.command('project').description('create and inspect training projects')
  project
    .command('propose <key>')
    .description('propose a change to a project this node hosts; its contributors vote on it')
    .requiredOption('--title <text>', 'what the change is, in a line')
    .requiredOption(
      '--change <json>',
      'the change as JSON or @file, e.g. {"kind":"aggregation","rule":"mean"}',
    )
    .option('--state-dir <dir>', 'the data directory `tandem project host` uses')
    .option('--json', 'print the result as JSON')
    .action(
      async (
        key: string,
        flags: { title: string; change: string; stateDir?: string; json?: boolean },
      ) => {
        const out = await proposeLocally(
          projectKey(key),
          flags.title,
          await changeArg(flags.change),
          flags.stateDir,
        )
        io.out(
          flags.json
            ? `${JSON.stringify(out)}\n`
            : out.queued
              ? `queued for the running host: ${out.queued}\n`
              : formatProposed(out),
        )
      },
    )

  common(program.command('proposals <key>'))
    .description("a project's charter, its open proposals with their diff, and their history")
    .action(async (key: string, flags: Flags) => {
      const g = await callDaemon('governance.get', { project: projectKey(key) }, target(flags))
      print(flags, g, formatGovernance)
    })

  common(program.command('vote <key> <proposal> <choice>'))
    .description('vote yes or no on a proposal (signed by this node, recorded in the ledger)')
    .action(async (key: string, proposal: string, choice: string, flags: Flags) => {
      const id = Number(proposal)
      if (!Number.isInteger(id) || id < 1)
        throw new TandemError('BAD_ARGUMENT', `"${proposal}" is not a proposal id`)
      if (choice !== 'yes' && choice !== 'no')
        throw new TandemError('BAD_ARGUMENT', 'the choice is yes or no')
      const params = { project: projectKey(key), proposal: id, choice } as const
      print(flags, await callDaemon('governance.vote', params, target(flags)), formatProposal)
    })

  common(program.command('accept-terms <key>'))
    .description("accept a project's changed terms, so this node trains for it again")
    .action(async (key: string, flags: Flags) => {
      const g = await callDaemon(
        'governance.acceptTerms',
        { project: projectKey(key) },
        target(flags),
      )
      print(flags, g, formatGovernance)
    })

  const model =
    program.commands.find((c) => c.name() === 'model') ??
    program.command('model').description("a project's trained model")
  common(model.command('export <key>'))
    .description('write the checkpoint as safetensors with a model card, if the charter allows it')
    .option('--round <n>', 'the checkpoint of this round (default: the latest)')
    .option('--out <file>', 'where to write it (default: ./<project>-round<N>.safetensors)')
    .option('--no-verify', 'skip replaying the ledger (the card then says "not verified")')
    .action(
      async (key: string, flags: Flags & { round?: string; out?: string; verify: boolean }) => {
        const project = projectKey(key)
        let round: number | undefined
        if (flags.round !== undefined) {
          round = Number(flags.round)
          if (!Number.isInteger(round) || round < 0)
            throw new TandemError('BAD_ARGUMENT', '--round must be 0 or more')
        }
        const name = `${project.slice(0, 12)}-round${round ?? 'latest'}.safetensors`
        const path = resolve(flags.out ?? name)
        if (!/\.safetensors$/i.test(path))
          throw new TandemError('BAD_ARGUMENT', '--out must end in .safetensors')
        const params = {
          project,
          path,
          verify: flags.verify,
          ...(round === undefined ? {} : { round }),
        }
        print(flags, await callDaemon('model.export', params, target(flags)), (r) => {
          const v = r.verified ? 'verified' : 'NOT verified'
          return `wrote round ${r.round} (${r.bytes} bytes, ${v}) to ${r.path}\nmodel card: ${r.cardPath}\n`
        })
      },
    )
}
