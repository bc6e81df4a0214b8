/**
 * Replaying a project ledger to check its host. For every closed round r the verifier reads
 * checkpoint r and outer-state r from the ledger, fetches the contributors' updates the receipt
 * names from their update cores, rebuilds the round's candidates, re-runs computeRound (round.ts)
 * (which judges with the scoring version the manifest names: manifest.aggregation.scoring, absent
 * = v1, so ledgers written before the field replay as they were judged)
 * and compares what it gets with what the host wrote: the receipt's verdicts, scores and credits,
 * checkpoint r+1 and outer-state r+1. It also checks what needs no replay: the hash chain between
 * receipts and checkpoints, checkpoint 0 against the manifest's seed, and every receipt against the
 * credit rule. Because the momentum is in the ledger, each round is checked on its own; one
 * unverifiable round (an update gone offline) does not stop the others.
 *
 * What a receipt states and the ledger cannot prove is taken as given: whether an offer's signature
 * was valid ('bad-signature') and when it arrived. Receipts record each arrival time and the
 * deadline the round closed under, so 'late' must agree with them (and the deadline may only be
 * the round-open one or later); a contributor holding its receipt can hold the recorded arrival
 * time against its own log. Older receipts without those fields are rebuilt as before (receivedAt
 * deadline + 1 for 'late', 0 otherwise). Bytes are fetched only for candidates
 * whose verdict depends on them: a rejection by an offer-stage rule of the verdict table
 * (verdicts.ts: bad-signature, lateness, replay, duplication) is decided before decoding, so its
 * update is not downloaded (a false claim of duplication still
 * shows: the replay decodes nothing for it and gets another verdict).
 *
 * Floats: weights and momentum come from the aggregation and the outer step, which are plain
 * JavaScript arithmetic in a fixed order, so once the verdicts agree the checkpoint hashes agree
 * bit for bit on any backend. Validation losses come from TF.js, whose last bits depend on the
 * backend: scores and quality are compared within SCORE_TOLERANCE (exact on the host's backend).
 */
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import { isTandemError, type ErrorCode } from '../api/errors.js'
import type { Dataset } from '../data/dataset.js'
import { checkpointContentHash } from '../engine/checkpoint.js'
import { initialWeights } from '../engine/model/init.js'
import type { Contribution, Receipt } from '../ledger/entries.js'
import { effectiveManifest } from '../ledger/governance.js'
import { overlapMode, roundSamples } from '../ledger/manifest.js'
import { readOuterUpdate, type HeldCheckpoint } from '../ledger/checkpoint-chain.js'
import {
  readCheckpoint,
  readLedger,
  readLedgerBlock,
  readOuterResidual,
  readOuterState,
  type LedgerState,
} from '../ledger/reader.js'
import type { OuterUpdateWrite } from '../ledger/ledger.js'
import { checkReceiptCredits } from '../ledger/receipts.js'
import { decodeUpdateHeader, fetchUpdate, MAX_UPDATE_BYTES } from '../ledger/updates.js'
import { auditVoteReceipts, type ReceiptAudit } from '../ledger/vote-audit.js'
import type { ReceiptedVote } from '../ledger/vote-receipt.js'
import { publishedCheckpoint } from './outer-update.js'
import { computeRound, roundHistory, type RoundCandidate } from './round.js'
import { roundBases, type RoundBases } from './rebase.js'
import { HostDatasets } from './host-datasets.js'
import { verifyBoundaries } from './verify-boundary.js'
import { verifyGovernance } from './verify-governance.js'
import { DECIDED_WITHOUT_BYTES } from './verdicts.js'

export interface VerifyProblem {
  code: ErrorCode
  message: string
}

export interface RoundReport {
  round: number
  ok: boolean
  /** false when the round could not be replayed (e.g. an update is offline): see the problems. */
  replayed: boolean
  problems: VerifyProblem[]
}

export interface VerifyReport {
  project: string
  ok: boolean
  /** One per closed round (a round with a receipt), in order. */
  rounds: RoundReport[]
  /** Problems that belong to no closed round (checkpoint 0). */
  problems: VerifyProblem[]
  /** What became of the vote receipts given (absent when none were). */
  receipts?: Omit<ReceiptAudit, 'omitted'> & { omitted: number }
}

