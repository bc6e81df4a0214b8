/**
 * A project with a charter on a loopback testnet, for the governance tests: a real host and `n`
 * real contributors (cpu backend) whose round 1 waits for release(), so votes can be cast in it.
 */
import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import { verifyLedger } from '../../core/host/verify.js'
import {
  startTestHost,
  testContributor,
  type TestContributor,
  type TestHost,
} from './host-fixtures.js'
import { loopbackTestnet, type TestNetwork } from './swarm.js'

export const charter = {
  purpose: 'Learn which of three sensor readings is largest, for a teaching demo.',
  prohibitedUses: ['surveillance'],
  weights: { licence: 'CC0-1.0', download: 'everyone' },
  dataSources: [{ name: 'argmax-12 (synthetic)', licence: 'CC0-1.0' }],
  host: { name: 'Test host', contact: 'host@example.org' },
  governance: {
    weighting: 'one-per-contributor',
    quorum: 0.5,
    threshold: 0.6,
    votingPeriod: { rounds: 1 },
  },
}

export interface GovernedProject {
  net: TestNetwork
  h: TestHost
  contributors: TestContributor[]
  /** Opens round 1 to training (held until the votes are in). */
  release: () => void
}

/** A host with the charter and `n` contributors whose round 1 waits for release(). */
export async function governedProject(
  t: TestContext,
  n: number,
  rounds: number,
  roundDeadlineSec = 12,
): Promise<GovernedProject> {
  const net = await loopbackTestnet(t)
  const h = await startTestHost(t, net, {
    charter,
    recipe: { minUpdates: 2, maxUpdates: n, roundDeadlineSec },
    host: { rounds },
  })
  let released = false
  const contributors = await Promise.all(
    Array.from({ length: n }, () =>
      testContributor(t, net, h.project, { gate: (r) => r !== 1 || released }),
    ),
  )
  await h.host.start()
  await Promise.all(contributors.map((c) => c.participant.start()))
  const release = () => {
    released = true
    for (const c of contributors) c.participant.poke()
  }
  return { net, h, contributors, release }
}

/** `tandem verify` over the host's whole ledger finds nothing; returns the report. */
export async function assertVerifiesClean(h: TestHost) {
  const report = await verifyLedger({
    ledger: h.ledger.core,
    store: h.store.corestore,
    dataset: h.dataset,
    timeoutMs: 10_000,
  })
  assert.deepEqual(report.problems, [])
  for (const r of report.rounds) assert.deepEqual(r.problems, [], `round ${r.round}`)
  assert.ok(report.ok)
  return report
}
