/**
 * The governance rules as pure functions of a ledger state (core/ledger/governance.ts): who may
 * vote and with what weight, which votes count (forged, wrong text, ineligible, duplicate and late
 * ones do not), quorum and threshold, the voting period in rounds and in seconds, the manifest in
 * effect, and the consent check that pauses a dissenter.
 */
import assert from 'node:assert/strict'
import crypto from 'hypercore-crypto'
import { describe, it } from 'node:test'
import { signVote, type Change, type VoteChoice } from '../../../core/ledger/amendments.js'
import { termsHash } from '../../../core/ledger/charter.js'
import type { Receipt } from '../../../core/ledger/entries.js'
import {
  dueEnactments,
  effectiveManifest,
  tally,
  termsConsent,
  voteRejection,
} from '../../../core/ledger/governance.js'
import { createManifest, parseProjectSpec } from '../../../core/ledger/manifest.js'
import type { LedgerState, ProposalRecord } from '../../../core/ledger/reader.js'
import { tinyProjectInput } from '../../support/project-fixtures.js'

const PROJECT = 'ab'.repeat(32)
const h = (c: string) => c.repeat(64)
const people = Array.from({ length: 5 }, (_, i) => crypto.keyPair(Buffer.alloc(32, i + 1)))
const hex = (i: number) => people[i]!.publicKey.toString('hex')

const charter = (policy: Record<string, unknown> = {}) => ({
  purpose: 'Teaching demo.',
  weights: { licence: 'CC0-1.0' },
  dataSources: [{ name: 'synthetic', licence: 'CC0-1.0' }],
  host: { name: 'Host', contact: 'h@example.org' },
  governance: { quorum: 0.5, threshold: 0.6, votingPeriod: { rounds: 2 }, ...policy },
})

function receipt(round: number, accepted: number[], closedAt = 1000 * (round + 1)): Receipt {
  return {
    v: 1,
    round,
    closedAt,
    checkpointIn: h('1'),
    checkpointOut: h('2'),
    rule: 'centered-clip',
    contributions: accepted.map((i) => ({
      contributor: hex(i),
      updateCore: h('3'),
      updateIndex: 0,
      updateHash: h(String(i)),
      samples: 1,
      quality: 0.5 + i / 10,
      credits: 1,
      accepted: true,
    })),
  }
}

/** A state with `closed` closed rounds (each accepting `who(r)`), then one open round. */
function state(
  closed: number,
  who: (r: number) => number[],
  policy: Record<string, unknown> = {},
): LedgerState {
  const manifest = createManifest(
    parseProjectSpec(tinyProjectInput({ charter: charter(policy) })),
    h('c'),
    0,
  )
  const ref = {
    v: 1 as const,
    round: 0,
    contentHash: h('1'),
    byteLength: 1,
    chunkCount: 1,
    index: 1,
  }
  const rounds = Array.from({ length: closed + 1 }, (_, r) => ({
    round: r,
    checkpoint: { ...ref, round: r },
    open: {
      v: 1 as const,
      round: r,
      openedAt: 0,
      deadline: 1,
      checkpointHash: h('1'),
      assignmentSeed: h('4'),
    },
    ...(r < closed ? { receipt: receipt(r, who(r)) } : {}),
  }))
  return {
    key: PROJECT,
    manifest,
    rounds,
    completeLength: 100,
    tornTail: null,
    governance: { proposals: [], votes: [] },
  }
}

function propose(s: LedgerState, index: number, round: number, change: Change): ProposalRecord {
  const rec: ProposalRecord = {
    index,
    round,
    hash: h(String(index % 10)),
    value: { v: 1, round, proposedAt: 1000 * round + 1, title: 'change', change },
  }
  s.governance!.proposals.push(rec)
  return rec
}

let next = 1000
function vote(s: LedgerState, p: ProposalRecord, who: number, choice: VoteChoice, round = p.round) {
  const v = signVote(PROJECT, { proposal: p.index, proposalHash: p.hash, choice }, people[who]!)
  s.governance!.votes.push({ index: next++, round, value: v })
  return v
}

const rule: Change = { kind: 'aggregation', rule: 'mean' }

