/**
 * Dataset and model amendments (core/ledger/swap-changes.ts, governance.ts, ledger.ts, reader.ts):
 * the schema refuses bad input with a path and a reason, a ledger entry carrying one is
 * LEDGER_CORRUPT, a change that changes nothing is BAD_ARGUMENT, the manifest in effect and the
 * terms follow an enacted change, and the enact batch of a model change carries the new model's
 * starting checkpoint, without which (or with one but no model change) the ledger does not read.
 */
import assert from 'node:assert/strict'
import Corestore from 'corestore'
import crypto from 'hypercore-crypto'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { encodeCheckpoint, decodeCheckpoint } from '../../../core/engine/checkpoint.js'
import { parseSpec } from '../../../core/engine/spec/parse.js'
import { Change, signVote } from '../../../core/ledger/amendments.js'
import { termsHash } from '../../../core/ledger/charter.js'
import {
  checkpointBlocks,
  decodeEntry,
  encodeEnact,
  encodeProposal,
  encodeRoundOpen,
  outerStateBlocks,
} from '../../../core/ledger/entries.js'
import {
  amendmentDiff,
  changeProblem,
  effectiveManifest,
  termsAt,
  termsConsent,
} from '../../../core/ledger/governance.js'
import { createProject, LedgerWriter } from '../../../core/ledger/ledger.js'
import { createManifest, parseProjectSpec } from '../../../core/ledger/manifest.js'
import { readCheckpoint, readLedger, readOuterState } from '../../../core/ledger/reader.js'
import type { LedgerState } from '../../../core/ledger/reader.js'
import { boundaryWeights, DatasetChange } from '../../../core/ledger/swap-changes.js'
import { tempDir } from '../../support/data.js'
import { tinyProjectInput } from '../../support/project-fixtures.js'

const h = (c: string) => c.repeat(64)
const KEY_B = h('b')
const mlp = (hidden: number[]) => ({
  type: 'mlp',
  inputSize: 12,
  hidden,
  classes: 3,
  activation: 'tanh',
})
const modelChange = (hidden = [4], seed = 9) =>
  Change.parse({ kind: 'model', model: mlp(hidden), init: { from: 'seed', seed } })

const charter = {
  purpose: 'Teaching demo.',
  weights: { licence: 'CC0-1.0' },
  dataSources: [{ name: 'synthetic', licence: 'CC0-1.0' }],
  host: { name: 'Host', contact: 'h@example.org' },
  governance: { quorum: 0.5, threshold: 0.6, votingPeriod: { rounds: 1 } },
}

function issue(value: unknown): string {
  const parsed = Change.safeParse(value)
  assert.equal(parsed.success, false, JSON.stringify(value))
  const i = parsed.error!.issues[0]!
  return `${i.path.join('.')}: ${i.message}`
}