export interface VerifyOptions {
  ledger: Hypercore
  /** Where the contributors' update cores are opened (replicating with peers that have them). */
  store: Corestore
  /**
   * The manifest's dataset, for the validation batch. A dataset a dataset amendment named is opened
   * from `store` (verify-boundary.ts).
   */
  dataset: Dataset
  /** ms to wait for each ledger block or update; 0 waits for peers indefinitely. */
  timeoutMs?: number
  /** Called after each round, e.g. to print progress. */
  onRound?: (report: RoundReport) => void
  /**
   * Voters' receipted votes (docs/governance.md, "Vote receipts"): each one the host signed must
   * count in its decided tally (VERIFY_VOTE_OMITTED otherwise). Forged ones are left out of the
   * check and listed in the report's `receipts.rejected`.
   */
  voteReceipts?: readonly ReceiptedVote[]
}

/** Relative tolerance for validation losses and quality (backends differ in the last bits). */
export const SCORE_TOLERANCE = 1e-4

/**
 * Whether replaying contribution `c` needs its bytes: not when an offer-stage rule of verdicts.ts
 * rejected it (bad-signature, late, replayed, duplicate: decided before decoding), unless its own
 * recorded arrival time contradicts a 'late', which is then replayed in full, so the report says
 * what the update should have got.
 */
export function replayNeedsBytes(c: Contribution, deadline: number): boolean {
  return !c.reason || !DECIDED_WITHOUT_BYTES.has(c.reason) || lateClaimContradicted(c, deadline)
}

function lateClaimContradicted(c: Contribution, deadline: number): boolean {
  return c.reason === 'late' && c.receivedAt !== undefined && c.receivedAt <= deadline
}

/**
 * The computeRound candidate a receipt's contribution stands for. What the ledger cannot prove is
 * taken from the receipt: the signature check (its 'bad-signature') and the arrival time (older
 * receipts without one: deadline + 1 for 'late', 0 otherwise).
 */
export function replayCandidate(
  c: Contribution,
  deadline: number,
  encoded: Uint8Array | null,
  startedFrom?: string,
): RoundCandidate {
  return {
    ...(startedFrom !== undefined ? { startedFrom } : {}),
    contributor: c.contributor,
    updateCore: c.updateCore,
    updateIndex: c.updateIndex,
    updateHash: c.updateHash,
    samples: c.samples,
    encoded,
    receivedAt: c.receivedAt ?? (c.reason === 'late' ? deadline + 1 : 0),
    signatureValid: c.reason !== 'bad-signature',
  }
}

const close = (a: number, b: number, tol = SCORE_TOLERANCE) =>
  Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b))

/** `startedFrom`: the checkpoint hash the update's header names (when it verified). */
type Fetched = { encoded: Uint8Array | null; startedFrom?: string } | { unavailable: string }

/**
 * Fetches the update a receipt names, the way the host did: the header first (it gives the block
 * count), then fetchUpdate, which checks it against the receipt's hash. An update that is there but
 * does not verify is null (the host could not have used it either); one that does not arrive is
 * unavailable.
 */
async function fetchContribution(
  store: Corestore,
  project: string,
  round: number,
  c: Contribution,
  timeoutMs: number,
): Promise<Fetched> {
  const core = store.get({ key: Buffer.from(c.updateCore, 'hex') })
  try {
    await core.ready()
    const first = await core.get(c.updateIndex, { wait: true, timeout: timeoutMs })
    if (!first) return { unavailable: 'the header is not available' }
    const header = decodeUpdateHeader(first, c.updateIndex)
    const { encoded, header: full } = await fetchUpdate(core, {
      start: c.updateIndex,
      length: header.chunkCount + 1,
      expectedHash: c.updateHash,
      project,
      round,
      maxBytes: MAX_UPDATE_BYTES,
      timeout: timeoutMs,
    })
    return { encoded, startedFrom: full.checkpointHash }
  } catch (err) {
    if (isTandemError(err) && err.code !== 'UPDATE_UNAVAILABLE' && err.code.startsWith('UPDATE_'))
      return { encoded: null }
    if (isTandemError(err) && err.code !== 'UPDATE_UNAVAILABLE') throw err
    return { unavailable: (err as Error)?.message ?? String(err) }
  } finally {
    // Safe to drop: the core was opened only for this read, its blocks are verified or not by
    // now, and the store closes it with itself; a close failure cannot change the report.
    await core.close().catch(() => {})
  }
}

