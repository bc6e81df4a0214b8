/**
 * Flags spread through the swarm (core/node/flags.ts, flag-gossip.ts) on a loopback testnet, with
 * their limits: one flag per identity per project, forged ones dropped, a per-peer rate, a late
 * joiner synced; and the book's cap, where contributors' flags outrank fresh identities'.
 */
import assert from 'node:assert/strict'
import crypto from 'hypercore-crypto'
import { describe, it } from 'node:test'
import { FlagGossip } from '../../../core/node/flag-gossip.js'
import {
  FlagBook,
  flagToWire,
  MAX_PER_PROJECT,
  PEER_RATE,
  REPLACE_MS,
  signFlag,
} from '../../../core/node/flags.js'
import { loopbackTestnet, type TestNetwork } from '../../support/swarm.js'
import { waitUntil } from '../../support/wait.js'

const PROJECT = 'ab'.repeat(32)

/** Who has accepted work in the project (a node reads it from the ledger; here, given). */
const contributors = new Set<string>()

function member(net: TestNetwork) {
  const keyPair = crypto.keyPair()
  const node = net.node({ keyPair })
  const book = new FlagBook({ contributed: (_p, f) => contributors.has(f) })
  const gossip = new FlagGossip({ node, book, keyPair })
  gossip.start()
  node.joinProject(Buffer.from(PROJECT, 'hex'))
  return { keyPair, node, book, gossip }
}

describe('flags through the swarm', () => {
  it('spread to every peer, one per identity, forged and flooded ones dropped, late joiners synced', async (t) => {
    const net = await loopbackTestnet(t)
    const [a, b, c] = [member(net), member(net), member(net)]
    contributors.add(a.keyPair.publicKey.toString('hex'))
    const peersOf = (m: ReturnType<typeof member>, n: number) =>
      waitUntil(
        () => m.node.projectPeers(Buffer.from(PROJECT, 'hex')).length >= n,
        `${n} project peers`,
        20_000,
      )
    await Promise.all([peersOf(a, 2), peersOf(b, 2), peersOf(c, 2)])
    a.gossip.flag(PROJECT, 'trains on data its charter does not list')
    await waitUntil(
      () => b.book.list(PROJECT).length === 1 && c.book.list(PROJECT).length === 1,
      'the flag to spread',
    )
    assert.equal(c.book.list(PROJECT)[0]!.reason, 'trains on data its charter does not list')
    assert.throws(() => a.gossip.flag(PROJECT, 'again'), {
      code: 'BAD_ARGUMENT',
      message: /too soon/,
    })

    // A forged flag (B's name, another key's signature) and a flood from one peer.
    const d = member(net)
    await peersOf(d, 3)
    let fromD = 0 // flag messages c received from d
    c.node.on('message', (p, m) => {
      if (m.type === 'flag' && p.key.equals(d.keyPair.publicKey)) fromD++
    })
    const hostOf = (m: ReturnType<typeof member>) => m.keyPair.publicKey
    const forged = {
      ...signFlag(PROJECT, 'forged', crypto.keyPair()),
      flagger: hostOf(b).toString('hex'),
    }
    d.node.send(hostOf(c), 'flag', flagToWire(forged))
    for (let i = 0; i < PEER_RATE + 20; i++)
      d.node.send(hostOf(c), 'flag', flagToWire(signFlag(PROJECT, `sybil ${i}`, crypto.keyPair())))
    // Every flag message from d counts against its rate, the ones it relayed included.
    await waitUntil(() => fromD >= PEER_RATE + 21, 'the flood to arrive')
    await new Promise((r) => setTimeout(r, 500))
    const sybils = c.book.list(PROJECT).filter((f) => f.reason.startsWith('sybil')).length
    assert.ok(
      sybils > 0 && sybils <= PEER_RATE,
      `${sybils} of ${PEER_RATE + 20} flooded flags kept`,
    )
    assert.ok(!c.book.list(PROJECT).some((f) => f.reason === 'forged'))

    // A node that joins later is sent the flags it missed, a contributor's before the flood's.
    const e = member(net)
    await waitUntil(
      () => e.book.list(PROJECT).some((f) => f.flagger === hostOf(a).toString('hex')),
      'a late joiner to hear of the flag',
      20_000,
    )
  })

  it('keeps one flag per identity, a bounded list, and contributors over fresh identities', () => {
    let now = 1_000_000_000
    const contributors = new Set<string>()
    const book = new FlagBook({ now: () => now, contributed: (_p, f) => contributors.has(f) })
    const k = crypto.keyPair()
    assert.equal(book.add(signFlag(PROJECT, 'first', k, now)).outcome, 'added')
    assert.equal(book.add(signFlag(PROJECT, 'second', k, now + 1)).outcome, 'refused')
    now += REPLACE_MS
    assert.equal(book.add(signFlag(PROJECT, 'third', k, now)).outcome, 'replaced')
    assert.equal(book.list(PROJECT).length, 1)
    assert.equal(
      book.add(signFlag(PROJECT, 'future', crypto.keyPair(), now + 3_600_000)).outcome,
      'refused',
    )
    for (let i = 1; i < MAX_PER_PROJECT; i++)
      assert.equal(book.add(signFlag(PROJECT, `n${i}`, crypto.keyPair(), now)).outcome, 'added')
    assert.equal(book.list(PROJECT).length, MAX_PER_PROJECT)
    assert.equal(book.add(signFlag(PROJECT, 'one more', crypto.keyPair(), now)).outcome, 'refused')
    const worker = crypto.keyPair()
    contributors.add(worker.publicKey.toString('hex'))
    assert.equal(book.add(signFlag(PROJECT, 'I trained it', worker, now)).outcome, 'added')
    assert.equal(book.list(PROJECT).length, MAX_PER_PROJECT)
    assert.ok(book.list(PROJECT).some((f) => f.reason === 'I trained it'))
  })
})
