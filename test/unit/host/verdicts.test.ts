import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { before, describe, it } from 'node:test'
import { selectBackend } from '../../../core/engine/backends/probe.js'
import { decode, encode } from '../../../core/engine/compress/codec.js'
import { densify, quantizeInt8 } from '../../../core/engine/compress/quantize.js'
import { runInnerLoop } from '../../../core/engine/inner-loop.js'
import { initialWeights } from '../../../core/engine/model/init.js'
import type { JournalOffer } from '../../../core/host/journal.js'
import { computeRound, parameterCount, type RoundCandidate } from '../../../core/host/round.js'
import { baseline, cosine, l2, lossChange, median } from '../../../core/host/scoring.js'
import {
  collectingVerdict,
  missingBytes,
  settlePass,
  type OfferState,
} from '../../../core/host/settle.js'
import {
  DECIDED_WITHOUT_BYTES,
  noEarlier,
  noteOffer,
  offerVerdict,
  rulesFor,
  VERDICT_RULES,
  type VerdictRule,
} from '../../../core/host/verdicts.js'
import { replayCandidate, replayNeedsBytes } from '../../../core/host/verify.js'
import { REJECTION_REASONS } from '../../../core/ledger/entries.js'
import {
  createManifest,
  parseProjectSpec,
  roundSamples,
  ScoringVersion,
  type Manifest,
} from '../../../core/ledger/manifest.js'
import { innerJob, syntheticBatch, syntheticData } from '../../support/engine-fixtures.js'
import { tinyProjectInput } from '../../support/project-fixtures.js'

const hex = (c: string) => c.repeat(64)
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const f32 = (x: Float32Array) => encode({ method: 'f32', n: x.length, values: x })

const manifestFor = (scoring: ScoringVersion, overlap = false): Manifest => {
  const m = createManifest(
    parseProjectSpec(
      tinyProjectInput({ seed: 3, aggregation: { rule: 'centered-clip', scoring } }),
    ),
    hex('a'),
    1000,
  )
  if (overlap) m.recipe.outer = { ...m.recipe.outer, overlap: 'one-step-delay' }
  return m
}
const manifest = manifestFor('v1')
const spec = manifest.model
const n = parameterCount(manifest)
const weights = initialWeights(spec, 3)
const validation = syntheticBatch(spec, 128, 999)
const DEADLINE = 100
/** Overlap cases (round 0): the checkpoint hash every update starts from unless it says another. */
const CURRENT = hex('c')
const bases = { round: 0, current: CURRENT, previous: null }

/** One offer of a case: who, which bytes, when, and whether it named the right core. */
interface Offer {
  contributor: string
  bytes: Uint8Array
  receivedAt?: number
  signatureValid?: boolean
  /** The checkpoint hash its header names (default CURRENT). */
  startedFrom?: string
}

interface Case {
  rule: string
  /** Offers in arrival order; the last one is the case. */
  offers: Offer[]
  /** Hashes in earlier receipts. */
  seenBefore?: Uint8Array[]
  /** Later rules that also apply to the last offer, and must not pre-empt `rule`. */
  later: string[]
  /** Judged under recipe.outer.overlap = 'one-step-delay' (core/host/rebase.ts). */
  overlap?: boolean
}

/** x × scale plus a deterministic ±(relative · ‖x‖/√n) wiggle per coordinate. */
const perturbed = (x: Float32Array, scale: number, relative: number) => {
  const amp = (relative * l2(x)) / Math.sqrt(x.length)
  return x.map((v, i) => scale * v + (i % 2 ? amp : -amp))
}
/** Whether an offer started from a base the round takes (undefined without overlap). */
const basedOf = (c: Case, o: Offer) =>
  c.overlap ? (o.startedFrom ?? CURRENT) === CURRENT : undefined

const decodeDelta = (bytes: Uint8Array): Float32Array | null => {
  try {
    return densify(decode(bytes, n))
  } catch {
    return null // not a valid encoding of n parameters: what wrong-shape is about
  }
}