function compareContribution(
  round: number,
  index: number,
  got: Contribution,
  want: Contribution,
  problems: VerifyProblem[],
): void {
  const who = `round ${round}, contribution ${index} (${got.contributor.slice(0, 12)}…)`
  const receipt = (what: string) =>
    problems.push({ code: 'VERIFY_RECEIPT_MISMATCH', message: `${who}: ${what}` })
  if (got.accepted !== want.accepted || got.reason !== want.reason) {
    const verdict = (c: Contribution) => (c.accepted ? 'accepted' : `rejected (${c.reason})`)
    receipt(`the receipt says ${verdict(got)}, the replay gives ${verdict(want)}`)
    return
  }
  if (!got.score !== !want.score) receipt('the receipt and the replay disagree on having a score')
  else if (got.score && want.score) {
    for (const k of ['lossBefore', 'lossAfter', 'cosine', 'normRatio'] as const) {
      if (!close(got.score[k], want.score[k]))
        receipt(`score.${k} is ${got.score[k]}, the replay gives ${want.score[k]}`)
    }
    for (const k of ['lossSE', 'spread'] as const) {
      const [a, b] = [got.score[k], want.score[k]]
      if ((a === undefined) !== (b === undefined) || (a !== undefined && !close(a, b!)))
        receipt(`score.${k} is ${a}, the replay gives ${b}`)
    }
  }
  // Overlap: the base the receipt records against the one the contributor's signed header names.
  if (got.baseRound !== want.baseRound)
    receipt(
      `records base checkpoint ${got.baseRound ?? 'none'}, the update was trained from ${want.baseRound ?? 'neither r nor r − 1'}`,
    )
  if (!close(got.quality, want.quality))
    receipt(`quality is ${got.quality}, the replay gives ${want.quality}`)
  else if (!close(got.credits, want.credits))
    problems.push({
      code: 'VERIFY_CREDIT_MISMATCH',
      message: `${who}: granted ${got.credits} credits, the replay gives ${want.credits}`,
    })
}

