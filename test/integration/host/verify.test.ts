/**
 * `verifyLedger` on real ledgers: a host writes rounds through LedgerWriter + computeRound from
 * updates its contributors published in their own update cores; a fresh verifier store, linked to
 * the host's and the contributors' stores, replays it. Then forged ledgers (same host key pair):
 * altered next weights, altered credits (appended as raw blocks past the writer's check), and an
 * update that went offline.
 */
import assert from 'node:assert/strict'
import type Corestore from 'corestore'
import crypto from 'hypercore-crypto'
import { before, describe, it, type TestContext } from 'node:test'
import { run } from '../../../core/cli/main.js'
import { importDataset } from '../../../core/data/import.js'
import { joinDataset } from '../../../core/data/seeding.js'
import { Dataset } from '../../../core/data/dataset.js'
import { DatasetStore } from '../../../core/data/dataset-store.js'
import { selectBackend } from '../../../core/engine/backends/probe.js'
import { decodeCheckpoint, encodeCheckpoint } from '../../../core/engine/checkpoint.js'
import { encode } from '../../../core/engine/compress/codec.js'
import { quantizeInt8 } from '../../../core/engine/compress/quantize.js'
import { runInnerLoop } from '../../../core/engine/inner-loop.js'
import { computeRound, roundHistory, type RoundCandidate } from '../../../core/host/round.js'
import { roundValidationBatch } from '../../../core/host/validation.js'
import { verifyLedger, type VerifyReport } from '../../../core/host/verify.js'
import { checkpointBlocks, encodeReceipt, outerStateBlocks } from '../../../core/ledger/entries.js'
import { createProject, LedgerWriter, type HostKeyPair } from '../../../core/ledger/ledger.js'
import { createManifest, parseProjectSpec } from '../../../core/ledger/manifest.js'
import { initialWeights } from '../../../core/engine/model/init.js'
import { openUpdateCore, publishUpdate } from '../../../core/ledger/updates.js'
import {
  defer,
  idxBytes,
  linkStores,
  plainCorestore,
  tempDir,
  writeText,
} from '../../support/data.js'
import { loopbackTestnet } from '../../support/swarm.js'
import { innerJob, syntheticBatch, syntheticData } from '../../support/engine-fixtures.js'
import { tinyProjectInput } from '../../support/project-fixtures.js'
import { captureIO } from '../../support/cli-io.js'

const ROUNDS = 3
const HONEST = 4
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

interface Contributor {
  store: Corestore
  key: string
}

interface Project {
  /** The project's dataset, in a store of its own (a seeder). */
  dataStore: DatasetStore
  /** The host's ledger. */
  hostStore: Corestore
  host: HostKeyPair
  key: string
  datasetKey: string
  contributors: Contributor[]
  /** Candidates of each round, in arrival order, as the host saw them. */
  rounds: RoundCandidate[][]
}

type Close = (
  writer: LedgerWriter,
  round: number,
  out: Awaited<ReturnType<typeof computeRound>>,
) => Promise<void>

const honestClose: Close = (w, _r, out) => w.closeRound(out.receipt, out.weights, out.momentum)

/** A learnable 4×3 image task as IDX files: the label is the brightest of the first 3 pixels. */
async function writeTask(dir: string) {
  const count = 320
  const batch = syntheticBatch(tinyProjectSpec().model, count, 11)
  if (batch.kind !== 'tensors') throw new Error('unreachable')
  const pixels = Uint8Array.from(batch.x, (v) => Math.round(v * 255))
  const labels = Uint8Array.from(batch.y)
  const images = await writeText(dir, 'images-idx3-ubyte', idxBytes(0x08, [count, 4, 3], pixels))
  const labelFile = await writeText(dir, 'labels-idx1-ubyte', idxBytes(0x08, [count], labels))
  return { images, labels: labelFile }
}

function tinyProjectSpec(datasetKey = 'ab'.repeat(32)) {
  return parseProjectSpec(tinyProjectInput({ seed: 9, dataset: { key: datasetKey } }))
}

async function openDataStore(t: TestContext): Promise<DatasetStore> {
  const store = await DatasetStore.open({ dataDir: await tempDir(t, 'tandem-data-') })
  defer(t, () => store.close())
  return store
}

/**
 * Runs ROUNDS rounds: HONEST contributors train from the current checkpoint and publish their
 * updates; a fifth sends its update sign-flipped ×10, a sixth repeats an honest update (duplicate)
 * and a seventh arrives late. `close` writes the round (honestly by default).
 */
