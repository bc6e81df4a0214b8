/**
 * Churn (issue 16, experiment 4): a real host (in this process) and contributor nodes, each in its
 * own process (test/support/node-process.ts: startNode, what `tandem start` runs), on a loopback
 * testnet. In every round 30 % of the live contributors are killed with SIGKILL at a random point
 * of the round (training, publishing or waiting for the ack) while as many join: half restart a
 * killed node's home (its identity, state and published updates), half are new nodes.
 *
 * Measured: rounds completed; accepted updates lost (an offer the host acknowledged as received,
 * from a contributor still alive at the close, that is not in the round's receipt; or an accepted
 * ack a contributor saw that the ledger does not hold); credits granted twice (a contributor
 * credited twice in one round, or one update hash credited in two receipts); and a replay of the
 * whole ledger by a fresh verifier (verifyLedger, what `tandem verify` runs) that fetches the
 * updates from the host's store only: the killed contributors are gone.
 *
 * Standalone: node --import tsx test/eval/experiments/churn.ts [--quick] [--out dir]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import Corestore from 'corestore'
import { Dataset } from '../../../core/data/dataset.js'
import type { OfferEvent, RoundClosedEvent } from '../../../core/host/host-events.js'
import { verifyLedger, type VerifyReport } from '../../../core/host/verify.js'
import { readLedger } from '../../../core/ledger/reader.js'
import { seededRandom } from '../../../core/engine/model/init.js'
import { linkStores } from '../../support/data.js'
import { startTestHost } from '../../support/host-fixtures.js'
import { spawnNodeProcess, type NodeProcess } from '../../support/node-fixtures.js'
import { loopbackTestnet } from '../../support/swarm.js'
import { standalone } from '../support/standalone-experiment.js'
import type { ExperimentOptions, ExperimentResult } from '../types.js'

/**
 * The test fixtures tear down through a TestContext; outside node:test this scope collects the
 * same callbacks and runs them last-registered first.
 */
function scope(log: (line: string) => void) {
  const cleanups: Array<() => unknown> = []
  const t = {
    after: (fn: () => unknown) => void cleanups.push(fn),
    diagnostic: (msg: string) => log(`churn: ${msg}`),
    signal: new AbortController().signal,
  } as unknown as TestContext
  return {
    t,
    async close() {
      for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => {})
    },
  }
}

interface Member {
  id: number
  home: string
  proc: NodeProcess | null
  key?: string
}

export interface ChurnSummary {
  rounds: number
  roundsCompleted: number
  killed: number
  joinedNew: number
  restarted: number
  offersReceived: number
  acceptedInLedger: number
  lostUpdates: number
  lostDetails: string[]
  doubleCredits: number
  verifyOk: boolean
  verifyProblems: string[]
  /** received-but-absent offers from contributors killed before the close (expected: no bytes). */
  droppedFromKilled: number
  /** What each killed node was doing (its last event): training, an offer's status, … */
  killPhases: Record<string, number>
}