async function verifyRound(
  opts: VerifyOptions,
  state: LedgerState,
  project: string,
  r: number,
  datasets: HostDatasets,
  held: { checkpoint?: HeldCheckpoint },
): Promise<RoundReport> {
  // The manifest in effect in round r: the ledger's, plus the amendments enacted by then (whether
  // they were approved is verifyGovernance's question).
  const manifest = effectiveManifest(state, r)
  const record = state.rounds[r]!
  const receipt = record.receipt as Receipt
  // What round r's close wrote: superseded when a model amendment starts round r + 1 afresh.
  const next = state.rounds[r + 1]!.superseded ?? state.rounds[r + 1]!
  const problems: VerifyProblem[] = []
  const add = (code: ErrorCode, message: string) => problems.push({ code, message })
  const read = { wait: true, timeout: opts.timeoutMs ?? 0 }

  // Checks that need no replay.
  if (receipt.checkpointIn !== record.checkpoint.contentHash)
    add('VERIFY_CHECKPOINT_MISMATCH', `receipt ${r} starts from another checkpoint than ${r}`)
  if (receipt.checkpointOut !== next.checkpoint.contentHash)
    add('VERIFY_CHECKPOINT_MISMATCH', `receipt ${r} names another checkpoint than ${r + 1}`)
  if (receipt.rule !== manifest.aggregation.rule)
    add(
      'VERIFY_RECEIPT_MISMATCH',
      `round ${r} used rule ${receipt.rule}, the manifest says ${manifest.aggregation.rule}`,
    )
  try {
    checkReceiptCredits(manifest, receipt)
  } catch (err) {
    if (!isTandemError(err) || err.code !== 'LEDGER_CREDIT_MISMATCH') throw err
    add('VERIFY_CREDIT_MISMATCH', err.message)
  }
  const assigned = roundSamples(manifest)
  receipt.contributions.forEach((c, i) => {
    if (c.samples !== assigned)
      add(
        'VERIFY_RECEIPT_MISMATCH',
        `round ${r}, contribution ${i}: ${c.samples} samples credited, a round assigns ${assigned}`,
      )
    if (
      c.receivedAt !== undefined &&
      (c.receivedAt < record.open!.openedAt || c.receivedAt > receipt.closedAt)
    )
      add(
        'VERIFY_RECEIPT_MISMATCH',
        `round ${r}, contribution ${i}: received at ${c.receivedAt}, outside the round (${record.open!.openedAt}–${receipt.closedAt})`,
      )
  })

  // The inputs of the replay: checkpoint r, outer-state r, the updates.
  let weights: Float32Array
  let momentum: Float32Array
  let residual: Float32Array | null = null
  try {
    // Outer-update projects: rebuilt from the checkpoint the previous round read, if any.
    const from = held.checkpoint
    weights = (await readCheckpoint(opts.ledger, state, r, { ...read, from })).weights
    held.checkpoint = { round: r, weights: Float32Array.from(weights) }
    momentum = await readOuterState(opts.ledger, state, r, read)
    if (manifest.recipe.outerUpdates)
      residual = await readOuterResidual(opts.ledger, state, r, read)
  } catch (err) {
    if (!isTandemError(err)) throw err
    if (err.code === 'LEDGER_UNAVAILABLE') add('VERIFY_LEDGER_UNAVAILABLE', err.message)
    else if (err.code === 'LEDGER_CHECKPOINT_MISMATCH' || err.code === 'SPEC_MISMATCH')
      add('VERIFY_CHECKPOINT_MISMATCH', err.message)
    else throw err
    return { round: r, ok: false, replayed: false, problems }
  }
  const deadline = receipt.deadline ?? record.open!.deadline
  if (deadline < record.open!.deadline)
    add(
      'VERIFY_RECEIPT_MISMATCH',
      `round ${r} closed under deadline ${deadline}, before its round-open deadline ${record.open!.deadline}`,
    )
  const candidates: RoundCandidate[] = []
  let unavailable = false
  for (const [i, c] of receipt.contributions.entries()) {
    let encoded: Uint8Array | null = null
    let startedFrom: string | undefined
    if (replayNeedsBytes(c, deadline)) {
      const got = await fetchContribution(opts.store, project, r, c, opts.timeoutMs ?? 0)
      if ('unavailable' in got) {
        unavailable = true
        if (lateClaimContradicted(c, deadline))
          add(
            'VERIFY_RECEIPT_MISMATCH',
            `round ${r}, contribution ${i}: rejected as late, but received at ${c.receivedAt}, by the deadline ${deadline}`,
          )
        add(
          'VERIFY_UPDATE_UNAVAILABLE',
          `round ${r}, contribution ${i}: update ${c.updateHash.slice(0, 12)}… in core ${c.updateCore.slice(0, 12)}… is not available (${got.unavailable}); the round cannot be replayed`,
        )
        continue
      }
      encoded = got.encoded
      startedFrom = got.startedFrom
    }
    candidates.push(replayCandidate(c, deadline, encoded, startedFrom))
  }
  if (unavailable) return { round: r, ok: false, replayed: false, problems }

  // The replay and the comparison, on the dataset and model in effect in round r.
  let validation: Awaited<ReturnType<HostDatasets['validation']>>
  try {
    validation = await datasets.validation(manifest)
  } catch (err) {
    if (!isTandemError(err)) throw err
    add(err.code, `round ${r}: its dataset ${manifest.dataset.key.slice(0, 12)}…: ${err.message}`)
    return { round: r, ok: false, replayed: false, problems }
  }
  const history = roundHistory(state, r)
  let bases: RoundBases | undefined
  if (overlapMode(manifest) !== 'none') {
    try {
      bases = await roundBases(
        state,
        r,
        async (k) => (await readCheckpoint(opts.ledger, state, k, read)).weights,
      )
    } catch (err) {
      if (!isTandemError(err)) throw err
      if (err.code === 'LEDGER_UNAVAILABLE') add('VERIFY_LEDGER_UNAVAILABLE', err.message)
      else if (err.code === 'LEDGER_CHECKPOINT_MISMATCH')
        add('VERIFY_CHECKPOINT_MISMATCH', err.message)
      else throw err
      return { round: r, ok: false, replayed: false, problems }
    }
  }
  const out = await computeRound({
    ...(bases ? { bases } : {}),
    manifest,
    round: r,
    weights,
    momentum,
    candidates,
    seenBefore: history.seenBefore,
    reputation: history.reputation,
    validation,
    deadline,
    closedAt: receipt.closedAt,
  })
  receipt.contributions.forEach((c, i) =>
    compareContribution(r, i, c, out.receipt.contributions[i]!, problems),
  )
  const published = publishedCheckpoint(manifest, weights, out.weights, residual)
  if (published.outerUpdate) await compareOuterUpdate(opts, state, r, published.outerUpdate, add)
  const ckpt = checkpointContentHash(manifest.model, r + 1, published.weights)
  if (ckpt !== next.checkpoint.contentHash)
    add(
      'VERIFY_CHECKPOINT_MISMATCH',
      `checkpoint ${r + 1} written after round ${r} is ${next.checkpoint.contentHash.slice(0, 12)}…, the replay gives ${ckpt.slice(0, 12)}…`,
    )
  const outer = checkpointContentHash(manifest.model, r + 1, out.momentum)
  if (!next.outerState || outer !== next.outerState.contentHash)
    add(
      'VERIFY_OUTER_STATE_MISMATCH',
      `outer-state ${r + 1} written after round ${r} is ${next.outerState?.contentHash.slice(0, 12)}…, the replay gives ${outer.slice(0, 12)}…`,
    )
  return { round: r, ok: problems.length === 0, replayed: true, problems }
}