async function honestProject(t: TestContext, legacy = false): Promise<Project> {
  const dataStore = await openDataStore(t)
  const hostStore = await plainCorestore(t)
  const files = await writeTask(await tempDir(t))
  const { key: datasetKey } = await importDataset(dataStore, {
    file: files.images,
    labels: files.labels,
    shardSize: { records: 32 },
    validation: 0.25,
  })
  const host = crypto.keyPair() as HostKeyPair
  const key = legacy
    ? await createLegacyProject(hostStore, tinyProjectSpec(datasetKey), host)
    : await createProject(hostStore, tinyProjectSpec(datasetKey), host, 1000)
  const contributors: Contributor[] = []
  for (let i = 0; i < HONEST + 3; i++) {
    const store = await plainCorestore(t)
    const core = await openUpdateCore(store, key)
    contributors.push({ store, key: hex(core.key!) })
    await core.close()
  }
  const project: Project = { dataStore, hostStore, host, key, datasetKey, contributors, rounds: [] }
  await runRounds(project, hostStore, honestClose, true)
  return project
}

/**
 * A ledger as hosts wrote them before manifests named a scoring rule: the manifest block without
 * `aggregation.scoring` (createProject now fills it in), then checkpoint 0.
 */
async function createLegacyProject(
  store: Corestore,
  spec: ReturnType<typeof tinyProjectSpec>,
  host: HostKeyPair,
): Promise<string> {
  const manifest = createManifest(spec, hex(host.publicKey), 1000)
  delete (manifest.aggregation as { scoring?: string }).scoring
  const core = store.get({ keyPair: host })
  await core.ready()
  const file = encodeCheckpoint(manifest.model, 0, initialWeights(manifest.model, manifest.seed))
  await core.append([
    Buffer.from(JSON.stringify(manifest), 'utf8'),
    ...checkpointBlocks(0, file, decodeCheckpoint(file).contentHash),
  ])
  const key = hex(core.key!)
  await core.close()
  return key
}

async function runRounds(p: Project, store: Corestore, close: Close, publish: boolean) {
  let writer = await LedgerWriter.open(store, p.host)
  const dataset = await Dataset.open(
    p.dataStore.corestore.get({ key: Buffer.from(p.datasetKey, 'hex') }),
  )
  try {
    const validation = await roundValidationBatch(dataset, writer.manifest)
    const m = writer.manifest
    const samples = m.recipe.innerSteps * m.recipe.batchSize
    for (let r = 0; r < ROUNDS; r++) {
      const deadline = 10_000 * (r + 1)
      await writer.openRound({
        openedAt: deadline - 5000,
        deadline,
        assignmentSeed: 'ee'.repeat(32),
      })
      const weights = await writer.weights()
      if (publish) {
        const candidates: RoundCandidate[] = []
        const deltas: Float32Array[] = []
        for (let i = 0; i < HONEST; i++) {
          const data = syntheticData(m.model, m.recipe.batchSize, 100 * r + i)
          const job = { ...innerJob(m.model, m.recipe.innerSteps), weights }
          deltas.push((await runInnerLoop(job, { nextBatch: () => data.next() })).delta)
        }
        deltas.push(deltas[0]!.map((x) => -10 * x))
        const bytes = deltas.map((d) => encode(quantizeInt8(d)))
        bytes.push(bytes[1]!, encode(quantizeInt8(deltas[2]!.map((x) => x * 0.5))))
        for (const [i, encoded] of bytes.entries()) {
          const c = p.contributors[i]!
          const core = await openUpdateCore(c.store, p.key)
          const ref = await publishUpdate(core, {
            project: p.key,
            round: r,
            checkpointHash: writer.state.rounds[r]!.checkpoint.contentHash,
            samples,
            encoded,
          })
          await core.close()
          candidates.push({
            contributor: hex(crypto.keyPair(Buffer.alloc(32, i + 1)).publicKey),
            updateCore: c.key,
            updateIndex: ref.start,
            updateHash: hex(ref.hash),
            samples,
            encoded,
            receivedAt: i === HONEST + 2 ? deadline + 7 : deadline - 1000 + i,
            signatureValid: true,
          })
        }
        p.rounds.push(candidates)
      }
      const history = roundHistory(writer.state)
      const out = await computeRound({
        manifest: m,
        round: r,
        weights,
        momentum: await writer.momentum(),
        candidates: p.rounds[r]!,
        seenBefore: history.seenBefore,
        reputation: history.reputation,
        validation,
        deadline,
        closedAt: deadline + 100,
      })
      await close(writer, r, out)
      if (writer.core.length !== writer.state.completeLength) {
        // `close` appended raw blocks past the writer: reopen it to read them.
        await writer.close()
        writer = await LedgerWriter.open(store, p.host)
      }
    }
  } finally {
    await dataset.close()
    await writer.close()
  }
}

