/**
 * The Electron main process's node host, without Electron: a fake shell (the part of Electron it
 * uses) and the real node loaded from the build in dist/, on a loopback testnet. What the window
 * would show cannot run here (no Electron binary); test/e2e/electron-app.test.ts covers it where
 * the binary exists.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ApiEvent, NodeStatus, Settings } from '../../../core/api/contract.js'
import { startNodeHost, type ShellLike } from '../../../electron/main/node-host.js'
import { defer, tempDir } from '../../support/data.js'
import { loopbackTestnet } from '../../support/swarm.js'
import { waitUntil } from '../../support/wait.js'

describe('Electron node host', () => {
  it('runs the node from dist/, serves the API, and applies idle, battery and login-item state', async (t) => {
    const testnet = await loopbackTestnet(t)
    const home = await tempDir(t)
    let onBattery = false
    let power: (() => void) | null = null
    const logins: boolean[] = []
    const shell: ShellLike = {
      appPath: process.cwd(),
      userData: home,
      bootstrap: testnet.bootstrap,
      systemIdleSeconds: () => 5,
      onBattery: () => onBattery,
      onPowerChange: (l) => (power = l),
      setOpenAtLogin: (open) => logins.push(open),
    }
    const events: ApiEvent[] = []
    const host = await startNodeHost(shell, (e) => events.push(e))
    defer(t, () => host.close())

    const status = (await host.handlers['node.status']!({})) as NodeStatus
    assert.match(status.key, /^[0-9a-f]{64}$/)
    assert.deepEqual(logins, [false], 'login item applied from the default setting')

    onBattery = true
    power!()
    const paused = (await host.handlers['node.status']!({})) as NodeStatus
    assert.equal(paused.activity, 'waiting')
    assert.match(paused.reason, /battery/)

    const settings = (await host.handlers['settings.set']!({ startAtLogin: true })) as Settings
    assert.equal(settings.startAtLogin, true)
    await waitUntil(() => logins.at(-1) === true, 'the login item to follow the setting')
    assert.ok(events.some((e) => e.event === 'settings'))
    await host.close()
  })
})