/**
 * Outer-update projects: the ledger's U_r must be the replay's, byte for byte (read and checked
 * against its header's hash), and the host residual e_{r+1} the replay's too.
 */
async function compareOuterUpdate(
  opts: VerifyOptions,
  state: LedgerState,
  r: number,
  replay: OuterUpdateWrite,
  add: (code: ErrorCode, message: string) => void,
): Promise<void> {
  const read = { wait: true, timeout: opts.timeoutMs ?? 0 }
  const manifest = state.manifest
  try {
    const stored = await readOuterUpdate((i) => readLedgerBlock(opts.ledger, i, read), state, r)
    if (!Buffer.from(stored).equals(Buffer.from(replay.bytes)))
      add(
        'VERIFY_OUTER_UPDATE_MISMATCH',
        `outer update ${r} in the ledger differs from the replay's (${stored.byteLength} bytes, the replay ${replay.bytes.byteLength})`,
      )
  } catch (err) {
    if (!isTandemError(err)) throw err
    if (err.code === 'LEDGER_UNAVAILABLE') add('VERIFY_LEDGER_UNAVAILABLE', err.message)
    else if (err.code === 'LEDGER_CHECKPOINT_MISMATCH' || err.code === 'LEDGER_CORRUPT')
      add('VERIFY_OUTER_UPDATE_MISMATCH', err.message)
    else throw err
  }
  const ref = state.rounds[r + 1]?.outerResidual
  const want = checkpointContentHash(manifest.model, r + 1, replay.residual)
  if (ref?.contentHash !== want)
    add(
      'VERIFY_OUTER_UPDATE_MISMATCH',
      `outer-residual ${r + 1} written after round ${r} is ${ref?.contentHash.slice(0, 12)}…, the replay gives ${want.slice(0, 12)}…`,
    )
}

/**
 * Replays every closed round of a ledger (see the file comment). Throws only when the ledger
 * itself cannot be read (LEDGER_CORRUPT, LEDGER_UNAVAILABLE) or the dataset does not fit; anything
 * wrong with a round is a problem in that round's report.
 */
