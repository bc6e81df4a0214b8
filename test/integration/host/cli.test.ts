/**
 * `tandem project host`, in-process: creates a project from a spec on a dataset already in the
 * state dir, hosts it on a loopback testnet for one round with one contributor, and stops by itself.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { run } from '../../../core/cli/main.js'
import { cliProjectSpec, startCliHost } from '../../support/cli-host.js'
import { testContributor } from '../../support/host-fixtures.js'
import { loopbackTestnet } from '../../support/swarm.js'

describe('tandem project host', () => {
  it('creates and hosts a project for one round, then exits', async (t) => {
    const net = await loopbackTestnet(t)
    const h = await startCliHost(t, net, cliProjectSpec('cli hosted'), 1)
    const { project, events, args } = h
    const io = h.io
    const c = await testContributor(t, net, project)
    await c.participant.start()
    assert.equal(await h.exited, 0, io.errText)
    const closed = events().find((e) => e.event === 'round-closed')
    assert.equal(closed?.accepted, 1, io.outText)
    assert.equal(events().at(-1)?.event, 'stop')

    // Unknown keys and a missing key (without --spec) are coded errors.
    assert.equal(
      await run(['node', 'tandem', 'project', 'host', 'ab'.repeat(32)].concat(args), io),
      2,
    )
    assert.match(io.errText, /PROJECT_NOT_FOUND/)
    assert.equal(await run(['node', 'tandem', 'project', 'host'].concat(args), io), 2)
    assert.match(io.errText, /BAD_ARGUMENT/)
  })
})
