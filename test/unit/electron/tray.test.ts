/**
 * The tray's menu, item by item, from what main knows: the node's status and why, the node
 * process's state, the programs that hold training, the notification kinds, an offered update;
 * and what each item does (through the fake desktop: the click reaches the node).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { NodeState } from '../../../electron/main/node-supervisor.js'
import {
  trayMenu,
  trayStatusLine,
  type TrayActions,
  type TrayView,
} from '../../../electron/main/tray.js'
import { defaultPrefs } from '../../../electron/main/desktop-prefs.js'
import { menuItem, menuLabels, type FakeTray } from '../../support/fake-electron.js'
import { startFakeDesktop } from '../../support/fake-desktop.js'
import { waitUntil } from '../../support/wait.js'

const running: NodeState = { state: 'running', restarts: 0 }
const training = {
  activity: 'training' as const,
  reason: 'no limits apply',
  userPaused: false,
  pauseAfterRound: false,
}

function view(patch: Partial<TrayView> = {}): TrayView {
  return {
    status: training,
    node: running,
    prefs: defaultPrefs(),
    offered: [],
    update: null,
    ...patch,
  }
}

function recorder() {
  const done: string[] = []
  const actions: TrayActions = {
    pause: (mode) => done.push(`pause:${mode}`),
    resume: () => done.push('resume'),
    open: () => done.push('open'),
    quit: () => done.push('quit'),
    toggleProgram: (n) => done.push(`program:${n}`),
    toggleNotification: (k) => done.push(`notify:${k}`),
    acceptUpdate: () => done.push('update'),
  }
  return { done, actions }
}

describe('tray menu', () => {
  it('shows the status and why, the controls, the pickers, open and quit', () => {
    const { actions } = recorder()
    assert.deepEqual(menuLabels(trayMenu(view(), actions)), [
      'Training — no limits apply',
      '—',
      'Pause now',
      'Pause after this round',
      'Resume',
      '—',
      ['Pause while these programs run', ['No programs found']],
      [
        'Notify me',
        [
          'When the node stops working',
          'When a contribution is rejected',
          'When an update is ready',
        ],
      ],
      '—',
      'Open Tandem',
      'Quit Tandem',
    ])
  })

  it('enables pause now / after round / resume by state', () => {
    const { actions } = recorder()
    const enabled = (v: TrayView) =>
      ['Pause now', 'Pause after this round', 'Resume'].map(
        (l) => menuItem(trayMenu(v, actions), l).enabled,
      )
    assert.deepEqual(enabled(view()), [true, true, false], 'training')
    assert.deepEqual(
      enabled(
        view({
          status: { ...training, activity: 'paused', reason: 'paused by you', userPaused: true },
        }),
      ),
      [false, false, true],
      'paused by the user',
    )
    assert.deepEqual(
      enabled(view({ status: { ...training, pauseAfterRound: true } })),
      [true, false, true],
      'pausing after this round',
    )
    assert.deepEqual(
      enabled(view({ status: { ...training, activity: 'waiting', reason: 'on battery power' } })),
      [true, false, false],
      'waiting: nothing to pause after',
    )
    assert.deepEqual(enabled(view({ node: { state: 'starting', restarts: 1 } })), [
      false,
      false,
      false,
    ])
  })

  it('says why it waits, and what the node process is doing when it is not running', () => {
    assert.equal(
      trayStatusLine(
        view({ status: { ...training, activity: 'waiting', reason: 'the screen is locked' } }),
      ),
      'Waiting — the screen is locked',
    )
    assert.equal(
      trayStatusLine(
        view({
          node: {
            state: 'restarting',
            restarts: 2,
            reason: 'it exited unexpectedly (code 1)',
            retryInMs: 4000,
          },
        }),
      ),
      'The node stopped: it exited unexpectedly (code 1); restarting in 4 s',
    )
    assert.equal(trayStatusLine(view({ status: null })), 'Starting…')
  })

  it('lists chosen and running programs as checkboxes, and notification kinds off by default', () => {
    const { actions, done } = recorder()
    const prefs = { ...defaultPrefs(), exclusivePrograms: ['blender'] }
    const items = trayMenu(view({ prefs, offered: ['steam', 'blender', 'code'] }), actions)
    const programs = menuItem(items, 'Pause while these programs run').submenu!
    assert.deepEqual(
      programs.map((p) => [p.label, p.checked]),
      [
        ['blender', true],
        ['code', false],
        ['steam', false],
      ],
    )
    programs[2]!.click!()
    const notify = menuItem(items, 'Notify me').submenu!
    assert.deepEqual(
      notify.map((n) => n.checked),
      [false, false, false],
    )
    notify[1]!.click!()
    menuItem(items, 'Pause after this round').click!()
    menuItem(items, 'Open Tandem').click!()
    menuItem(items, 'Quit Tandem').click!()
    assert.deepEqual(done, [
      'program:steam',
      'notify:rejected',
      'pause:after-round',
      'open',
      'quit',
    ])
  })

  it('offers a new version, and says when an accepted one will install', () => {
    const { actions, done } = recorder()
    const offered = trayMenu(view({ update: { version: '0.2.0', state: 'available' } }), actions)
    menuItem(offered, 'Update to version 0.2.0 (installs between rounds)').click!()
    assert.deepEqual(done, ['update'])
    const waiting = trayMenu(view({ update: { version: '0.2.0', state: 'downloaded' } }), actions)
    assert.equal(menuItem(waiting, 'Version 0.2.0 installs between rounds').enabled, false)
  })

  it('in the app: the icon follows the node, and its items reach the node', async (t) => {
    const d = await startFakeDesktop(t)
    const tray = (d.electron.Tray as typeof FakeTray).all[0]!
    await waitUntil(
      () => tray.toolTip === 'Tandem — Training — no limits apply',
      'the status in the tooltip',
    )
    menuItem(tray.menu!.template, 'Pause now').click!()
    await waitUntil(() => tray.toolTip === 'Tandem — Paused — paused by you', 'the pause to show')
    assert.deepEqual(d.node().calls, ['pause:now'])
    assert.equal(menuItem(tray.menu!.template, 'Resume').enabled, true)
    menuItem(tray.menu!.template, 'Resume').click!()
    await waitUntil(() => d.node().calls.includes('resume'), 'resume to reach the node')
  })
})