export async function verifyLedger(opts: VerifyOptions): Promise<VerifyReport> {
  const read = { wait: true, timeout: opts.timeoutMs ?? 0 }
  const state = await readLedger(opts.ledger, read)
  const project = opts.ledger.key!.toString('hex')
  const problems: VerifyProblem[] = []
  try {
    const ck0 = await readCheckpoint(opts.ledger, state, 0, read)
    if (
      ck0.contentHash !==
      checkpointContentHash(
        state.manifest.model,
        0,
        initialWeights(state.manifest.model, state.manifest.seed),
      )
    )
      problems.push({
        code: 'VERIFY_CHECKPOINT_MISMATCH',
        message: `checkpoint 0 is not the initial weights of seed ${state.manifest.seed}`,
      })
  } catch (err) {
    if (!isTandemError(err) || err.code !== 'LEDGER_CHECKPOINT_MISMATCH') throw err
    problems.push({ code: 'VERIFY_CHECKPOINT_MISMATCH', message: err.message })
  }
  const datasets = new HostDatasets({
    store: opts.store,
    base: opts.dataset,
    timeoutMs: opts.timeoutMs ?? 0,
  })
  try {
    return await verifyRounds(opts, state, project, problems, datasets)
  } finally {
    await datasets.close(() => {})
  }
}

async function verifyRounds(
  opts: VerifyOptions,
  state: LedgerState,
  project: string,
  problems: VerifyProblem[],
  datasets: HostDatasets,
): Promise<VerifyReport> {
  // The manifest's own dataset must fit its model (throws, as before amendments existed).
  await datasets.validation(state.manifest)
  const rounds: RoundReport[] = []
  const audit = opts.voteReceipts ? auditVoteReceipts(state, opts.voteReceipts) : undefined
  const governance = verifyGovernance(state, audit)
  for (const [round, list] of await verifyBoundaries(state, datasets))
    governance.set(round, [...(governance.get(round) ?? []), ...list])
  const held: { checkpoint?: HeldCheckpoint } = {}
  for (const record of state.rounds) {
    if (!record.receipt) continue
    const report = await verifyRound(opts, state, project, record.round, datasets, held)
    const extra = governance.get(record.round) ?? []
    governance.delete(record.round)
    if (extra.length > 0) {
      report.problems.push(...extra)
      report.ok = false
    }
    rounds.push(report)
    opts.onRound?.(report)
  }
  // Rounds still open: their governance problems belong to no closed round.
  for (const list of governance.values()) problems.push(...list)
  const ok = problems.length === 0 && rounds.every((r) => r.ok)
  const report: VerifyReport = { project, ok, rounds, problems }
  if (audit) report.receipts = { ...audit, omitted: audit.omitted.length }
  return report
}

/** One round's verdict and problems as text lines. */
export function formatRoundReport(r: RoundReport): string {
  const head = `round ${r.round}: ${r.ok ? 'ok' : r.replayed ? 'MISMATCH' : 'not verifiable'}`
  return [head, ...r.problems.map((p) => `  ${p.code}: ${p.message}`)].join('\n') + '\n'
}

/** The problems outside rounds and the summary line (rounds: formatRoundReport). */
export function formatVerifySummary(report: VerifyReport): string {
  const lines = report.problems.map((p) => `${p.code}: ${p.message}`)
  const bad = report.rounds.filter((r) => !r.ok).length
  const rc = report.receipts
  if (rc) {
    for (const r of rc.rejected)
      lines.push(
        `vote receipt of ${r.voter.slice(0, 12)}… on proposal ${r.proposal} ignored: ${r.why}`,
      )
    lines.push(
      `vote receipts: ${rc.checked} checked, ${rc.omitted} left out by the host, ${rc.pending} on open proposals, ${rc.rejected.length} ignored`,
    )
  }
  lines.push(
    report.ok
      ? `verified ${report.rounds.length} closed round(s): all match`
      : `${bad} of ${report.rounds.length} closed round(s) with problems`,
  )
  return `${lines.join('\n')}\n`
}
