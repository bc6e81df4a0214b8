/**
 * The Governance view in real Chromium against a REAL node (docs/governance.md): a loopback
 * testnet, a host in this process running the demo's language model with a charter, `tandem
 * daemon` (startNode, wasm backend, one thread) and a second contributor in this process. After a
 * round in which both had work accepted, the host proposes a licence change and a rule change;
 * the other contributor votes yes on both, the person votes no on the rule in the page and leaves
 * the licence alone. The rule change fails, the licence change passes and takes effect at the next
 * boundary; the page shows the history with outcomes and that this node is paused over the new
 * terms, and "Accept the new terms" lifts the pause. A flag raised in the page is signed and shown.
 * The "try it" box prompts the model, and the model is saved as safetensors that load back.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { describe, it } from 'node:test'
import type { Browser } from 'playwright-core'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startNode, type RunningNode } from '../../core/cli/commands/node.js'
import { decodeSafetensors, tensorsToWeights } from '../../core/engine/safetensors.js'
import { readCheckpoint } from '../../core/ledger/reader.js'
import { chromiumMissing, launchChromium } from '../support/browser.js'
import { tempDir } from '../support/data.js'
import { testContributor } from '../support/host-fixtures.js'
import { loopbackTestnet } from '../support/swarm.js'
import {
  gotoPage,
  openUi,
  screenshot,
  waitConnected,
  waitLoaded,
  type OpenedUi,
} from '../support/ui-driver.js'
import { startLmTestHost } from '../support/ui-live-host.js'
import { waitUntil } from '../support/wait.js'

const built = 'out/renderer'
const charter = {
  purpose: 'A small model of harbour stories, for a demo.',
  prohibitedUses: ['impersonation'],
  weights: { licence: 'CC0-1.0', download: 'everyone' },
  dataSources: [{ name: 'generated harbour tales', licence: 'CC0-1.0' }],
  host: { name: 'UI test host', contact: 'ui@example.org' },
  governance: { quorum: 0.5, threshold: 0.6, votingPeriod: { rounds: 1 } },
}

describe('Governance view against a real node', { skip: chromiumMissing }, () => {
  it('charter, proposals with diff, a vote from the page, outcomes, accepting new terms', async (t) => {
    assert.ok(existsSync(`${built}/index.html`), 'run `npm run build:app` first (npm test does)')
    const held: { browser?: Browser; ui?: OpenedUi; daemon?: RunningNode } = {}
    t.after(async () => {
      await held.ui?.page.close().catch(() => {})
      await held.browser?.close()
      await held.daemon?.stop()
    })
    const net = await loopbackTestnet(t)
    const h = await startLmTestHost(t, net, {
      recipe: { roundDeadlineSec: 120, minUpdates: 1, maxUpdates: 2 },
      charter,
    })
    await h.host.start()
    const daemon = (held.daemon = await startNode(
      {
        home: await tempDir(t, 'tandem-ui-gov-'),
        bootstrap: net.bootstrap,
        backend: 'wasm',
        threads: '1',
      },
      true,
    ))
    const node = daemon.node
    const governanceEvents: string[] = []
    node.on('event', (e) => {
      if (e.event === 'governance')
        governanceEvents.push(`${e.data.proposal}:${e.data.kind}:${e.data.status}`)
    })
    let released = false
    const x = await testContributor(t, net, h.project, { gate: (r) => r < 1 || released })
    await x.participant.start()
    await node.join(h.project)
    const me = node.identity.publicKey.toString('hex')
    const xKey = x.keyPair.publicKey.toString('hex')

    // Round 0: both have accepted work, so both may vote on what is proposed in round 1.
    await waitUntil(() => h.ledger.round >= 1, 'round 0 to close', 240_000)
    const r0 = h.ledger.state.rounds[0]!.receipt!.contributions
    assert.deepEqual(
      r0
        .filter((c) => c.accepted)
        .map((c) => c.contributor)
        .sort(),
      [me, xKey].sort(),
    )
    node.pause('now')
    const p1 = await h.host.propose('Weights for contributors only, CC-BY', {
      kind: 'licence',
      licence: 'CC-BY-4.0',
      download: 'contributors',
    })
    const p2 = await h.host.propose('Aggregate with the plain mean', {
      kind: 'aggregation',
      rule: 'mean',
    })
    await waitUntil(
      () => x.participant.ledgerState?.governance?.proposals.length === 2,
      'X sees them',
      20_000,
    )
    assert.equal((await x.participant.vote(p1, 'yes')).status, 'accepted')
    assert.equal((await x.participant.vote(p2, 'yes')).status, 'accepted')

    const browser = (held.browser = await launchChromium())
    const ui = (held.ui = await openUi(browser, daemon.server!.uiUrl))
    const page = ui.page
    await waitConnected(page)
    await waitLoaded(page)
    const section = await gotoPage(page, 'projects')
    const gov = section.getByTestId('governance')
    await gov.waitFor()
    const charterText = (await gov.getByTestId('charter').textContent()) ?? ''
    assert.match(charterText, /harbour stories/)
    assert.match(charterText, /CC0-1\.0 \(download: everyone\)/)
    assert.match(charterText, /UI test host <ui@example\.org>/)
    const openList = gov.getByTestId('open-proposals')
    await openList.locator(`[data-id="${p2}"]`).waitFor({ timeout: 20_000 })
    const rule = openList.locator(`[data-id="${p2}"]`)
    assert.match((await rule.textContent()) ?? '', /aggregation\.rule: "centered-clip" → "mean"/)
    const licence = openList.locator(`[data-id="${p1}"]`)
    assert.match((await licence.textContent()) ?? '', /"CC0-1\.0" → "CC-BY-4\.0"/)
    await screenshot(page, 'ui-governance-open')
    await rule.getByRole('button', { name: 'Vote no' }).click()
    await rule
      .getByTestId('proposal-votes')
      .filter({ hasText: 'you voted no' })
      .waitFor({ timeout: 20_000 })
    assert.equal(h.ledger.state.governance!.votes.length, 3)

    // The vote ends with round 1: the rule change fails, the licence change takes effect in 2.
    released = true
    x.participant.poke()
    node.resume()
    await waitUntil(() => Boolean(h.ledger.state.rounds[2]?.open), 'round 2 to open', 240_000)
    assert.deepEqual(h.ledger.state.rounds[2]!.enacted, [p1])
    const history = gov.getByTestId('proposal-history')
    await history.locator(`[data-id="${p2}"][data-status="failed"]`).waitFor({ timeout: 30_000 })
    await history.locator(`[data-id="${p1}"][data-status="passed"]`).waitFor({ timeout: 30_000 })
    assert.match(
      (await history.locator(`[data-id="${p1}"]`).textContent()) ?? '',
      /passed, in effect from round 2/,
    )
    assert.match(
      (await history.locator(`[data-id="${p2}"]`).textContent()) ?? '',
      /failed: never applied/,
    )
    // The node told its UIs when each proposal opened and when its vote closed.
    await waitUntil(
      () =>
        governanceEvents.includes(`${p1}:closed:passed`) &&
        governanceEvents.includes(`${p2}:closed:failed`),
      'governance events',
    )
    assert.ok(governanceEvents.includes(`${p1}:opened:open`), governanceEvents.join(' '))
    assert.ok(governanceEvents.includes(`${p2}:opened:open`), governanceEvents.join(' '))
    // This node did not vote for the new licence: paused until it accepts.
    const paused = gov.getByTestId('terms-paused')
    await paused.waitFor({ timeout: 30_000 })
    await screenshot(page, 'ui-governance-paused')
    await paused.getByRole('button', { name: 'Accept the new terms' }).click()
    await paused.waitFor({ state: 'detached', timeout: 20_000 })
    assert.equal(node.participant(h.project)!.termsStatus()!.paused, false)
    await waitUntil(
      () =>
        node.joinedProjects()[0]?.acceptedTerms ===
        node.participant(h.project)!.termsStatus()!.current,
      'the accepted terms to be kept in the node state',
    )
    assert.match(
      (await gov.getByTestId('charter').textContent()) ?? '',
      /CC-BY-4\.0 \(download: contributors\)/,
    )

    // Flag the project from the page: signed, kept once, shown.
    const flags = gov.getByTestId('flags')
    await flags.getByLabel(/Flag this project/).fill('the licence changed under us')
    await flags.getByRole('button', { name: 'Flag' }).click()
    await flags.getByTestId('flag').filter({ hasText: 'the licence changed under us' }).waitFor()
    assert.equal(node.flags.list(h.project).length, 1)
    assert.equal(node.flags.list(h.project)[0]!.flagger, me)
    // Kept across restarts: the flags file, written a moment later.
    const flagsFile = join(node.paths.data, 'flags.json')
    await waitUntil(() => existsSync(flagsFile), 'the flags file')
    const kept = JSON.parse(await readFile(flagsFile, 'utf8')) as {
      flags: Array<{ reason: string }>
    }
    assert.deepEqual(
      kept.flags.map((f) => f.reason),
      ['the licence changed under us'],
    )

    // Try it: the model continues a prompt.
    const tryIt = section.getByTestId('try-it')
    await tryIt.getByLabel('Prompt').fill('The harbour')
    await tryIt.getByRole('button', { name: 'Generate' }).click()
    const out = tryIt.getByTestId('try-it-output')
    await out.waitFor({ timeout: 30_000 })
    assert.match((await out.textContent()) ?? '', /^The harbour/)
    // Save the model: safetensors in the node's exports folder, loading back with the weights of
    // the checkpoint the ledger holds.
    const download = section.getByTestId('model-download')
    await download.getByRole('button', { name: 'Save the model (safetensors)' }).click()
    const saved = download.getByTestId('model-saved')
    await saved.waitFor({ timeout: 120_000 })
    const text = (await saved.textContent()) ?? ''
    const path = /saved to (\S+\.safetensors)/.exec(text)?.[1]
    assert.ok(path && path.startsWith(node.paths.data), text)
    const round = Number(/Round (\d+)/.exec(text)?.[1])
    const state = h.ledger.state
    const ckpt = await readCheckpoint(h.ledger.core, state, round)
    const file = decodeSafetensors(await readFile(path))
    assert.deepEqual(tensorsToWeights(state.manifest.model, file.tensors), ckpt.weights)
    assert.match(await readFile(path.replace(/\.safetensors$/, '.md'), 'utf8'), /CC-BY-4\.0/)
    await screenshot(page, 'ui-governance-done')
    assert.deepEqual(ui.errors, [], 'the page logged errors')
  })
})