/** A forged copy of the project's ledger, same host key pair, written into a store of its own. */
async function forgedLedger(t: TestContext, p: Project, close: Close): Promise<Corestore> {
  const store = await plainCorestore(t)
  await createProject(store, tinyProjectSpec(p.datasetKey), p.host, 1000)
  await runRounds(p, store, close, false)
  return store
}

/** A fresh verifier: its own store, linked to the ledger's store and the given contributors. */
async function verify(
  t: TestContext,
  p: Project,
  ledgerStore: Corestore,
  contributors = p.contributors,
  timeoutMs = 10_000,
): Promise<VerifyReport & { store: Corestore }> {
  const store = await plainCorestore(t)
  linkStores(t, store, ledgerStore)
  linkStores(t, store, p.dataStore)
  for (const c of contributors) linkStores(t, store, c.store)
  const ledger = store.get({ key: Buffer.from(p.key, 'hex') })
  defer(t, () => ledger.close())
  const dataset = await Dataset.open(store.get({ key: Buffer.from(p.datasetKey, 'hex') }), {
    timeoutMs,
  })
  defer(t, () => dataset.close())
  return { ...(await verifyLedger({ ledger, store, dataset, timeoutMs })), store }
}

const codes = (r: VerifyReport['rounds'][number] | undefined) => r?.problems.map((p) => p.code)