describe('governance tallies', () => {
  it('counts each eligible voter once inside the period; forged, wrong, ineligible, late do not', () => {
    const s = state(3, () => [0, 1, 2, 3])
    const p = propose(s, 50, 3, rule)
    vote(s, p, 0, 'yes')
    vote(s, p, 0, 'no') // duplicate
    vote(s, p, 1, 'yes', 4)
    vote(s, p, 4, 'yes') // no accepted work: ineligible
    const forged = signVote(
      PROJECT,
      { proposal: 50, proposalHash: p.hash, choice: 'no' },
      people[4]!,
    )
    s.governance!.votes.push({ index: next++, round: 3, value: { ...forged, voter: hex(2) } })
    const wrong = signVote(
      PROJECT,
      { proposal: 50, proposalHash: h('e'), choice: 'no' },
      people[3]!,
    )
    s.governance!.votes.push({ index: next++, round: 3, value: wrong })
    vote(s, p, 2, 'no', 5) // after the receipt of round 4 (period 2 rounds: 3 and 4)
    const t = tally(s, p)
    assert.equal(t.closesAfterRound, 4)
    assert.equal(t.effectiveRound, 5)
    assert.equal(t.status, 'open', 'round 4 has no receipt yet')
    assert.deepEqual(
      t.votes.map((v) => [v.voter === hex(0) ? 0 : v.voter, v.counted, v.reason ?? '']),
      [
        [0, true, ''],
        [0, false, 'duplicate'],
        [hex(1), true, ''],
        [hex(4), false, 'ineligible'],
        [hex(2), false, 'bad-signature'],
        [hex(3), false, 'wrong-proposal'],
        [hex(2), false, 'late'],
      ],
    )
    assert.equal(t.yes, 2)
    assert.equal(t.no, 0)
    assert.equal(t.eligibleWeight, 4)
  })

  it('decides at the closing receipt: quorum and threshold', () => {
    const cases: Array<[VoteChoice[], 'passed' | 'failed']> = [
      [['yes', 'yes', 'no'], 'passed'], // 2/3 ≥ 0.6, 3/4 voted
      [['yes', 'no', 'no'], 'failed'],
      [['yes'], 'failed'], // quorum: 1 of 4 < 0.5
      [['yes', 'yes'], 'passed'], // 2 of 4 = quorum, 2/2 yes
      [['yes', 'no'], 'failed'], // 1/2 < 0.6
    ]
    for (const [choices, want] of cases) {
      const s = state(5, (r) => (r < 3 ? [0, 1, 2, 3] : []))
      const p = propose(s, 50, 3, rule)
      choices.forEach((c, i) => vote(s, p, i, c))
      assert.equal(tally(s, p).status, want, choices.join(','))
      assert.deepEqual(dueEnactments(s, 5), want === 'passed' ? [50] : [])
    }
  })

  it('eligibility follows recentRounds; reputation weighting weighs by standing', () => {
    const s = state(4, (r) => (r === 0 ? [0] : [1, 2]), { recentRounds: 2 })
    const p = propose(s, 50, 4, rule)
    assert.deepEqual(
      tally(s, p).eligible.map((e) => e.voter),
      [hex(1), hex(2)].sort(),
    )
    const r = state(2, () => [1, 2], { weighting: 'reputation' })
    const q = propose(r, 50, 2, rule)
    const weights = tally(r, q).eligible.map((e) => e.weight)
    assert.ok(weights.every((w) => w > 0 && w < 1))
    assert.notEqual(weights[0], weights[1], 'different quality, different reputation')
  })

  it('a period in seconds closes with the first receipt at or after proposedAt + seconds', () => {
    const s = state(6, () => [0, 1], { votingPeriod: { seconds: 2 } })
    // Proposed at 2001 in round 2, so the vote ends at 4001; receipt r closes at 1000·(r + 1):
    // round 3's (4000) is too early, round 4's (5000) ends it.
    const p = propose(s, 50, 2, rule)
    vote(s, p, 0, 'yes', 4)
    vote(s, p, 1, 'yes', 5)
    const t = tally(s, p)
    assert.equal(t.closesAfterRound, 4)
    assert.deepEqual(
      t.votes.map((v) => v.reason ?? 'counted'),
      ['counted', 'late'],
    )
    assert.equal(t.status, 'passed', '1 of 2 eligible voted (quorum 0.5), 1 yes of 1 (≥ 0.6)')
    assert.equal(t.effectiveRound, 5)
  })

  it('applies enacted changes from their round on; consent pauses a dissenter', () => {
    const s = state(4, () => [0, 1, 2])
    const p = propose(s, 50, 1, { kind: 'licence', licence: 'MIT', download: 'contributors' })
    vote(s, p, 0, 'yes', 1)
    vote(s, p, 1, 'yes', 1)
    vote(s, p, 2, 'no', 1)
    s.rounds[3]!.enacted = [50]
    assert.equal(tally(s, p).status, 'passed')
    const before = termsHash(effectiveManifest(s, 2).charter)
    const after = termsHash(effectiveManifest(s, 3).charter)
    assert.notEqual(before, after)
    assert.equal(effectiveManifest(s, 3).charter!.weights.licence, 'MIT')
    assert.equal(termsConsent(s, 3, hex(0), before).ok, true, 'voted for it')
    assert.equal(termsConsent(s, 3, hex(2), before).ok, false, 'voted against')
    assert.equal(termsConsent(s, 3, hex(3), before).ok, false, 'did not vote')
    assert.equal(termsConsent(s, 3, hex(2), after).ok, true, 'accepted since')
    assert.equal(termsConsent(s, 2, hex(2), before).ok, true, 'before it took effect')
  })

  it('voteRejection says why a vote may not be recorded now', () => {
    const s = state(2, () => [0, 1])
    const p = propose(s, 50, 2, rule)
    const ok = signVote(PROJECT, { proposal: 50, proposalHash: p.hash, choice: 'yes' }, people[0]!)
    assert.equal(voteRejection(s, ok), null)
    vote(s, p, 0, 'yes')
    assert.equal(voteRejection(s, ok)?.reason, 'duplicate')
    const other = signVote(
      PROJECT,
      { proposal: 50, proposalHash: p.hash, choice: 'yes' },
      people[3]!,
    )
    assert.equal(voteRejection(s, other)?.reason, 'ineligible')
    assert.equal(voteRejection(s, { ...other, proposal: 51 })?.reason, 'no-proposal')
    assert.equal(voteRejection(s, { ...other, voter: hex(1) })?.reason, 'bad-signature')
  })
})
