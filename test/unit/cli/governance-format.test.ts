import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { GovernanceView, ProposalView } from '../../../core/api/contract.js'
import {
  formatGovernance,
  formatProposal,
  formatProposed,
} from '../../../core/cli/commands/governance.js'
import { buildProgram } from '../../../core/cli/main.js'

const proposal: ProposalView = {
  id: 42,
  title: 'Aggregate with the plain mean',
  round: 3,
  proposedAt: 1,
  change: { kind: 'aggregation', rule: 'mean' },
  diff: [{ field: 'aggregation.rule', from: '"centered-clip"', to: '"mean"' }],
  status: 'open',
  closesAfterRound: 4,
  effectiveRound: 5,
  enactedAt: null,
  yes: 2,
  no: 1,
  eligibleWeight: 4,
  eligibleVoters: 4,
  quorumMet: true,
  rejectedVotes: 1,
  changesTerms: false,
  canVote: true,
  myVote: null,
}

describe('governance command output', () => {
  it('a proposal shows its outcome, votes, diff and how to vote', () => {
    const text = formatProposal(proposal)
    assert.match(text, /^#42 Aggregate with the plain mean — open until the end of round 4$/m)
    assert.match(text, /yes 2, no 1 of 4 eligible \(4 voters\), 1 not counted/)
    assert.match(text, /aggregation\.rule: "centered-clip" → "mean"/)
    assert.match(text, /tandem vote <project> 42 yes\|no/)
    const passed = formatProposal({ ...proposal, status: 'passed', enactedAt: 5, myVote: 'yes' })
    assert.match(passed, /passed, in effect from round 5/)
    assert.match(passed, /you voted yes/)
  })

  it('project propose prints the id and the diff of a model change', () => {
    const out = formatProposed({
      id: 9,
      round: 2,
      diff: [
        { field: 'model', from: '{"hidden":[8]}', to: '{"hidden":[4]}' },
        { field: 'weights', from: 'continue from the last checkpoint', to: 'fresh from seed 5' },
      ],
    })
    assert.equal(
      out,
      'proposal 9 recorded in round 2\n' +
        '  model: {"hidden":[8]} → {"hidden":[4]}\n' +
        '  weights: continue from the last checkpoint → fresh from seed 5\n',
    )
  })

  it('the charter, or "no charter", and a pause over changed terms', () => {
    const g: GovernanceView = {
      project: 'ab'.repeat(32),
      charter: null,
      hosting: false,
      round: 0,
      terms: { current: 'none', accepted: null, paused: false },
      proposals: [],
    }
    assert.match(formatGovernance(g), /charter: no charter/)
    const paused = formatGovernance({
      ...g,
      charter: {
        purpose: 'Teaching demo',
        prohibitedUses: ['surveillance'],
        weights: { licence: 'CC0-1.0', download: 'everyone' },
        dataSources: [{ name: 'synthetic', licence: 'CC0-1.0' }],
        host: { name: 'Host', contact: 'h@example.org' },
        governance: {
          weighting: 'one-per-contributor',
          quorum: 0.5,
          threshold: 0.6,
          votingPeriod: { rounds: 2 },
        },
      },
      terms: { current: 'x', accepted: 'y', paused: true },
      proposals: [proposal],
    })
    assert.match(paused, /not for: surveillance/)
    assert.match(paused, /voting 2 round\(s\)/)
    assert.match(paused, /PAUSED/)
    assert.match(paused, /#42/)
  })

  it('the commands exist: project propose, proposals, vote, accept-terms, model export', () => {
    const program = buildProgram({ out: () => {}, err: () => {}, isTTY: false })
    const names = program.commands.map((c) => c.name())
    for (const n of ['proposals', 'vote', 'accept-terms']) assert.ok(names.includes(n), n)
    const project = program.commands.find((c) => c.name() === 'project')!
    assert.ok(project.commands.some((c) => c.name() === 'propose'))
    const model = program.commands.find((c) => c.name() === 'model')!
    assert.ok(model.commands.some((c) => c.name() === 'export'))
  })
})
