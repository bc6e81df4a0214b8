/**
 * Power and comfort signals → the node's run policy: what the OS reports (sleep, lock screen,
 * battery, heat, CPU speed limit, idle time) and the programs the person listed become
 * environment reports and holds; through the fake desktop they reach the node's process within
 * 2 s, and the swarm is suspended around sleep. The run policy's answer to each report is tested
 * with the policy (test/unit/node/policy.test.ts) and on a real training node
 * (test/integration/node/preferences.test.ts: a hold pauses the engine within 1 s).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ShellEnvironment } from '../../../core/api/shell.js'
import { runDecision } from '../../../core/node/policy.js'
import { defaultSettings } from '../../../core/node/settings.js'
import {
  offeredPrograms,
  programHold,
  programName,
  runningChosen,
} from '../../../electron/main/exclusive-apps.js'
import { Holds } from '../../../electron/main/holds.js'
import {
  PowerWatcher,
  SLEEP_HOLD,
  speedLimitHold,
  thermalHold,
} from '../../../electron/main/power.js'
import { FakePowerMonitor, menuItem, type FakeTray } from '../../support/fake-electron.js'
import { startFakeDesktop, type ScriptedNode } from '../../support/fake-desktop.js'
import { waitUntil } from '../../support/wait.js'

function watcher() {
  const power = new FakePowerMonitor()
  const envs: ShellEnvironment[] = []
  const network: string[] = []
  const holds = new Holds((hold) => envs.push({ hold }))
  const w = new PowerWatcher(power, holds, {
    environment: (e) => envs.push(e),
    network: (a) => network.push(a),
  })
  return { power, envs, network, holds, w }
}

/** The policy's answer after folding the reports, as the node would. */
function decide(envs: ShellEnvironment[], patch = {}) {
  const env: { idleSec?: number; onBattery?: boolean; hold?: string; screenLocked?: boolean } = {}
  for (const e of envs) {
    if (e.idleSec !== undefined) env.idleSec = e.idleSec
    if (e.onBattery !== undefined) env.onBattery = e.onBattery
    if (e.screenLocked !== undefined) env.screenLocked = e.screenLocked
    if (e.hold === null) delete env.hold
    else if (e.hold !== undefined) env.hold = e.hold
  }
  return runDecision({
    settings: { ...defaultSettings(4), ...patch },
    now: new Date(2026, 10, 23, 12),
    env: { headless: false, ...env },
    userPaused: false,
  })
}

describe('power signals', () => {
  it('reports battery, thermal state and idle time at start', (t) => {
    const { power, envs, w } = watcher()
    power.onBattery = true
    power.thermal = 'critical'
    power.idleSec = 42
    w.start()
    t.after(() => w.stop())
    assert.deepEqual(envs, [
      { onBattery: true },
      { hold: 'the computer is running hot (thermal state critical)' },
      { idleSec: 42 },
    ])
    assert.equal(decide(envs).activity, 'waiting')
  })

  it('sleep holds training and suspends the swarm; wake-up releases both', (t) => {
    const { power, envs, network, w } = watcher()
    w.start()
    t.after(() => w.stop())
    envs.length = 0
    power.emit('suspend')
    assert.deepEqual(envs, [{ hold: SLEEP_HOLD }])
    assert.deepEqual(network, ['suspend'])
    assert.deepEqual(decide(envs), { run: false, activity: 'waiting', reason: SLEEP_HOLD })
    power.emit('resume')
    assert.deepEqual(network, ['suspend', 'resume'])
    assert.equal(decide(envs).run, true)
  })

  it('battery, lock screen, heat and CPU speed limits reach the policy', (t) => {
    const { power, envs, w } = watcher()
    w.start()
    t.after(() => w.stop())
    power.emit('on-battery')
    assert.equal(decide(envs).reason, 'on battery power')
    power.emit('on-ac')
    assert.equal(decide(envs).run, true)
    // Idle-only, person active: waits; the screen locks: the person is away, training may run.
    const idleOnly = { runWhenIdleOnly: true, idleMinutes: 5 }
    assert.equal(decide(envs, idleOnly).run, false)
    power.emit('lock-screen')
    assert.equal(decide(envs, idleOnly).run, true)
    power.emit('unlock-screen')
    assert.equal(decide(envs, idleOnly).run, false)
    power.emit('thermal-state-change', { state: 'serious' })
    assert.match(decide(envs).reason, /running hot/)
    power.emit('thermal-state-change', { state: 'fair' })
    assert.equal(decide(envs).run, true)
    power.emit('speed-limit-change', { limit: 50 })
    assert.match(decide(envs).reason, /limits the CPU to 50 %/)
    power.emit('speed-limit-change', { limit: 100 })
    assert.equal(decide(envs).run, true)
    assert.equal(thermalHold('nominal'), null)
    assert.equal(speedLimitHold(80), null)
  })

  it('one reason wins when several hold: sleep, heat, speed limit, then programs', () => {
    const reported: Array<string | null> = []
    const holds = new Holds((h) => reported.push(h))
    holds.set('program', 'steam is running (you asked to pause while it runs)')
    holds.set('thermal', 'hot')
    holds.set('sleep', SLEEP_HOLD)
    holds.set('sleep', null)
    holds.set('thermal', null)
    holds.set('program', null)
    assert.deepEqual(reported, [
      'steam is running (you asked to pause while it runs)',
      'hot',
      SLEEP_HOLD,
      'hot',
      'steam is running (you asked to pause while it runs)',
      null,
    ])
  })

  it('idle time is reported at once when the person comes back', async (t) => {
    const { power, envs, w } = watcher()
    power.idleSec = 600
    w.start()
    t.after(() => w.stop())
    envs.length = 0
    power.idleSec = 601
    await new Promise((r) => setTimeout(r, 1100))
    assert.deepEqual(envs, [], 'no report for one more idle second')
    power.idleSec = 0
    const t0 = Date.now()
    await waitUntil(() => envs.length > 0, 'the return to be reported', 2000)
    assert.ok(Date.now() - t0 < 2000)
    assert.deepEqual(envs, [{ idleSec: 0 }])
  })
})