export async function runChurn(o: {
  rounds: number
  contributors: number
  seed: number
  /** Round deadline: kills fall in its first 60 %. */
  deadlineSec: number
  log: (line: string) => void
}): Promise<ChurnSummary> {
  const s = scope(o.log)
  const rand = seededRandom(9001 + o.seed)
  const dirs: string[] = []
  try {
    const net = await loopbackTestnet(s.t)
    const deadlineSec = o.deadlineSec
    const h = await startTestHost(s.t, net, {
      recipe: {
        innerSteps: 120,
        batchSize: 16,
        roundDeadlineSec: deadlineSec,
        minUpdates: 1,
        maxUpdates: 64,
      },
      host: { rounds: o.rounds, fetchTimeoutMs: 10_000 },
    })
    const bootstrap = net.bootstrap[0]!
    const offers: OfferEvent[] = []
    const closed: RoundClosedEvent[] = []
    let openRound = -1
    let openedAt = Date.now()
    h.host.on('offer', (e) => offers.push(e))
    h.host.on('round-closed', (e) => closed.push(e))
    h.host.on('round-open', (e) => {
      openRound = e.round
      openedAt = Date.now()
    })
    await h.host.start()

    const members: Member[] = []
    /** Contributor key → the time it was killed (ms). */
    const killedAt = new Map<string, number>()
    let nextId = 0
    let joinedNew = 0
    let restarted = 0
    let killed = 0
    const killPhases: Record<string, number> = {}
    const procs: NodeProcess[] = []
    const start = async (m: Member) => {
      m.proc = spawnNodeProcess(s.t, m.home, bootstrap, {
        join: [h.project],
        settings: { pauseOnBattery: false },
      })
      procs.push(m.proc)
      const hello = await m.proc.waitFor((e) => e.event === 'started', 'a node to start', 120_000)
      m.key = hello.key as string
      killedAt.delete(m.key)
    }
    const fresh = async () => {
      const home = await mkdtemp(join(tmpdir(), 'tandem-churn-'))
      dirs.push(home)
      const m: Member = { id: nextId++, home, proc: null }
      members.push(m)
      return m
    }
    for (let i = 0; i < o.contributors; i++) await start(await fresh())
    o.log(`churn: ${o.contributors} contributors started`)

    for (let r = 0; r < o.rounds; r++) {
      while (openRound < r) await new Promise((res) => setTimeout(res, 100))
      const live = members.filter((m) => m.proc)
      const victims = [...live]
        .sort(() => rand() - 0.5)
        .slice(0, Math.max(1, Math.round(0.3 * live.length)))
      // Kill each at a random point of the round: training, publishing or waiting for the ack.
      await Promise.all(
        victims.map(async (m, i) => {
          // A random point: mid-training, right after offering, or a random time in the round.
          const point = (['training', 'offered', 'time'] as const)[
            (r + i + Math.floor(rand() * 3)) % 3
          ]!
          const until = openedAt + deadlineSec * 1000 * 0.6
          if (point === 'time') {
            const at = openedAt + 1000 + rand() * (until - openedAt - 1000)
            await new Promise((res) => setTimeout(res, Math.max(0, at - Date.now())))
          } else {
            const step = 1 + Math.floor(rand() * 30)
            await m
              .proc!.waitFor(
                (e) =>
                  e.round === r &&
                  (point === 'training'
                    ? e.event === 'progress' && (e.step as number) >= step
                    : e.event === 'offer'),
                `round ${r} ${point}`,
                Math.max(1000, until - Date.now()),
              )
              .catch(() => {}) // not reached in time: killed wherever it is
          }
          const last = [...m.proc!.events]
            .reverse()
            .find((e) => e.event === 'progress' || e.event === 'offer' || e.event === 'phase')
          const phase = !last
            ? 'starting'
            : last.event === 'progress'
              ? 'training'
              : last.event === 'offer'
                ? `offer ${String(last.status)}`
                : String(last.phase)
          killPhases[phase] = (killPhases[phase] ?? 0) + 1
          m.proc!.child.kill('SIGKILL')
          await m.proc!.exited
          m.proc = null
          killedAt.set(m.key!, Date.now())
          killed++
        }),
      )
      // As many join: half restart a killed home, half are new nodes.
      const dead = members.filter((m) => !m.proc && !victims.includes(m))
      for (const [i] of victims.entries()) {
        const back = i % 2 === 0 ? dead.shift() : undefined
        if (back) restarted++
        else joinedNew++
        await start(back ?? (await fresh()))
      }
      o.log(
        `churn: round ${r}: killed ${victims.length}, ${members.filter((m) => m.proc).length} live`,
      )
      while (closed.length <= r && h.host.status().state !== 'stopped')
        await new Promise((res) => setTimeout(res, 200))
    }
    await h.host.finished()

    // The ledger, as any peer reads it.
    const state = await readLedger(h.ledger.core)
    const receipts = state.rounds.flatMap((x) => (x.receipt ? [x.receipt] : []))
    let lost = 0
    let droppedFromKilled = 0
    const lostDetails: string[] = []
    for (const e of offers.filter((x) => x.status === 'received' || x.status === 'retransmitted')) {
      const receipt = receipts.find((x) => x.round === e.round)
      if (!receipt) continue
      if (receipt.contributions.some((c) => c.updateHash === e.hash)) continue
      const closedAt = receipt.closedAt
      const deadAt = killedAt.get(e.contributor)
      if (deadAt !== undefined && deadAt < closedAt) droppedFromKilled++
      else {
        lost++
        lostDetails.push(`round ${e.round}: ${e.contributor.slice(0, 12)}… ${e.hash.slice(0, 12)}…`)
      }
    }
    // Accepted acks the contributors saw must be in the ledger.
    for (const proc of procs)
      for (const e of proc.events)
        if (e.event === 'offer' && e.status === 'accepted') {
          const receipt = receipts.find((x) => x.round === e.round)
          if (!receipt?.contributions.some((c) => c.updateHash === e.hash && c.accepted)) {
            lost++
            lostDetails.push(`acked accepted, not in the ledger: round ${String(e.round)}`)
          }
        }
    let doubleCredits = 0
    const creditedHashes = new Set<string>()
    for (const receipt of receipts) {
      const per = new Map<string, number>()
      for (const c of receipt.contributions.filter((x) => x.credits > 0)) {
        per.set(c.contributor, (per.get(c.contributor) ?? 0) + 1)
        if (creditedHashes.has(c.updateHash)) doubleCredits++
        creditedHashes.add(c.updateHash)
      }
      for (const n of per.values()) if (n > 1) doubleCredits += n - 1
    }

    // A fresh verifier that can reach only the host's store.
    const vdir = await mkdtemp(join(tmpdir(), 'tandem-churn-verify-'))
    dirs.push(vdir)
    const vstore = new Corestore(vdir)
    s.t.after(() => vstore.close())
    linkStores(s.t, vstore, h.store)
    const ledger = vstore.get({ key: Buffer.from(h.project, 'hex') })
    s.t.after(() => ledger.close())
    await ledger.ready()
    const dataset = await Dataset.open(vstore.get({ key: Buffer.from(h.dataset.keyHex, 'hex') }), {
      timeoutMs: 20_000,
    })
    s.t.after(() => dataset.close())
    const report: VerifyReport = await verifyLedger({
      ledger,
      store: vstore,
      dataset,
      timeoutMs: 20_000,
    })

    return {
      rounds: o.rounds,
      roundsCompleted: receipts.length,
      killed,
      joinedNew,
      restarted,
      offersReceived: offers.filter((x) => x.status === 'received').length,
      acceptedInLedger: receipts.reduce(
        (a, x) => a + x.contributions.filter((c) => c.accepted).length,
        0,
      ),
      lostUpdates: lost,
      lostDetails,
      doubleCredits,
      verifyOk: report.ok,
      verifyProblems: [
        ...report.problems.map((p) => `${p.code}: ${p.message}`),
        ...report.rounds.flatMap((x) =>
          x.problems.map((p) => `round ${x.round} ${p.code}: ${p.message}`),
        ),
      ],
      droppedFromKilled,
      killPhases,
    }
  } finally {
    await s.close()
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  }
}