describe('dataset and model changes: the schema', () => {
  it('accepts a dataset key (optionally pinned) and a model with a seed', () => {
    assert.deepEqual(Change.parse({ kind: 'dataset', dataset: { key: KEY_B } }), {
      kind: 'dataset',
      dataset: { key: KEY_B },
    })
    const pinned = DatasetChange.parse({
      kind: 'dataset',
      dataset: { key: KEY_B, contentHash: h('c') },
    })
    assert.equal(pinned.dataset.contentHash, h('c'))
    const m = modelChange([4], 9)
    assert.equal(m.kind, 'model')
    // The spec comes out as the engine's rules normalise it.
    assert.deepEqual(m.kind === 'model' && m.model, parseSpec(mlp([4])))
  })

  it('refuses bad input with the field and the reason', () => {
    assert.match(issue({ kind: 'dataset', dataset: { key: 'xyz' } }), /^dataset\.key: must be 64/)
    assert.match(issue({ kind: 'dataset', dataset: { key: KEY_B.toUpperCase() } }), /dataset\.key/)
    assert.match(issue({ kind: 'dataset', dataset: { key: KEY_B, url: 'x' } }), /^dataset: /)
    assert.match(issue({ kind: 'dataset', key: KEY_B }), /^(dataset|): /)
    assert.match(
      issue({ kind: 'model', model: { type: 'rnn' }, init: { from: 'seed', seed: 1 } }),
      /^model: /,
    )
    assert.match(
      issue({ kind: 'model', model: mlp([0]), init: { from: 'seed', seed: 1 } }),
      /^model: /,
    )
    assert.match(issue({ kind: 'model', model: mlp([4]) }), /^init: /)
    assert.match(
      issue({ kind: 'model', model: mlp([4]), init: { from: 'seed', seed: -1 } }),
      /^init\.seed/,
    )
    assert.match(
      issue({ kind: 'model', model: mlp([4]), init: { from: 'checkpoint', hash: h('a') } }),
      /^init\.from: /,
    )
    assert.match(
      issue({ kind: 'model', model: mlp([4]), init: { from: 'seed', seed: 1 }, extra: 1 }),
      /unrecognized|extra/i,
    )
  })

  it('a proposal entry with a bad model is LEDGER_CORRUPT (peer input)', () => {
    const good = encodeProposal({ round: 0, proposedAt: 1, title: 't', change: modelChange() })
    const entry = decodeEntry(good, 5)
    assert.equal(entry.kind, 'proposal')
    const bad = Buffer.from(good.toString('utf8').replace('"hidden":[4]', '"hidden":[-4]'))
    assert.notDeepEqual(bad, good)
    assert.throws(() => decodeEntry(bad, 5), { code: 'LEDGER_CORRUPT' })
  })
})

/** A state whose round 2 enacted `change` (proposal 7 of round 1: A voted yes, B no). */
function enactedState(change: Change): LedgerState {
  const manifest = createManifest(parseProjectSpec(tinyProjectInput({ charter })), h('c'), 0)
  const ref = { v: 1 as const, contentHash: h('1'), byteLength: 1, chunkCount: 1, index: 1 }
  const a = crypto.keyPair(Buffer.alloc(32, 1))
  const b = crypto.keyPair(Buffer.alloc(32, 2))
  const open = (round: number) => ({
    v: 1 as const,
    round,
    openedAt: 0,
    deadline: 1,
    checkpointHash: h('1'),
    assignmentSeed: h('4'),
  })
  const receipt = (round: number) => ({
    v: 1 as const,
    round,
    closedAt: 10,
    checkpointIn: h('1'),
    checkpointOut: h('1'),
    rule: 'centered-clip' as const,
    contributions: [a, b].map((k, i) => ({
      contributor: k.publicKey.toString('hex'),
      updateCore: h('3'),
      updateIndex: 0,
      updateHash: h(String(i)),
      samples: 1,
      quality: 0.5,
      credits: 1,
      accepted: true,
    })),
  })
  const state: LedgerState = {
    key: h('a'),
    manifest,
    rounds: [
      { round: 0, checkpoint: { ...ref, round: 0 }, open: open(0), receipt: receipt(0) },
      { round: 1, checkpoint: { ...ref, round: 1 }, open: open(1), receipt: receipt(1) },
      { round: 2, checkpoint: { ...ref, round: 2 }, open: open(2), enacted: [7] },
    ],
    completeLength: 20,
    tornTail: null,
    governance: { proposals: [], votes: [] },
  }
  const proposal = {
    index: 7,
    round: 1,
    hash: h('7'),
    value: { v: 1 as const, round: 1, proposedAt: 1, title: 'swap', change },
  }
  state.governance!.proposals.push(proposal)
  for (const [i, [k, choice]] of (
    [
      [a, 'yes'],
      [b, 'no'],
    ] as const
  ).entries())
    state.governance!.votes.push({
      index: 8 + i,
      round: 1,
      value: signVote(h('a'), { proposal: 7, proposalHash: h('7'), choice }, k),
    })
  return state
}