describe('pause while these programs run', () => {
  const processes = [
    { name: 'Blender.exe', cpu: 80 },
    { name: 'steam', cpu: 5, uid: 1000 },
    { name: 'systemd', cpu: 1, uid: 0 },
    { name: 'kworker/0:1', cpu: 0, uid: 1000 },
    { name: 'code', cpu: 9, uid: 1000 },
    { name: 'code', cpu: 2, uid: 1000 },
    { name: 'postgres', cpu: 20, uid: 999 },
  ]

  it("offers this user's programs, busiest first, without system processes or duplicates", () => {
    assert.deepEqual(offeredPrograms(processes, { uid: 1000 }), ['blender', 'code', 'steam'])
    assert.equal(programName(' Game.EXE '), 'game')
  })

  it('holds while a chosen program runs, and says which', () => {
    assert.deepEqual(runningChosen(processes, ['steam', 'obs', 'blender']), ['steam', 'blender'])
    assert.equal(
      programHold(['steam', 'blender']),
      'steam, blender are running (you asked to pause while they run)',
    )
    assert.equal(programHold([]), null)
  })

  it('in the app: picked in the tray, holds the node while it runs, released when it ends', async (t) => {
    const d = await startFakeDesktop(t, { processes: [{ name: 'steam', uid: 1000, cpu: 3 }] })
    const node = d.node()
    await d.desktop.exclusive()!.check()
    // The tray offers what runs (refreshed with each check).
    const tray = (d.electron.Tray as typeof FakeTray).all[0]!
    await waitUntil(
      () => JSON.stringify(tray.menu?.template).includes('"label":"steam"'),
      'steam to be offered',
      7000,
    )
    menuItem(tray.menu!.template, 'steam').click!()
    const held = (n: ScriptedNode) => n.envs.some((e) => e.hold?.startsWith('steam is running'))
    await waitUntil(() => held(node), 'the hold to reach the node', 2000)
    d.processes.length = 0
    await d.desktop.exclusive()!.check()
    await waitUntil(() => node.envs.at(-1)?.hold === null, 'the hold to be released', 2000)
    assert.deepEqual(d.desktop.prefs()!.get().exclusivePrograms, ['steam'])
  })
})

describe('power signals in the app', () => {
  it('sleep reaches the node within 2 s (a hold and the swarm suspended); wake-up undoes both', async (t) => {
    const d = await startFakeDesktop(t)
    const node = d.node()
    const t0 = Date.now()
    d.electron.powerMonitor.emit('suspend')
    await waitUntil(
      () => node.envs.some((e) => e.hold === SLEEP_HOLD) && node.network.includes('suspend'),
      'the node to hear about sleep',
      2000,
    )
    assert.ok(Date.now() - t0 < 2000)
    d.electron.powerMonitor.emit('resume')
    await waitUntil(() => node.envs.some((e) => e.hold === null), 'the hold to be released', 2000)
    await waitUntil(() => node.network.at(-1) === 'resume', 'the swarm to resume', 2000)
    d.electron.powerMonitor.emit('on-battery')
    await waitUntil(() => node.envs.some((e) => e.onBattery === true), 'battery', 2000)
  })
})
