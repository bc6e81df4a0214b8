/**
 * Ledgers of outer-update projects (recipe.outerUpdates): the host writes U_r and its residual,
 * checkpoint files only every K rounds, and readers rebuild the others, from the last stored
 * checkpoint or one they hold, each step checked against the ledger's hash. A forged outer update
 * (one that does not give the checkpoint the ledger names) is LEDGER_CHECKPOINT_MISMATCH.
 */
import assert from 'node:assert/strict'
import crypto from 'hypercore-crypto'
import { describe, it } from 'node:test'
import { publishedCheckpoint } from '../../../core/host/outer-update.js'
import { createProject, LedgerWriter } from '../../../core/ledger/ledger.js'
import { parseProjectSpec } from '../../../core/ledger/manifest.js'
import { readCheckpoint, readLedger, readOuterResidual } from '../../../core/ledger/reader.js'
import { plainCorestore } from '../../support/data.js'
import { tinyProjectInput } from '../../support/project-fixtures.js'

const h = (c: string) => c.repeat(64)
const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)
const receipt = { closedAt: 10_000, rule: 'centered-clip', contributions: [] }

function spec(fullCheckpointEvery: number) {
  const input = tinyProjectInput({ seed: 3 })
  return parseProjectSpec({
    ...input,
    recipe: { ...input.recipe, outerUpdates: { fullCheckpointEvery } },
  })
}

describe('outer-update ledgers', () => {
  it('stores U_r every round and the checkpoint every K; readers rebuild the rest bit for bit', async (t) => {
    const s = await plainCorestore(t)
    const host = crypto.keyPair()
    const key = await createProject(s, spec(2), host, 1000)
    const w = await LedgerWriter.open(s, host)
    t.after(() => w.close())
    const written: Float32Array[] = [await w.weights()]
    for (let r = 0; r < 3; r++) {
      await w.openRound({ openedAt: 2000 + r, deadline: 9000 + r, assignmentSeed: h('5') })
      const theta = await w.weights()
      const target = theta.map((x, i) => x + 0.01 * Math.sin(i + r))
      const next = publishedCheckpoint(w.manifest, theta, target, await w.outerResidual())
      assert.ok(next.outerUpdate)
      await w.closeRound(receipt, next.weights, await w.momentum(), next.outerUpdate)
      written.push(next.weights)
    }
    await assert.rejects(
      w
        .openRound({ openedAt: 1, deadline: 2, assignmentSeed: h('5') })
        .then(() => w.closeRound(receipt, written[3]!, new Float32Array(written[3]!.length))),
      { code: 'BAD_ARGUMENT' },
    )

    const core = s.get({ key: Buffer.from(key, 'hex') })
    t.after(() => core.close())
    const state = await readLedger(core)
    assert.deepEqual(
      state.rounds.map((r) => ['derived' in r.checkpoint, Boolean(r.outerUpdate)]),
      [
        [false, false],
        [true, true],
        [false, true],
        [true, true],
      ],
    )
    for (let r = 0; r <= 3; r++) {
      const fresh = await readCheckpoint(core, state, r)
      assert.ok(bits(fresh.weights).equals(bits(written[r]!)), `checkpoint ${r} from the ledger`)
      assert.equal(fresh.contentHash, state.rounds[r]!.checkpoint.contentHash)
    }
    // A contributor holding checkpoint 2 gets 3 from U_2 alone.
    const held = { round: 2, weights: written[2]! }
    const next = await readCheckpoint(core, state, 3, { from: held })
    assert.ok(bits(next.weights).equals(bits(written[3]!)))
    const e3 = await readOuterResidual(core, state, 3)
    assert.ok(
      e3.some((x) => x !== 0),
      'int8 left no residual',
    )
  })

  it('a forged outer update is LEDGER_CHECKPOINT_MISMATCH naming the round', async (t) => {
    const s = await plainCorestore(t)
    const host = crypto.keyPair()
    const key = await createProject(s, spec(10), host, 1000)
    const w = await LedgerWriter.open(s, host)
    t.after(() => w.close())
    await w.openRound({ openedAt: 2000, deadline: 9000, assignmentSeed: h('5') })
    const theta = await w.weights()
    const next = publishedCheckpoint(
      w.manifest,
      theta,
      theta.map((x) => x + 0.02),
      null,
    )
    // The host names the outer step's θ′ as checkpoint 1, but publishes U_0.
    await w.closeRound(
      receipt,
      theta.map((x) => x + 0.02),
      new Float32Array(theta.length),
      next.outerUpdate,
    )
    const core = s.get({ key: Buffer.from(key, 'hex') })
    t.after(() => core.close())
    const state = await readLedger(core)
    await assert.rejects(readCheckpoint(core, state, 1), {
      code: 'LEDGER_CHECKPOINT_MISMATCH',
      message: /checkpoint 1 does not verify: checkpoint 0 \+ outer update 0 hashes to/,
    })
  })
})