/**
 * Walks the table for the last offer of a case, as the rules define it: every rule that applies,
 * in table order (each stage evaluated where its inputs exist).
 */
async function applying(c: Case, version: ScoringVersion): Promise<string[]> {
  const round = { deadline: DEADLINE, seenBefore: new Set((c.seenBefore ?? []).map(sha)) }
  const facts = c.offers.map((o) => ({
    contributor: o.contributor,
    hash: sha(o.bytes),
    receivedAt: o.receivedAt ?? 50,
    signatureValid: o.signatureValid ?? true,
  }))
  const earlier = noEarlier()
  facts.slice(0, -1).forEach((f) => noteOffer(earlier, f, offerVerdict(f, earlier, round)))
  const last = facts.at(-1)!
  const delta = decodeDelta(c.offers.at(-1)!.bytes)
  // The median norm over the offers that pass the offer and bytes stages, as screenRound takes it.
  const standing = noEarlier()
  const norms: number[] = []
  const screened: { i: number; d: Float32Array }[] = []
  facts.forEach((f, i) => {
    const v = offerVerdict(f, standing, round)
    noteOffer(standing, f, v)
    const d = decodeDelta(c.offers[i]!.bytes)
    const bytesRules = VERDICT_RULES.filter((r) => r.stage === 'bytes')
    if (v === null && d && !bytesRules.some((r) => r.applies(d, n, basedOf(c, c.offers[i]!)))) {
      norms.push(l2(d))
      screened.push({ i, d })
    }
  })
  const earlierScreened = screened.filter((s) => s.i < facts.length - 1).map((s) => s.d)
  const pairCosines = screened.flatMap((a, k) => screened.slice(k + 1).map((b) => cosine(a.d, b.d)))
  const out: string[] = []
  for (const rule of rulesFor(version)) {
    const r = rule as VerdictRule
    let hit = false
    if (r.stage === 'offer') hit = r.applies(last, earlier, round)
    else if (r.stage === 'bytes') hit = r.applies(delta, n, basedOf(c, c.offers.at(-1)!))
    else if (delta && delta.length === n && r.stage === 'round')
      hit = r.applies({
        norm: l2(delta),
        medianNorm: median(norms),
        maxNormRatio: 10,
        // The cases' earlier offers all stand, so each screened one counts.
        copyCosine: Math.max(0, ...earlierScreened.map((d) => cosine(delta, d))),
        typicalCosine: median(pairCosines),
      })
    else if (delta && delta.length === n && r.stage === 'score')
      hit = r.applies(
        await lossChange(
          spec,
          weights,
          delta,
          validation,
          await baseline(spec, weights, validation, version),
        ),
      )
    if (hit) out.push(r.id)
  }
  return out
}

/**
 * The same offers through the host's intake (collectingVerdict as each arrives), its close-time
 * settle (settlePass, bytes present), computeRound on what settle kept, and verify's replay of the
 * receipt (bytes only where verify fetches them). Returns the last offer's verdict in each.
 */
