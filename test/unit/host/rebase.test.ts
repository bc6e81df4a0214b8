import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { before, describe, it } from 'node:test'
import { isTandemError } from '../../../core/api/errors.js'
import { selectBackend } from '../../../core/engine/backends/probe.js'
import { encode } from '../../../core/engine/compress/codec.js'
import { runInnerLoop } from '../../../core/engine/inner-loop.js'
import { initialWeights } from '../../../core/engine/model/init.js'
import { nesterovOuterStep } from '../../../core/engine/optim/nesterov.js'
import { ACK_REASON } from '../../../core/host/acks.js'
import { baseRound, rebaseDelta, type RoundBases } from '../../../core/host/rebase.js'
import { computeRound, parameterCount, type RoundCandidate } from '../../../core/host/round.js'
import {
  createManifest,
  overlapMode,
  parseProjectSpec,
  roundSamples,
  type Manifest,
} from '../../../core/ledger/manifest.js'
import { innerJob, syntheticBatch, syntheticData } from '../../support/engine-fixtures.js'
import { tinyProjectInput } from '../../support/project-fixtures.js'

const hex = (c: string) => c.repeat(64)
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const f32 = (x: Float32Array) => encode({ method: 'f32', n: x.length, values: x })

function manifestWith(overlap?: 'none' | 'one-step-delay'): Manifest {
  const outer = { lr: 0.7, momentum: 0.9, ...(overlap ? { overlap } : {}) }
  const input = tinyProjectInput({ seed: 3, aggregation: { rule: 'mean', scoring: 'v2' } })
  return createManifest(
    parseProjectSpec({ ...input, recipe: { ...input.recipe, outer } }),
    hex('a'),
    1000,
  )
}