describe('dataset and model changes: governance rules', () => {
  it('a dataset change is a change of terms: the dissenter pauses, the yes voter goes on', () => {
    const s = enactedState(Change.parse({ kind: 'dataset', dataset: { key: KEY_B } }))
    assert.equal(effectiveManifest(s, 1).dataset.key, s.manifest.dataset.key)
    assert.equal(effectiveManifest(s, 2).dataset.key, KEY_B)
    const before = termsHash(s.manifest.charter)
    assert.equal(termsAt(s, 1), before, 'the ledger’s own dataset: the terms hash as before')
    assert.notEqual(termsAt(s, 2), before)
    const [a, b] = [1, 2].map((i) => crypto.keyPair(Buffer.alloc(32, i)).publicKey.toString('hex'))
    assert.equal(termsConsent(s, 2, a!, before).ok, true)
    assert.equal(termsConsent(s, 2, b!, before).ok, false)
    assert.equal(termsConsent(s, 2, b!, before).proposal, 7)
    assert.equal(termsConsent(s, 2, b!, termsAt(s, 2)).ok, true, 'after accepting')
  })

  it('a model change is not a change of terms; the diff names the model and the start', () => {
    const change = modelChange([4], 9)
    const s = enactedState(change)
    assert.deepEqual(effectiveManifest(s, 2).model, parseSpec(mlp([4])))
    assert.equal(termsAt(s, 2), termsHash(s.manifest.charter))
    const diff = amendmentDiff(s.manifest, change)
    assert.deepEqual(
      diff.map((d) => d.field),
      ['model', 'weights'],
    )
    assert.match(diff[0]!.from, /"hidden":\[8\]/)
    assert.match(diff[0]!.to, /"hidden":\[4\]/)
    assert.match(diff[1]!.to, /seed 9/)
    const ds = amendmentDiff(s.manifest, {
      kind: 'dataset',
      dataset: { key: KEY_B, contentHash: h('c') },
    })
    assert.deepEqual(
      ds.map((d) => [d.field, d.to]),
      [
        ['dataset.key', JSON.stringify(KEY_B)],
        ['dataset.contentHash', h('c')],
      ],
    )
  })

  it('a change that changes nothing cannot be proposed', () => {
    const m = createManifest(parseProjectSpec(tinyProjectInput()), h('c'), 0)
    assert.match(
      changeProblem(m, { kind: 'dataset', dataset: { key: m.dataset.key } })!,
      /this dataset already/,
    )
    assert.match(changeProblem(m, modelChange([8]))!, /this model already/)
    assert.equal(changeProblem(m, modelChange([4])), null)
  })
})

async function store(t: TestContext): Promise<Corestore> {
  const s = new Corestore(join(await tempDir(t, 'tandem-swap-'), 'store'))
  await s.ready()
  t.after(() => s.close())
  return s
}

const OPEN = { openedAt: 1, deadline: 2, assignmentSeed: h('4') }