async function fourWays(c: Case, m: Manifest) {
  const round = { deadline: DEADLINE, seenBefore: new Set((c.seenBefore ?? []).map(sha)) }
  const entries: OfferState[] = []
  const bytesOf = new Map<string, Uint8Array>()
  c.offers.forEach((o, i) => {
    const line: JournalOffer = {
      t: 'offer',
      round: 0,
      contributor: o.contributor,
      core: hex('d'),
      start: 2 * i,
      length: 2,
      byteLength: o.bytes.byteLength,
      hash: sha(o.bytes),
      samples: roundSamples(m),
      receivedAt: o.receivedAt ?? 50,
      signatureValid: o.signatureValid ?? true,
    }
    bytesOf.set(line.hash, o.bytes)
    const verdict = collectingVerdict(entries, line, i, round)
    entries.push({ ...line, verdict, encoded: null, fetchError: null, lateFetchError: null })
  })
  const intake = entries.map((e) => e.verdict)
  // The downloads: what the intake left to the bytes arrives.
  for (const e of entries) if (e.verdict === null) e.encoded = bytesOf.get(e.hash)!
  const kept = settlePass(entries, round)
  assert.equal(kept.length, entries.length, 'nothing failed, so settle keeps every offer')
  assert.deepEqual(missingBytes(kept), [])
  const startOf = new Map(c.offers.map((o) => [sha(o.bytes), o.startedFrom ?? CURRENT]))
  const candidates: RoundCandidate[] = kept.map(({ entry: e }) => ({
    ...(e.encoded ? { startedFrom: startOf.get(e.hash)! } : {}),
    contributor: e.contributor,
    updateCore: e.core,
    updateIndex: e.start,
    updateHash: e.hash,
    samples: e.samples,
    encoded: e.encoded,
    receivedAt: e.receivedAt,
    signatureValid: e.signatureValid,
  }))
  const input = {
    manifest: m,
    round: 0,
    weights,
    momentum: null,
    seenBefore: round.seenBefore,
    reputation: new Map<string, number>(),
    validation,
    deadline: DEADLINE,
    closedAt: 200,
    ...(c.overlap ? { bases } : {}),
  }
  const host = await computeRound({ ...input, candidates })
  const replay = await computeRound({
    ...input,
    candidates: host.receipt.contributions.map((x) =>
      replayNeedsBytes(x, DEADLINE)
        ? replayCandidate(x, DEADLINE, bytesOf.get(x.updateHash)!, startOf.get(x.updateHash))
        : replayCandidate(x, DEADLINE, null),
    ),
  })
  const reasons = (out: typeof host) => out.receipt.contributions.map((x) => x.reason ?? null)
  assert.deepEqual(
    reasons(replay),
    reasons(host),
    'verify replays the receipt to the same verdicts',
  )
  assert.ok(Buffer.from(replay.weights.buffer).equals(Buffer.from(host.weights.buffer)))
  return {
    intake: intake.at(-1)!,
    settle: kept.at(-1)!.verdict,
    computeRound: reasons(host).at(-1)!,
    verify: reasons(replay).at(-1)!,
    earlierAccepted: reasons(host).slice(0, 3),
  }
}

