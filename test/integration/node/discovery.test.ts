/**
 * Project discovery under a hostile peer: a real host announces its project on the discovery topic;
 * hostile peers there flood the contributor node with 1,000 validly signed announces of made-up
 * projects (each with a fresh host key) and forge an announce of the real project under their own
 * key with the largest `seq` and absurd numbers. `projects.list`, called through the API handlers as
 * the UI and CLI call it, still answers within a few seconds and shows the real host's numbers.
 */
import assert from 'node:assert/strict'
import crypto from 'hypercore-crypto'
import { describe, it } from 'node:test'
import type { NodeStatus, ProjectSummary } from '../../../core/api/contract.js'
import { dispatch } from '../../../core/api/dispatch.js'
import { discoveryTopic } from '../../../core/net/topics.js'
import { createApi } from '../../../core/node/api.js'
import { LIMITS } from '../../../core/wire/check.js'
import { encodeMessage } from '../../../core/wire/decode.js'
import { signAnnounce } from '../../../core/wire/signing.js'
import { startTestHost } from '../../support/host-fixtures.js'
import { helloBytes, hostilePeer } from '../../support/hostile-peer.js'
import { startTestNode } from '../../support/node-fixtures.js'
import { loopbackTestnet } from '../../support/swarm.js'
import { waitUntil } from '../../support/wait.js'

/** Fresh-key announces in all; spread over peers so none exceeds the per-peer burst (200). */
const FLOOD = 1_000
const HOSTILES = 6
/** What a list call may take with the flood in: a few seconds on a loaded test machine. */
const LIST_BOUND_MS = 5_000

function signedBy(
  keyPair: { publicKey: Buffer; secretKey: Buffer },
  project: Buffer,
  numbers: { round: number; contributors: number; seq: number },
): Uint8Array {
  const body = signAnnounce(
    {
      project,
      host: keyPair.publicKey,
      name: 'free compute',
      dataset: crypto.randomBytes(32),
      open: true,
      ...numbers,
    },
    keyPair.secretKey,
  )
  return encodeMessage('announce', body)
}

describe('discovery under an announce flood', () => {
  it('lists the real project with its host’s numbers, within a few seconds', async (t) => {
    const net = await loopbackTestnet(t)
    const h = await startTestHost(t, net, { host: { discovery: true, announceEveryMs: 500 } })
    await h.host.start()
    await h.node.swarm.flush()

    // The contributor node only looks the discovery topic up, so the hostile peers announce
    // themselves there first and wait to be dialled.
    const hostiles = Array.from({ length: HOSTILES }, () => hostilePeer(t, net.bootstrap))
    await Promise.all(
      hostiles.map((p) =>
        p.swarm.join(discoveryTopic(), { server: true, client: false }).flushed(),
      ),
    )

    const node = await startTestNode(t, net)
    const handlers = createApi(node, 'daemon')
    const call = async (method: 'projects.list' | 'node.status') => {
      const out = await dispatch(handlers, { id: 1, method, params: {} })
      if (!out.ok) throw new Error(`${method}: ${out.code} ${out.message}`)
      return out.value
    }
    let announces = 0
    node.net.on('message', (_peer, msg) => void (msg.type === 'announce' && announces++))
    const channels = await Promise.all(hostiles.map((p) => p.accept(node.net.key)))

    // The real project gets listed once its manifest (read from the host) names the announcer.
    const deadline = Date.now() + 30_000
    let before: ProjectSummary[] = []
    while (!before.some((p) => p.key === h.project)) {
      if (Date.now() > deadline)
        throw new Error(`the real project was never listed (${announces} announces heard)`)
      before = (await call('projects.list')) as ProjectSummary[]
      await new Promise((resolve) => setTimeout(resolve, 50)) // an empty list answers at once
    }
    const real = before.find((p) => p.key === h.project)!
    assert.equal(real.host, h.keyPair.publicKey.toString('hex'))

    const heard = announces
    channels.forEach((ch) => ch.send('hello', helloBytes()))
    const forger = crypto.keyPair()
    channels[0]!.send(
      'announce',
      signedBy(forger, Buffer.from(h.project, 'hex'), {
        round: LIMITS.maxRound,
        contributors: LIMITS.maxContributors,
        seq: Number.MAX_SAFE_INTEGER,
      }),
    )
    for (let i = 0; i < FLOOD; i++) {
      const seq = 1 + Math.floor(Math.random() * 1e9)
      const bytes = signedBy(crypto.keyPair(), crypto.randomBytes(32), {
        round: 7,
        contributors: 500_000,
        seq,
      })
      channels[i % HOSTILES]!.send('announce', bytes)
    }
    await waitUntil(() => announces >= heard + FLOOD + 1, 'the flood to arrive', 30_000)
    assert.equal(node.net.counters.bans, 0, 'valid announces are no offence: every one was heard')

    // Many list calls at once (a UI and CLIs polling): each answers within the bound.
    const started = Date.now()
    const lists = (await Promise.all(
      Array.from({ length: 20 }, () => call('projects.list')),
    )) as ProjectSummary[][]
    const took = Date.now() - started
    assert.ok(took < LIST_BOUND_MS, `projects.list took ${took} ms`)
    for (const list of lists) {
      assert.deepEqual(
        list.map((p) => p.key),
        [h.project],
        'made-up projects are never listed',
      )
      const p = list[0]!
      assert.equal(p.host, h.keyPair.publicKey.toString('hex'))
      assert.equal(p.contributors, real.contributors, "the real host's count, not the forged one")
      assert.ok(p.round < 1000, `round ${p.round} is the real one`)
    }

    // The node keeps serving, and the real host's later announces still get through.
    const more = announces
    await waitUntil(() => announces > more, "the real host's next announce")
    const status = (await call('node.status')) as NodeStatus
    assert.ok(status.peers > HOSTILES, `${status.peers} peers`)
    const after = (await call('projects.list')) as ProjectSummary[]
    assert.deepEqual(
      after.map((p) => p.key),
      [h.project],
    )
  })
})
