/** The README's main-job command, run as a user would: through the installed `tandem` bin. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { spawnTandem } from '../support/process.js'

describe('tandem demo', () => {
  it('runs a host, simulated contributors and this node on loopback: 2 rounds, loss falls, credits granted', async () => {
    const demo = spawnTandem(['demo', '--contributors', '2', '--rounds', '2', '--corpus-kb', '256'])
    const { code } = await demo.exited.then(async (exit) => exit)
    const out = demo.output()
    assert.equal(code, 0, out)
    assert.match(out, /private DHT on 127\.0\.0\.1:\d+/)
    assert.match(out, /open the UI: http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{64}/)
    const closed = [
      ...out.matchAll(/round (\d+) closed: validation loss ([\d.]+) → ([\d.]+), (\d+) accepted/g),
    ]
    assert.ok(closed.length >= 2, out)
    for (const [, , before, after] of closed.slice(0, 2))
      assert.ok(Number(after) < Number(before), `loss fell: ${before} → ${after}`)
    assert.equal(closed[0]![4], '3', 'the two simulated contributors and this node were accepted')
    const mine = [...out.matchAll(/\[me\] round (\d+): accepted, \+([\d.]+) credits/g)]
    assert.equal(mine.length, 2, out)
    assert.ok(mine.every(([, , c]) => Number(c) > 0))
    assert.match(out, /stopped\n$/)
  })

  it('keeps running until Ctrl-C, then stops every process cleanly', async () => {
    const demo = spawnTandem(['demo', '--contributors', '1', '--corpus-kb', '128'])
    await demo.waitFor(/press Ctrl-C to stop/, 60_000)
    demo.child.kill('SIGINT')
    const { code } = await demo.exited
    assert.equal(code, 0, demo.output())
    assert.match(demo.output(), /stopping \(interrupted\)…\nstopped\n$/)
  })

  it('rejects a bad --contributors value with a coded error', async () => {
    const demo = spawnTandem(['demo', '--contributors', '0'])
    const { code } = await demo.exited
    assert.equal(code, 2)
    assert.match(
      demo.output(),
      /--contributors must be a whole number from 1 to 8 \[BAD_ARGUMENT\]/,
    )
  })
})