describe('dataset and model changes: the ledger', () => {
  it('a model enactment writes the new start in its batch; the round reads with the new model', async (t) => {
    const s = await store(t)
    const host = crypto.keyPair()
    await createProject(s, parseProjectSpec(tinyProjectInput({ seed: 3 })), host)
    const w = await LedgerWriter.open(s, host)
    t.after(() => w.close())
    await assert.rejects(w.propose('same', modelChange([8])), { code: 'BAD_ARGUMENT' })
    const change = modelChange([4], 9)
    const p = await w.propose('smaller', change)
    // A host enacting it at once (verify's governance check would flag that; the shape is sound).
    await w.openRound({ ...OPEN, enact: [p] })
    const state = await readLedger(w.core, { wait: false })
    const rec = state.rounds[0]!
    assert.ok(rec.superseded, 'the old start is kept')
    const ck = await readCheckpoint(w.core, state, 0, { wait: false })
    assert.deepEqual(ck.weights, boundaryWeights(change as Extract<Change, { kind: 'model' }>))
    assert.equal(rec.open!.checkpointHash, ck.contentHash)
    const momentum = await readOuterState(w.core, state, 0, { wait: false })
    assert.equal(momentum.length, ck.weights.length)
    assert.ok(momentum.every((x) => x === 0))
    // The round closes into a checkpoint of the new model.
    await w.closeRound(
      { closedAt: 3, rule: 'centered-clip', contributions: [] },
      ck.weights,
      momentum,
    )
    const next = await readCheckpoint(w.core, w.state, 1, { wait: false })
    assert.equal(next.weights.length, ck.weights.length)
  })

  it('an outer-update project refuses a model amendment (BAD_ARGUMENT; enacted anyway: LEDGER_CORRUPT)', async (t) => {
    const s = await store(t)
    const host = crypto.keyPair()
    const input = tinyProjectInput({ seed: 3 })
    const outer = { ...input.recipe, outerUpdates: { fullCheckpointEvery: 2 } }
    await createProject(s, parseProjectSpec({ ...input, recipe: outer }), host)
    const w = await LedgerWriter.open(s, host)
    t.after(() => w.close())
    const change = modelChange([4], 9)
    await assert.rejects(w.propose('smaller', change), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'BAD_ARGUMENT')
      assert.match(err.message, /outer updates/)
      return true
    })
    // A dataset amendment has no shape change: still allowed there.
    assert.equal(changeProblem(w.manifest, { kind: 'dataset', dataset: { key: KEY_B } }), null)
    // A dishonest host that writes the proposal and enacts it with the new start anyway.
    const proposal = w.core.length
    await w.core.append([encodeProposal({ round: 0, proposedAt: 1, title: 't', change })])
    const model = parseSpec(mlp([4]))
    const weights = boundaryWeights({ model, init: { from: 'seed', seed: 9 } })
    const file = encodeCheckpoint(model, 0, new Float32Array(weights))
    const zeros = encodeCheckpoint(model, 0, new Float32Array(weights.length))
    const hash = decodeCheckpoint(file).contentHash
    await w.core.append([
      encodeEnact(proposal),
      ...checkpointBlocks(0, file, hash),
      ...outerStateBlocks(0, zeros, decodeCheckpoint(zeros).contentHash),
      encodeRoundOpen({ round: 0, checkpointHash: hash, ...OPEN }),
    ])
    await assert.rejects(readLedger(w.core, { wait: false }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'LEDGER_CORRUPT')
      assert.match(err.message, /outer updates/)
      return true
    })
  })

  it('refuses an enacted model change without its start, and a start without a model change', async (t) => {
    for (const variant of ['no-start', 'no-model'] as const) {
      const s = await store(t)
      const host = crypto.keyPair()
      await createProject(s, parseProjectSpec(tinyProjectInput()), host)
      const w = await LedgerWriter.open(s, host)
      const p =
        variant === 'no-start'
          ? await w.propose('smaller', modelChange([4]))
          : await w.propose('mean', { kind: 'aggregation', rule: 'mean' })
      const model = parseSpec(mlp([4]))
      const file = encodeCheckpoint(
        model,
        0,
        new Float32Array(boundaryWeights({ model, init: { from: 'seed', seed: 1 } })),
      )
      const hash = decodeCheckpoint(file).contentHash
      const zeros = encodeCheckpoint(
        model,
        0,
        new Float32Array(decodeCheckpoint(file).weights.length),
      )
      const start =
        variant === 'no-model'
          ? [
              ...checkpointBlocks(0, file, hash),
              ...outerStateBlocks(0, zeros, decodeCheckpoint(zeros).contentHash),
            ]
          : []
      const checkpointHash =
        variant === 'no-model' ? hash : w.state.rounds[0]!.checkpoint.contentHash
      await w.core.append([
        encodeEnact(p),
        ...start,
        encodeRoundOpen({ round: 0, checkpointHash, ...OPEN }),
      ])
      await assert.rejects(
        readLedger(w.core, { wait: false }),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'LEDGER_CORRUPT')
          assert.match(
            err.message,
            variant === 'no-start'
              ? /without the new model's checkpoint/
              : /without a model amendment/,
          )
          return true
        },
      )
      await w.close()
    }
  })
})
