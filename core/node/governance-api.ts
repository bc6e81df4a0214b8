/**
 * The governance methods of the local API (docs/governance.md) on a ContributorNode: a project's
 * charter, terms and proposals as seen from this node; proposing (the node that hosts it), voting
 * (a member: signed, sent to the host, recorded in the ledger), accepting new terms; and the
 * `governance` events when a proposal opens or its vote closes. The rules are core/ledger/
 * governance.ts; this file maps them to contract shapes.
 */
import type { GovernanceEvent, GovernanceView, ProposalView } from '../api/contract.js'
import type { Handlers } from '../api/dispatch.js'
import { TandemError } from '../api/errors.js'
import { Change } from '../ledger/amendments.js'
import {
  amendmentDiff,
  effectiveManifest,
  tallies,
  termsAt,
  termsConsent,
  type Tally,
} from '../ledger/governance.js'
import { readLedger, type LedgerState } from '../ledger/reader.js'
import { join } from 'node:path'
import { verifyLedger } from '../host/verify.js'
import { classNamesOf } from '../data/header.js'
import { auditVoteReceipts } from '../ledger/vote-audit.js'
import { exportModel } from './model-export.js'
import type { ContributorNode } from './node.js'
import { VoteReceiptBook } from './vote-receipt-book.js'

type GovernanceHandlers = Pick<
  Handlers,
  | 'governance.get'
  | 'governance.propose'
  | 'governance.vote'
  | 'governance.acceptTerms'
  | 'model.export'
  | 'projects.flags'
  | 'projects.flag'
>

/** How often the node looks for proposals opened or closed (in-memory ledger states only). */
const WATCH_MS = 1000

function proposalView(state: LedgerState, t: Tally, me: string): ProposalView {
  const p = t.proposal
  const mine = t.votes.find((v) => v.counted && v.voter === me)
  return {
    id: p.index,
    title: p.value.title,
    round: p.round,
    proposedAt: p.value.proposedAt,
    change: p.value.change as Record<string, unknown>,
    diff: amendmentDiff(effectiveManifest(state, p.round), p.value.change),
    status: t.status,
    closesAfterRound: t.closesAfterRound,
    effectiveRound: t.effectiveRound,
    enactedAt: t.enactedAt,
    yes: t.yes,
    no: t.no,
    eligibleWeight: t.eligibleWeight,
    eligibleVoters: t.eligible.length,
    quorumMet: t.quorumMet,
    rejectedVotes: t.votes.filter((v) => !v.counted).length,
    changesTerms: t.changesTerms,
    canVote: t.status === 'open' && !mine && t.eligible.some((e) => e.voter === me),
    myVote: mine?.choice ?? null,
  }
}