describe('verdict rules (verdicts.ts)', () => {
  const honest: Float32Array[] = []
  const A = hex('1')
  const B = hex('2')
  const C = hex('3')
  const D = hex('4')
  let base: Offer[] = []

  before(async () => {
    await selectBackend('cpu')
    for (let k = 0; k < 3; k++) {
      const job = { ...innerJob(spec, 12), weights }
      const data = syntheticData(spec, 16, 10 + k)
      honest.push(
        Float32Array.from((await runInnerLoop(job, { nextBatch: () => data.next() })).delta),
      )
    }
    base = [
      { contributor: A, bytes: f32(honest[0]!) },
      { contributor: B, bytes: f32(honest[1]!) },
      { contributor: C, bytes: f32(honest[2]!) },
    ]
  })

  it('is one ordered table: offer, bytes, round, score; every reason has a rule', () => {
    const stages = ['offer', 'bytes', 'round', 'score']
    const order = VERDICT_RULES.map((r) => stages.indexOf(r.stage))
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
      'stages never go back',
    )
    assert.deepEqual(
      [...DECIDED_WITHOUT_BYTES].sort(),
      [...new Set(VERDICT_RULES.filter((r) => r.stage === 'offer').map((r) => r.reason))].sort(),
    )
    for (const reason of REJECTION_REASONS)
      assert.ok(
        VERDICT_RULES.some((r) => r.reason === reason),
        `a rule gives ${reason}`,
      )
  })

  // One case per rule, in table order. Each also triggers later rules where it can, to show that
  // the first rule that applies decides, in all four places.
  const cases = (): Case[] => {
    const copyOfB = base[1]!.bytes
    const wrongShape = f32(new Float32Array(7).fill(3))
    const overflow = quantizeInt8(honest[0]!)
    overflow.scales[0] = 3e38 // × 127 is beyond float32: finite bytes, infinite values
    return [
      {
        rule: 'second-update',
        offers: [...base, { contributor: A, bytes: copyOfB, receivedAt: 101 }],
        later: ['late', 'duplicate-hash'],
      },
      {
        rule: 'bad-signature',
        offers: [
          ...base,
          { contributor: A, bytes: copyOfB, receivedAt: 101, signatureValid: false },
        ],
        later: ['late', 'duplicate-hash'],
      },
      {
        rule: 'late',
        offers: [...base, { contributor: D, bytes: copyOfB, receivedAt: 101 }],
        later: ['duplicate-hash'],
      },
      {
        rule: 'replayed',
        offers: [...base, { contributor: D, bytes: wrongShape }],
        seenBefore: [wrongShape],
        later: ['wrong-shape'],
      },
      {
        rule: 'duplicate-hash',
        offers: [
          ...base,
          { contributor: hex('5'), bytes: wrongShape },
          { contributor: D, bytes: wrongShape },
        ],
        later: ['wrong-shape'],
      },
      { rule: 'wrong-shape', offers: [...base, { contributor: D, bytes: wrongShape }], later: [] },
      {
        rule: 'non-finite',
        offers: [...base, { contributor: D, bytes: encode(overflow) }],
        later: ['norm-outlier'],
      },
      {
        rule: 'stale-base',
        overlap: true,
        offers: [
          ...base,
          { contributor: D, bytes: f32(honest[0]!.map((x) => x * -40)), startedFrom: hex('e') },
        ],
        later: ['norm-outlier'],
      },
      {
        rule: 'norm-outlier',
        offers: [...base, { contributor: D, bytes: f32(honest[0]!.map((x) => x * -40)) }],
        later: ['harmful-beyond-noise'],
      },
      {
        rule: 'norm-too-small',
        offers: [...base, { contributor: D, bytes: f32(honest[1]!.map((x) => x * 0.05)) }],
        later: [],
      },
      {
        // B's update scaled and perturbed so its hash differs; the noise adds a loss no worse.
        rule: 'near-duplicate',
        offers: [...base, { contributor: D, bytes: f32(perturbed(honest[1]!, 1.02, 0.05)) }],
        later: [],
      },
      {
        rule: 'harmful',
        offers: [...base, { contributor: D, bytes: f32(honest[1]!.map((x) => x * -6)) }],
        later: [],
      },
      {
        rule: 'harmful-beyond-noise',
        offers: [...base, { contributor: D, bytes: f32(honest[1]!.map((x) => x * -6)) }],
        later: [],
      },
    ]
  }

  it('has a case for every rule, in table order', () => {
    assert.deepEqual(
      cases().map((c) => c.rule),
      VERDICT_RULES.map((r) => r.id),
    )
  })

  it('keeps offer and bytes rules the same in every scoring version', () => {
    const early = (v: ScoringVersion) =>
      rulesFor(v)
        .filter((r) => r.stage === 'offer' || r.stage === 'bytes')
        .map((r) => r.id)
    for (const v of ScoringVersion.options) assert.deepEqual(early(v), early('v1'))
  })

  for (const [i, rule] of VERDICT_RULES.entries()) {
    const version = rule.scoring?.at(-1) ?? ScoringVersion.options.at(-1)!
    it(`rule ${i + 1}, ${rule.id} (${rule.reason}, scoring ${version}): first to apply, same verdict in intake, settle, computeRound and verify`, async () => {
      const c = cases()[i]!
      const hits = await applying(c, version)
      assert.equal(hits[0], rule.id, `rules that apply: ${hits.join(', ')}`)
      for (const later of c.later)
        assert.ok(
          hits.includes(later),
          `${later} applies too (${hits.join(', ')}), yet ${rule.id} decides`,
        )
      const got = await fourWays(c, manifestFor(version, c.overlap))
      // The offer stage is decided at intake, without bytes; later stages by the bytes.
      assert.equal(got.intake, rule.stage === 'offer' ? rule.reason : null)
      assert.equal(got.settle, got.intake)
      assert.equal(got.computeRound, rule.reason)
      assert.equal(got.verify, rule.reason)
      assert.deepEqual(got.earlierAccepted, [null, null, null], 'the honest offers before it stand')
    })
  }
})
