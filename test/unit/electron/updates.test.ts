/**
 * The update policy with a fake electron-updater: checked in the background, nothing downloaded
 * or installed without the person's yes, installed only between rounds, errors never crash.
 * (The SHA-512 and code-signature checks are electron-updater's own, configured in the builder
 * config: verifyUpdateCodeSignature and publisherName; test/unit/electron/packaging.test.ts.)
 */
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { describe, it } from 'node:test'
import type { NodeStatus } from '../../../core/api/contract.js'
import {
  betweenRounds,
  UpdatePolicy,
  type UpdaterLike,
  type UpdateView,
} from '../../../electron/main/updates.js'
import { menuItem, type FakeTray } from '../../support/fake-electron.js'
import { startFakeDesktop } from '../../support/fake-desktop.js'
import { waitUntil } from '../../support/wait.js'

class FakeUpdater extends EventEmitter implements UpdaterLike {
  autoDownload = true
  autoInstallOnAppQuit = true
  allowDowngrade = true
  checks = 0
  downloads = 0
  installs = 0
  failCheck = false
  checkForUpdates(): Promise<unknown> {
    this.checks++
    return this.failCheck ? Promise.reject(new Error('offline')) : Promise.resolve(null)
  }
  downloadUpdate(): Promise<unknown> {
    this.downloads++
    return Promise.resolve([])
  }
  quitAndInstall(): void {
    this.installs++
  }
}

type Status = Pick<NodeStatus, 'activity' | 'progress'>
const progress = (phase: NonNullable<NodeStatus['progress']>['phase']): Status => ({
  activity: 'training',
  progress: {
    project: 'ab'.repeat(32),
    round: 3,
    phase,
    step: 1,
    steps: 10,
    etaSec: null,
    samplesPerSec: 1,
    loss: null,
  },
})

function policy(opts: { firstCheckMs?: number; everyMs?: number } = {}) {
  const updater = new FakeUpdater()
  const views: UpdateView[] = []
  const warnings: string[] = []
  const p = new UpdatePolicy({
    updater,
    onChange: (v) => views.push(v),
    warn: (l) => warnings.push(l),
    ...opts,
  })
  return { updater, views, warnings, p }
}

describe('update policy', () => {
  it("turns off electron-updater's automatic download, install on quit and downgrades", () => {
    const { updater } = policy()
    assert.equal(updater.autoDownload, false)
    assert.equal(updater.autoInstallOnAppQuit, false)
    assert.equal(updater.allowDowngrade, false)
  })

  it('checks in the background, first soon after start and then periodically; a failed check only warns', async (t) => {
    const { updater, warnings, p } = policy({ firstCheckMs: 10, everyMs: 30 })
    updater.failCheck = true
    p.start()
    t.after(() => p.stop())
    await waitUntil(() => updater.checks >= 3, 'three checks')
    assert.match(warnings[0]!, /update check failed: offline/)
  })

  it('offers a new version and downloads nothing until the person accepts', () => {
    const { updater, views, p } = policy()
    updater.emit('update-available', { version: '0.2.0' })
    assert.deepEqual(views, [{ version: '0.2.0', state: 'available' }])
    assert.equal(updater.downloads, 0)
    p.accept()
    assert.equal(updater.downloads, 1)
    p.accept()
    assert.equal(updater.downloads, 1, 'one download')
  })

  it('installs only after consent and only between rounds', () => {
    const { updater, p } = policy()
    updater.emit('update-available', { version: '0.2.0' })
    p.nodeStatus(progress('training'))
    p.accept()
    updater.emit('update-downloaded', { version: '0.2.0' })
    assert.equal(updater.installs, 0, 'not while this machine trains a round')
    p.nodeStatus(progress('uploading'))
    assert.equal(updater.installs, 0, 'not while it uploads its update')
    p.nodeStatus(progress('submitted'))
    assert.equal(updater.installs, 1, 'its part is done: install')
    p.nodeStatus(progress('closed'))
    assert.equal(updater.installs, 1, 'once')
  })

  it('never installs a downloaded update the person did not accept', () => {
    const { updater, p } = policy()
    updater.emit('update-downloaded', { version: '0.3.0' })
    p.nodeStatus({ activity: 'idle', progress: null })
    assert.equal(updater.installs, 0)
  })

  it("between rounds: not training, no round, or this machine's part submitted", () => {
    assert.equal(betweenRounds(null), true)
    assert.equal(
      betweenRounds({ activity: 'paused', progress: progress('training').progress }),
      true,
    )
    assert.equal(betweenRounds({ activity: 'training', progress: null }), true)
    assert.equal(betweenRounds(progress('downloading')), false)
    assert.equal(betweenRounds(progress('training')), false)
    assert.equal(betweenRounds(progress('closed')), true)
  })

  it('in the app: offered in the tray, accepted there, installed when the node is between rounds', async (t) => {
    const updater = new FakeUpdater()
    const d = await startFakeDesktop(t, { updater })
    assert.equal(updater.autoDownload, false, 'the packaged app uses the policy')
    updater.emit('update-available', { version: '9.9.9' })
    const tray = (d.electron.Tray as typeof FakeTray).all[0]!
    menuItem(tray.menu!.template, 'Update to version 9.9.9 (installs between rounds)').click!()
    assert.equal(updater.downloads, 1)
    d.node().push({ event: 'status', data: { ...d.node().status(), ...progress('training') } })
    const phase = () => (d.desktop.trayView()?.status as Status | null)?.progress?.phase
    await waitUntil(() => phase() === 'training', 'the training status to reach main')
    updater.emit('update-downloaded', { version: '9.9.9' })
    assert.equal(updater.installs, 0)
    d.node().push({ event: 'status', data: { ...d.node().status(), ...progress('closed') } })
    await waitUntil(() => updater.installs === 1, 'the install between rounds')
  })

  it('a development run checks for no updates', async (t) => {
    const updater = new FakeUpdater()
    const d = await startFakeDesktop(t, { updater, packaged: false })
    assert.equal(d.desktop.updates(), null)
    assert.equal(updater.autoDownload, true, 'untouched')
  })
})