export async function run(options: ExperimentOptions): Promise<ExperimentResult> {
  const q = options.quick
  const c = await runChurn({
    rounds: q ? 3 : 5,
    contributors: q ? 4 : 6,
    deadlineSec: q ? 20 : 30,
    seed: options.seed,
    log: options.log,
  })
  return {
    name: 'churn',
    title: 'Churn: 30 % of the contributors killed (SIGKILL) every round while others join',
    table: {
      columns: ['measure', 'value'],
      rows: [
        ['rounds completed', `${c.roundsCompleted} of ${c.rounds}`],
        ['contributors killed (SIGKILL)', c.killed],
        [
          'what they were doing',
          Object.entries(c.killPhases)
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
        ],
        ['joined: new nodes / restarted homes', `${c.joinedNew} / ${c.restarted}`],
        ['offers received by the host', c.offersReceived],
        ['accepted contributions in the ledger', c.acceptedInLedger],
        [
          'received offers dropped because their node died before the host had the bytes',
          c.droppedFromKilled,
        ],
        ['accepted updates lost', c.lostUpdates],
        ['credits granted twice', c.doubleCredits],
        [
          'verify (fresh verifier, host store only)',
          c.verifyOk ? 'clean' : `${c.verifyProblems.length} problem(s)`,
        ],
      ],
    },
    targets: [
      {
        name: 'rounds completed',
        target: 'every round',
        measured: `${c.roundsCompleted} of ${c.rounds}`,
        met: c.roundsCompleted === c.rounds,
      },
      {
        name: 'accepted updates lost',
        target: '0',
        measured: String(c.lostUpdates),
        met: c.lostUpdates === 0,
      },
      {
        name: 'credits granted twice',
        target: '0',
        measured: String(c.doubleCredits),
        met: c.doubleCredits === 0,
      },
      {
        name: 'verify',
        target: 'clean at the end',
        measured: c.verifyOk ? 'clean' : c.verifyProblems.slice(0, 3).join('; '),
        met: c.verifyOk,
      },
    ],
    plots: [],
    details: { ...c },
    notes: [
      'Host in the experiment process, each contributor its own process (startNode on its own home dir, cpu backend, 1 thread) on a loopback testnet; H = 120 steps of 16 on the learnable argmax dataset, 30 s rounds (quick: 20 s), minUpdates 1.',
      'Each round ~30 % of the live contributors are killed with SIGKILL at a random point: mid-training (at a random step), right after offering, or at a uniformly random time in the first 60 % of the round; as many join (alternately a restarted killed home and a new node).',
      'An offer acknowledged `received` whose node died before the host downloaded it is left out of the receipt by design (no verified bytes to name; docs/host.md): counted separately, not as lost.',
    ],
  }
}

standalone(import.meta.url, 'churn', run)