export function governanceHandlers(node: ContributorNode): GovernanceHandlers {
  const store = node.datasets.corestore
  const me = node.identity.publicKey.toString('hex')
  const logger = node.log.child('governance')
  let receiptBook: Promise<VoteReceiptBook> | null = null
  /** This node's vote receipts (<data dir>/vote-receipts.json), loaded on first use. */
  const receipts = () =>
    (receiptBook ??= VoteReceiptBook.open(join(node.paths.data, 'vote-receipts.json')))

  /**
   * Once a proposal is decided, checks that its tally counts every vote of this node the host
   * receipted; one it left out is a `vote-omitted` event, a warning, and a flag on the project
   * (spread to its peers) naming the proposal and the receipt.
   */
  async function auditOwnVotes(project: string, state: LedgerState, t: Tally): Promise<void> {
    const mine = (await receipts())
      .list(project)
      .filter((x) => x.receipt.proposal === t.proposal.index)
    if (mine.length === 0) return
    for (const o of auditVoteReceipts(state, mine).omitted) {
      logger.warn(`VERIFY_VOTE_OMITTED: ${o.why}`)
      node.push({
        event: 'governance',
        data: {
          project,
          proposal: t.proposal.index,
          title: t.proposal.value.title,
          kind: 'vote-omitted',
          status: t.status,
        },
      })
      const reason = `VERIFY_VOTE_OMITTED: the host signed a receipt for my vote on proposal ${o.proposal} (vote ${o.voteHash}) and its tally leaves it out; the receipt is in my vote-receipts.json`
      try {
        node.flagProject(project, reason)
      } catch (err) {
        // A flag within the hour already stands; the event and the warning above still tell.
        logger.warn(`cannot flag project ${project}: ${(err as Error).message}`)
      }
    }
  }

  /** The ledger as this node holds it: the host's, the participant's, or read now from peers. */
  async function ledgerOf(project: string): Promise<LedgerState> {
    if (node.hosting === project && node.host) return node.host.ledgerState
    const held = node.participant(project)?.ledgerState
    if (held) return held
    const core = store.get({ key: Buffer.from(project, 'hex') })
    try {
      return await readLedger(core, { wait: true, timeout: 10_000 })
    } catch {
      throw new TandemError('PROJECT_NOT_FOUND', `project ${project} is not reachable right now`)
    } finally {
      await core.close().catch(() => {}) // a read-only session for this call
    }
  }

  function view(project: string, state: LedgerState): GovernanceView {
    const round = state.rounds.at(-1)!.round
    const charter = effectiveManifest(state, round).charter ?? null
    const joined = node.joinedProjects().find((p) => p.key === project)
    const accepted = joined?.acceptedTerms ?? null
    const paused = accepted !== null && !termsConsent(state, round, me, accepted).ok
    return {
      project,
      charter,
      hosting: node.hosting === project,
      round,
      terms: { current: termsAt(state, round), accepted, paused },
      proposals: tallies(state).map((t) => proposalView(state, t, me)),
    }
  }

  function flagViews(project: string) {
    return node.flags
      .list(project)
      .map((f) => ({ project: f.project, flagger: f.flagger, at: f.at, reason: f.reason }))
  }

  function find(project: string, state: LedgerState, id: number): ProposalView {
    const t = tallies(state).find((x) => x.proposal.index === id)
    if (!t) throw new TandemError('PROPOSAL_NOT_FOUND', `no proposal ${id} in project ${project}`)
    return proposalView(state, t, me)
  }

  // Events: a proposal opened, or its vote closed, in a ledger this node holds in memory.
  const seen = new Map<string, string>()
  const watch = setInterval(() => {
    if (node.isClosed) {
      clearInterval(watch)
      return
    }
    const keys = new Set(node.joinedProjects().map((p) => p.key))
    if (node.hosting) keys.add(node.hosting)
    for (const project of keys) {
      const state =
        node.hosting === project && node.host
          ? node.host.ledgerState
          : node.participant(project)?.ledgerState
      if (!state) continue
      for (const t of tallies(state)) {
        const id = `${project}:${t.proposal.index}`
        const before = seen.get(id)
        if (before === t.status) continue
        seen.set(id, t.status)
        const kind = t.status === 'open' ? 'opened' : 'closed'
        const data: GovernanceEvent = {
          project,
          proposal: t.proposal.index,
          title: t.proposal.value.title,
          kind,
          status: t.status,
        }
        node.push({ event: 'governance', data })
        if (kind === 'closed')
          auditOwnVotes(project, state, t).catch((err: unknown) =>
            logger.warn(`vote receipts not checked: ${(err as Error).message}`),
          )
      }
    }
  }, WATCH_MS)
  watch.unref()

  return {
    'governance.get': async ({ project }) => view(project, await ledgerOf(project)),
    'governance.propose': async ({ project, title, change }) => {
      if (node.hosting !== project || !node.host)
        throw new TandemError('WRONG_STATE', 'only the node that hosts a project proposes changes')
      const parsed = Change.safeParse(change)
      if (!parsed.success) {
        const issue = parsed.error.issues[0]
        throw new TandemError(
          'BAD_ARGUMENT',
          `invalid change at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
        )
      }
      const id = await node.host.propose(title, parsed.data)
      return find(project, node.host.ledgerState, id)
    },
    'governance.vote': async ({ project, proposal, choice }) => {
      const participant = node.participant(project)
      if (!participant)
        throw new TandemError('PROJECT_NOT_FOUND', `not a member of project ${project}`)
      const answer = await participant.vote(proposal, choice)
      if (answer.status === 'rejected') {
        const code = (
          [
            'PROPOSAL_NOT_FOUND',
            'PROPOSAL_CLOSED',
            'VOTE_INVALID',
            'VOTE_INELIGIBLE',
            'VOTE_DUPLICATE',
          ] as const
        ).find((c) => c === answer.reason)
        throw new TandemError(code ?? 'WRONG_STATE', `the host refused the vote: ${answer.reason}`)
      }
      // The receipt is the evidence should the host leave the vote out: kept before answering.
      if (answer.receipted) await (await receipts()).add(answer.receipted)
      else logger.warn(`the host accepted the vote on proposal ${proposal} without a receipt`)
      // The host recorded it; the view counts it once the ledger block has replicated here.
      const state = participant.ledgerState!
      const deadline = Date.now() + 10_000
      let v = find(project, state, proposal)
      while (!v.myVote && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100))
        v = find(project, participant.ledgerState!, proposal)
      }
      return v
    },
    'model.export': async ({ project, round, path, verify }) => {
      const state = await ledgerOf(project)
      const core = store.get({ key: Buffer.from(project, 'hex') })
      try {
        await core.ready()
        let report = null
        let classNames: string[] | null = null
        const dataset = await node.datasets
          .open(state.manifest.dataset.key, { timeoutMs: verify ? 30_000 : 5_000 })
          .catch((err: unknown) => {
            if (verify) throw err
            // Without verification the dataset only adds class names to the card: go on without.
            logger.warn(`model card without class names: ${(err as Error).message}`)
            return null
          })
        try {
          if (dataset) classNames = classNamesOf(dataset.header.layout)
          if (verify && dataset)
            report = await verifyLedger({ ledger: core, store, dataset, timeoutMs: 30_000 })
        } finally {
          await dataset?.close()
        }
        const at = round ?? state.rounds.length - 1
        return await exportModel({
          ledger: core,
          state,
          round: at,
          path:
            path ??
            join(node.paths.data, 'exports', `${project.slice(0, 12)}-round${at}.safetensors`),
          me,
          hosting: node.hosting === project,
          verify: report,
          classNames,
        })
      } finally {
        await core.close().catch(() => {}) // a read-only session for this call
      }
    },
    'projects.flags': ({ project }) => flagViews(project),
    'projects.flag': ({ project, reason }) => {
      node.flagProject(project, reason)
      return flagViews(project)
    },
    'governance.acceptTerms': async ({ project }) => {
      const participant = node.participant(project)
      if (!participant)
        throw new TandemError('PROJECT_NOT_FOUND', `not a member of project ${project}`)
      participant.acceptTerms()
      return view(project, await ledgerOf(project))
    },
  }
}