describe('one-step-delay re-basing (rebase.ts)', () => {
  it('re-bases Δ = start − end onto the newer checkpoint: Δ − (θ_prev − θ_cur) = θ_cur − θ_local', () => {
    const prev = Float32Array.of(1, 2, -3, 0.5)
    const cur = Float32Array.of(0.5, 2.5, -2, 0.5)
    const local = Float32Array.of(0.25, 1, -4, 1)
    const delta = prev.map((p, i) => p - local[i]!) // trained from prev
    const rebased = rebaseDelta(delta, prev, cur)
    assert.deepEqual([...rebased], [...cur.map((c, i) => c - local[i]!)])
    // Applied alone it is still the contributor's own end weights.
    assert.deepEqual([...cur.map((c, i) => c - rebased[i]!)], [...local])
    // Nothing to correct when the checkpoints are the same.
    assert.deepEqual([...rebaseDelta(delta, prev, prev)], [...delta])
    assert.throws(
      () => rebaseDelta(delta, prev, Float32Array.of(1)),
      (e: unknown) => isTandemError(e) && e.code === 'SPEC_MISMATCH',
    )
  })

  it('takes checkpoint r or r − 1 as a base and nothing else', () => {
    const bases: RoundBases = {
      round: 4,
      current: hex('4'),
      previous: { hash: hex('3'), weights: new Float32Array(1) },
    }
    assert.equal(baseRound(hex('4'), bases), 4)
    assert.equal(baseRound(hex('3'), bases), 3)
    assert.equal(baseRound(hex('2'), bases), null, 'two rounds old')
    assert.equal(baseRound(undefined, bases), null, 'no header read')
    assert.equal(baseRound(hex('3'), { round: 0, current: hex('0'), previous: null }), null)
  })

  it('reads the recipe option: absent is none', () => {
    assert.equal(overlapMode(manifestWith()), 'none')
    assert.equal(overlapMode(manifestWith('one-step-delay')), 'one-step-delay')
    assert.throws(() =>
      parseProjectSpec({
        ...tinyProjectInput(),
        recipe: { ...tinyProjectInput().recipe, outer: { overlap: 'two-step' } },
      }),
    )
  })

  describe('computeRound with overlap', () => {
    const m = manifestWith('one-step-delay')
    const spec = m.model
    const n = parameterCount(m)
    const validation = syntheticBatch(spec, 64, 999)
    const prevW = initialWeights(spec, 3)
    let curW: Float32Array
    let momentum: Float32Array
    const fresh: Float32Array[] = []
    let stale: Float32Array
    const PREV = hex('3')
    const CUR = hex('4')
    const OLD = hex('2')

    before(async () => {
      await selectBackend('cpu')
      const train = async (weights: Float32Array, seed: number) =>
        Float32Array.from(
          (
            await runInnerLoop(
              { ...innerJob(spec, 12), weights },
              {
                nextBatch: (
                  (d) => () =>
                    d.next()
                )(syntheticData(spec, 16, seed)),
              },
            )
          ).delta,
        )
      // Round 3's outer step from one update: checkpoint 4.
      const step = nesterovOuterStep(prevW, await train(prevW, 1), null, m.recipe.outer)
      curW = step.weights
      momentum = step.momentum
      fresh.push(await train(curW, 2), await train(curW, 3))
      stale = await train(prevW, 4) // round 4 trained early, from checkpoint 3
    })

    const candidate = (who: string, delta: Float32Array, startedFrom: string): RoundCandidate => {
      const encoded = f32(delta)
      return {
        contributor: who,
        updateCore: hex('d'),
        updateIndex: 0,
        updateHash: sha(encoded),
        samples: roundSamples(m),
        encoded,
        receivedAt: 10,
        signatureValid: true,
        startedFrom,
      }
    }
    const input = (candidates: RoundCandidate[]) => ({
      manifest: m,
      round: 4,
      weights: curW,
      momentum,
      candidates,
      seenBefore: new Set<string>(),
      reputation: new Map<string, number>(),
      validation,
      deadline: 100,
      closedAt: 200,
      bases: { round: 4, current: CUR, previous: { hash: PREV, weights: prevW } },
    })

    it('accepts updates from checkpoints r and r − 1, records each base, refuses older ones', async () => {
      const out = await computeRound(
        input([
          candidate(hex('1'), fresh[0]!, CUR),
          candidate(hex('2'), fresh[1]!, CUR),
          candidate(hex('5'), stale, PREV),
          candidate(
            hex('6'),
            stale.map((x) => x * 1.01),
            OLD,
          ),
        ]),
      )
      const got = out.receipt.contributions.map((c) => [c.accepted, c.reason, c.baseRound])
      assert.deepEqual(got, [
        [true, undefined, 4],
        [true, undefined, 4],
        [true, undefined, 3],
        [false, 'stale-base', undefined],
      ])
      assert.equal(ACK_REASON['stale-base'], 'STALE_BASE')
    })

    it('aggregates the re-based Δ: same bits as offering θ_r − θ_local from checkpoint r', async () => {
      const rebased = rebaseDelta(stale, prevW, curW)
      const a = await computeRound(
        input([candidate(hex('1'), fresh[0]!, CUR), candidate(hex('5'), stale, PREV)]),
      )
      const b = await computeRound(
        input([candidate(hex('1'), fresh[0]!, CUR), candidate(hex('5'), rebased, CUR)]),
      )
      assert.ok(Buffer.from(a.weights.buffer).equals(Buffer.from(b.weights.buffer)))
      assert.ok(Buffer.from(a.momentum.buffer).equals(Buffer.from(b.momentum.buffer)))
      // Scored against its own start: the same end weights, judged against checkpoint r − 1.
      const [sa, sb] = [a.receipt.contributions[1]!.score!, b.receipt.contributions[1]!.score!]
      assert.ok(Math.abs(sa.lossAfter - sb.lossAfter) < 1e-5, `${sa.lossAfter} vs ${sb.lossAfter}`)
      assert.notEqual(sa.lossBefore, sb.lossBefore)
      assert.equal(sb.lossBefore, b.receipt.contributions[0]!.score!.lossBefore)
      // Not re-basing would give other weights: the correction is not a no-op here.
      const asIs = await computeRound({
        ...input([candidate(hex('1'), fresh[0]!, CUR), candidate(hex('5'), stale, CUR)]),
      })
      assert.ok(!Buffer.from(a.weights.buffer).equals(Buffer.from(asIs.weights.buffer)))
    })

    it('needs the bases under overlap, and ignores update bases without it', async () => {
      const { bases: _, ...noBases } = input([candidate(hex('1'), fresh[0]!, CUR)])
      await assert.rejects(
        computeRound(noBases),
        (e: unknown) => isTandemError(e) && e.code === 'SPEC_MISMATCH',
      )
      const plain = await computeRound({
        ...noBases,
        manifest: manifestWith(),
        candidates: [candidate(hex('1'), fresh[0]!, OLD)],
      })
      assert.equal(plain.receipt.contributions[0]!.accepted, true)
      assert.equal(plain.receipt.contributions[0]!.baseRound, undefined)
      assert.equal(n, curW.length)
    })
  })
})
