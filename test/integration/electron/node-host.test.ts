/**
 * The desktop app's node, without Electron: the real node loaded from the build in dist/ by the
 * node host, served by the utility-process service (node-service.ts) over a port pair, on a
 * loopback testnet. Main's side of the port is driven here as the supervisor would: contract calls,
 * the session's reports (battery, a hold, the swarm around sleep) and a clean stop. What the window
 * would show cannot run here (no Electron binary); test/e2e/electron-app.test.ts covers it where
 * the binary exists.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { NodeStatus, Settings } from '../../../core/api/contract.js'
import type { FromNode, ToNode } from '../../../electron/main/node-messages.js'
import { serveNode } from '../../../electron/main/node-service.js'
import { fakeChannel } from '../../support/fake-electron.js'
import { tempDir } from '../../support/data.js'
import { loopbackTestnet } from '../../support/swarm.js'
import { waitUntil } from '../../support/wait.js'

/** waitUntil for a condition that must ask the node (async). */
async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('Electron node service', () => {
  it('runs the node from dist/, answers the contract, applies the session and stops cleanly', async (t) => {
    const testnet = await loopbackTestnet(t)
    const home = await tempDir(t)
    const { port1: main, port2: node } = fakeChannel()
    const got: FromNode[] = []
    main.on('message', ({ data }: { data: FromNode }) => void got.push(data))
    let exitCode: number | null = null
    void serveNode({
      port: node,
      options: { appPath: process.cwd(), userData: home, bootstrap: testnet.bootstrap },
      exit: (code) => (exitCode = code),
    })
    await waitUntil(() => got.some((m) => m.type === 'ready'), 'the node to be ready', 60_000)
    let id = 0
    const call = async (method: string, params: object = {}) => {
      const mine = ++id
      main.postMessage({
        type: 'request',
        id: mine,
        payload: { id: mine, method, params },
      } satisfies ToNode)
      let reply: FromNode | undefined
      await waitUntil(
        () => (reply = got.find((m) => m.type === 'reply' && m.id === mine)) !== undefined,
        `the answer to ${method}`,
      )
      const outcome = (reply as Extract<FromNode, { type: 'reply' }>).outcome
      assert.ok(outcome.ok, `${method}: ${JSON.stringify(outcome)}`)
      return outcome.value
    }
    const status = (await call('node.status')) as NodeStatus
    assert.match(status.key, /^[0-9a-f]{64}$/)

    main.postMessage({ type: 'environment', env: { onBattery: true } } satisfies ToNode)
    await until(
      async () => ((await call('node.status')) as NodeStatus).reason === 'on battery power',
      'battery to reach the run policy',
    )
    main.postMessage({
      type: 'environment',
      env: { hold: 'the computer is going to sleep' },
    } satisfies ToNode)
    main.postMessage({ type: 'network', action: 'suspend' } satisfies ToNode)
    await until(async () => {
      const s = (await call('node.status')) as NodeStatus
      return s.activity === 'waiting' && s.reason === 'the computer is going to sleep'
    }, 'the sleep hold to reach the run policy')
    main.postMessage({
      type: 'environment',
      env: { hold: null, onBattery: false },
    } satisfies ToNode)
    main.postMessage({ type: 'network', action: 'resume' } satisfies ToNode)
    await until(
      async () => ((await call('node.status')) as NodeStatus).activity !== 'waiting',
      'the hold to be released',
    )

    const settings = (await call('settings.set', { startAtLogin: true })) as Settings
    assert.equal(settings.startAtLogin, true)
    await waitUntil(
      () =>
        got.some((m) => m.type === 'event' && (m.event as { event: string }).event === 'settings'),
      'the settings event main applies the login item from',
    )

    main.postMessage({ type: 'stop' } satisfies ToNode)
    await waitUntil(() => exitCode !== null, 'the node to stop', 30_000)
    assert.equal(exitCode, 0)
    assert.ok(got.some((m) => m.type === 'stopped'))
  })
})