describe('verifyLedger', () => {
  before(async () => {
    await selectBackend('cpu')
  })

  it('replays a ledger written before the scoring field with the v1 rule it was judged by', async (t) => {
    const project = await honestProject(t, true)
    const writer = await LedgerWriter.open(project.hostStore, project.host)
    defer(t, () => writer.close())
    assert.equal(writer.manifest.aggregation.scoring, undefined, 'a legacy manifest')
    const receipts = writer.state.rounds.flatMap((r) => (r.receipt ? [r.receipt] : []))
    const scores = receipts.flatMap((r) =>
      r.contributions.flatMap((c) => (c.score ? [c.score] : [])),
    )
    assert.ok(scores.length > 0 && scores.every((s) => s.lossSE === undefined), 'v1 scores')
    // A v2 replay would add lossSE to every score (and may judge differently): the report shows
    // the replay used the rule the manifest names.
    const report = await verify(t, project, project.hostStore)
    for (const r of report.rounds) assert.deepEqual(r.problems, [], `round ${r.round}`)
    assert.ok(report.ok && report.rounds.length === ROUNDS)
  })

  it('replays a clean ledger round by round and finds nothing', async (t) => {
    const project = await honestProject(t)
    const report = await verify(t, project, project.hostStore)
    assert.deepEqual(report.problems, [])
    assert.equal(report.rounds.length, ROUNDS)
    for (const r of report.rounds) assert.deepEqual(r.problems, [], `round ${r.round}`)
    assert.ok(report.ok && report.rounds.every((r) => r.replayed))

    // The rounds really exercised the verdicts and credits, under the current scoring rule.
    const writer = await LedgerWriter.open(project.hostStore, project.host)
    defer(t, () => writer.close())
    assert.equal(writer.manifest.aggregation.scoring, 'v3')
    const receipts = writer.state.rounds.flatMap((r) => (r.receipt ? [r.receipt] : []))
    const reasons = new Set(receipts.flatMap((r) => r.contributions.map((c) => c.reason)))
    assert.ok(reasons.has(undefined) && reasons.has('duplicate') && reasons.has('late'))
    assert.ok(reasons.has('harmful') || reasons.has('norm-outlier'))
    assert.ok(receipts.every((r) => r.contributions.some((c) => c.credits > 0)))

    // Forged next weights in round 1 (same key pair, so the ledger has the project's key).
    const altered = await forgedLedger(t, project, async (w, r, out) => {
      const weights = Float32Array.from(out.weights)
      if (r === 1) weights[3]! += 1e-3
      await w.closeRound(out.receipt, weights, out.momentum)
    })
    const forged = await verify(t, project, altered)
    assert.equal(forged.ok, false)
    assert.deepEqual(codes(forged.rounds[0]), [])
    assert.deepEqual(codes(forged.rounds[1]), ['VERIFY_CHECKPOINT_MISMATCH'])
    assert.match(forged.rounds[1]!.problems[0]!.message, /checkpoint 2 written after round 1/)
    assert.deepEqual(codes(forged.rounds[2]), [], 'round 2 replays from the forged checkpoint 2')

    // Credits doubled for one contributor in round 0, appended as raw blocks: the writer's own
    // check would refuse them.
    const inflated = await forgedLedger(t, project, async (w, r, out) => {
      if (r !== 0) return w.closeRound(out.receipt, out.weights, out.momentum)
      const contributions = out.receipt.contributions.map((c, i) =>
        i === 1 ? { ...c, credits: c.credits * 2 } : c,
      )
      const ckpt = encodeCheckpoint(w.manifest.model, 1, out.weights)
      const mom = encodeCheckpoint(w.manifest.model, 1, out.momentum)
      const ckptHash = decodeCheckpoint(ckpt).contentHash
      await w.core.append([
        encodeReceipt({
          ...out.receipt,
          contributions,
          round: 0,
          checkpointIn: w.state.rounds[0]!.checkpoint.contentHash,
          checkpointOut: ckptHash,
        }),
        ...checkpointBlocks(1, ckpt, ckptHash),
        ...outerStateBlocks(1, mom, decodeCheckpoint(mom).contentHash),
      ])
    })
    const cheat = await verify(t, project, inflated)
    const round0 = codes(cheat.rounds[0]) ?? []
    assert.ok(round0.includes('VERIFY_CREDIT_MISMATCH'), JSON.stringify(cheat.rounds[0]))
    assert.ok(round0.every((c) => c === 'VERIFY_CREDIT_MISMATCH'))
    assert.match(cheat.rounds[0]!.problems[0]!.message, /round 0/)
    assert.deepEqual(codes(cheat.rounds[1]), [])

    // Lateness against the recorded arrival times: in round 0 an update that arrived on time is
    // called late; in round 1 an arrival time lies after the round closed.
    let onTime = -1
    const relabelled = await forgedLedger(t, project, async (w, r, out) => {
      let contributions = out.receipt.contributions
      if (r === 0) {
        onTime = contributions.findIndex((c) => c.accepted)
        contributions = contributions.map((c, i) =>
          i === onTime
            ? { ...c, accepted: false, reason: 'late' as const, quality: 0, credits: 0 }
            : c,
        )
      }
      if (r === 1)
        contributions = contributions.map((c, i) =>
          i === 0 ? { ...c, receivedAt: out.receipt.closedAt + 1 } : c,
        )
      await w.closeRound({ ...out.receipt, contributions }, out.weights, out.momentum)
    })
    const late = await verify(t, project, relabelled)
    assert.ok(
      late.rounds[0]!.problems.some(
        (p) =>
          p.code === 'VERIFY_RECEIPT_MISMATCH' &&
          p.message.includes(`contribution ${onTime} `) &&
          /says rejected \(late\), the replay gives accepted/.test(p.message),
      ),
      JSON.stringify(late.rounds[0]),
    )
    // (The replay also calls that contribution late, so the rest of round 1 differs as well.)
    assert.ok(
      late.rounds[1]!.problems.some(
        (p) =>
          p.code === 'VERIFY_RECEIPT_MISMATCH' &&
          /contribution 0: received at \d+, outside the round/.test(p.message),
      ),
      JSON.stringify(late.rounds[1]),
    )
    assert.deepEqual(codes(late.rounds[2]), [])
  })

  it('reports an update that is no longer online as unverifiable, not as tampering', async (t) => {
    const p = await honestProject(t)
    // Contributor 2's store is not reachable: its accepted updates cannot be fetched.
    const report = await verify(
      t,
      p,
      p.hostStore,
      p.contributors.filter((_, i) => i !== 2),
      1500,
    )
    assert.equal(report.ok, false)
    for (const r of report.rounds) {
      assert.equal(r.replayed, false)
      assert.deepEqual([...new Set(codes(r))], ['VERIFY_UPDATE_UNAVAILABLE'])
    }
  })

  it('tandem verify replays a project served on a loopback testnet', async (t) => {
    const p = await honestProject(t)
    // A node that holds what a verifier needs (ledger, validation shards, the updates) and serves
    // it: the store of an in-process verification.
    const { store: mirror, ok } = await verify(t, p, p.hostStore)
    assert.ok(ok)
    const net = await loopbackTestnet(t)
    const seeder = net.node({ corestore: mirror })
    seeder.joinProject(Buffer.from(p.key, 'hex'))
    await joinDataset(seeder.swarm, Buffer.from(p.datasetKey, 'hex'))
    const io = captureIO()
    const args = ['--bootstrap', net.bootstrap.join(','), '--timeout', '20', '--backend', 'cpu']
    const code = await run(['node', 'tandem', 'verify', p.key, ...args, '--json'], io)
    assert.equal(code, 0, io.errText)
    const report = JSON.parse(io.outText) as VerifyReport
    assert.equal(report.project, p.key)
    assert.ok(report.ok)
    assert.deepEqual(
      report.rounds.map((r) => [r.round, r.ok, r.replayed]),
      [
        [0, true, true],
        [1, true, true],
        [2, true, true],
      ],
    )
  })
})
