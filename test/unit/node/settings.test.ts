/** Settings: defaults, validated live updates, persistence, migration from v0, corrupt files. */
import assert from 'node:assert/strict'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { Settings, SETTINGS_VERSION } from '../../../core/api/contract.js'
import { isTandemError } from '../../../core/api/errors.js'
import {
  SettingsStore,
  defaultSettings,
  migrateSettings,
  type SettingKey,
} from '../../../core/node/settings.js'
import { tempDir } from '../../support/data.js'

async function settingsError(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    assert.ok(isTandemError(err), String(err))
    assert.equal(err.code, 'SETTINGS_INVALID', err.message)
    return err.message
  }
  assert.fail('expected SETTINGS_INVALID')
}

describe('settings defaults', () => {
  it('are valid and leave half the cores to the user', () => {
    for (const cores of [1, 2, 3, 16, 1024]) Settings.parse(defaultSettings(cores))
    assert.equal(defaultSettings(1).maxThreads, 1)
    assert.equal(defaultSettings(2).maxThreads, 1)
    assert.equal(defaultSettings(16).maxThreads, 8)
    assert.equal(defaultSettings(1024).maxThreads, 256)
    const d = defaultSettings(4)
    assert.equal(d.dutyCycle, 0.8)
    assert.equal(d.pauseOnBattery, true)
    assert.equal(d.schedule.enabled, false)
    assert.equal(d.uploadKiBps, 0)
  })
})

describe('SettingsStore', () => {
  it('starts from defaults and writes them', async (t) => {
    const dir = await tempDir(t)
    const store = await SettingsStore.open({ dir, cores: 4 })
    assert.deepEqual(store.get(), defaultSettings(4))
    assert.equal(store.recovered, null)
    assert.equal(store.migratedFrom, null)
    const onDisk = JSON.parse(await readFile(join(dir, 'settings.json'), 'utf8')) as unknown
    assert.deepEqual(onDisk, defaultSettings(4))
  })

  it('applies a patch, emits the changed keys, and persists across reopen', async (t) => {
    const dir = await tempDir(t)
    const store = await SettingsStore.open({ dir, cores: 4 })
    const seen: Array<[Settings, SettingKey[]]> = []
    store.on('change', (s, keys) => seen.push([s, keys]))
    const windows = [{ day: 1, start: '09:00', end: '17:00' }]
    const next = await store.update({
      maxThreads: 3,
      uploadKiBps: 256,
      schedule: { enabled: true, windows },
      useGpu: true, // unchanged: not reported
    })
    assert.equal(next.maxThreads, 3)
    assert.equal(seen.length, 1)
    assert.deepEqual(seen[0]![1].sort(), ['maxThreads', 'schedule', 'uploadKiBps'])
    assert.ok(Object.isFrozen(store.get()) && Object.isFrozen(store.get().schedule.windows))
    // A no-op patch writes and emits nothing.
    await store.update({ maxThreads: 3 })
    assert.equal(seen.length, 1)
    const again = await SettingsStore.open({ dir, cores: 4 })
    assert.deepEqual(again.get(), next)
  })

  it('refuses bad patches with SETTINGS_INVALID naming the field, changing nothing', async (t) => {
    const dir = await tempDir(t)
    const store = await SettingsStore.open({ dir, cores: 4 })
    let changes = 0
    store.on('change', () => changes++)
    assert.match(await settingsError(store.update({ maxThreads: 0 })), /^maxThreads:/)
    assert.match(await settingsError(store.update({ dutyCycle: 0.01 })), /^dutyCycle:/)
    assert.match(await settingsError(store.update({ backend: 'cuda' })), /^backend:/)
    assert.match(
      await settingsError(
        store.update({ schedule: { enabled: true, windows: [{ day: 7, start: '9', end: 'x' }] } }),
      ),
      /^schedule\.windows\.0\./,
    )
    assert.match(await settingsError(store.update({ turbo: true })), /unknown setting "turbo"/)
    assert.match(await settingsError(store.update({ version: 2 })), /^version: not settable/)
    assert.match(await settingsError(store.update(null)), /must be an object/)
    assert.match(await settingsError(store.update([])), /must be an object/)
    assert.equal(changes, 0)
    assert.deepEqual(store.get(), defaultSettings(4))
  })

  it('serialises concurrent updates: the file ends with the last one', async (t) => {
    const dir = await tempDir(t)
    const store = await SettingsStore.open({ dir, cores: 4 })
    await Promise.all([1, 2, 3, 4, 5].map((n) => store.update({ maxThreads: n })))
    await store.flushed()
    const onDisk = JSON.parse(await readFile(join(dir, 'settings.json'), 'utf8')) as Settings
    assert.equal(onDisk.maxThreads, store.get().maxThreads)
    assert.equal(store.get().maxThreads, 5)
    // Different keys at once: neither is lost.
    await Promise.all([store.update({ dutyCycle: 1 }), store.update({ useGpu: false })])
    assert.equal(store.get().dutyCycle, 1)
    assert.equal(store.get().useGpu, false)
  })

  it('reset returns to the defaults as one change', async (t) => {
    const dir = await tempDir(t)
    const store = await SettingsStore.open({ dir, cores: 4 })
    await store.update({ maxThreads: 4, dutyCycle: 1 })
    const keys: SettingKey[][] = []
    store.on('change', (_, k) => keys.push(k))
    assert.deepEqual(await store.reset(4), defaultSettings(4))
    assert.deepEqual(
      keys.map((k) => k.sort()),
      [['dutyCycle', 'maxThreads']],
    )
  })

  it('a corrupt file is moved aside and the node starts from defaults, saying so', async (t) => {
    const dir = await tempDir(t)
    await writeFile(join(dir, 'settings.json'), '{"version": 1, "maxThreads": -4}')
    const store = await SettingsStore.open({ dir, cores: 4 })
    assert.equal(store.recovered?.code, 'STATE_CORRUPT')
    assert.deepEqual(store.get(), defaultSettings(4))
    const files = (await readdir(dir)).sort()
    assert.equal(files.length, 2)
    assert.equal(files[0], 'settings.json')
    assert.match(files[1]!, /^settings\.json\.corrupt-\d+$/)
  })

  it('a file from a newer Tandem is kept aside, never overwritten in place', async (t) => {
    const dir = await tempDir(t)
    const newer = JSON.stringify({ ...defaultSettings(4), version: SETTINGS_VERSION + 1 })
    await writeFile(join(dir, 'settings.json'), newer)
    const store = await SettingsStore.open({ dir, cores: 4 })
    assert.match(store.recovered?.message ?? '', /newer Tandem/)
    const aside = (await readdir(dir)).find((f) => f.includes('.corrupt-'))!
    assert.equal(await readFile(join(dir, aside), 'utf8'), newer)
  })
})

describe('settings migration', () => {
  const v0 = {
    threads: 6,
    throttle: 50,
    idleOnly: true,
    idleMinutes: 10,
    battery: true,
    gpu: false,
    upload: 128,
    download: 0,
    diskMB: 2048,
    theme: 'dark',
  }

  it('maps every pre-release (v0) key and drops unknown ones with a note', () => {
    const { settings, from, notes } = migrateSettings(v0, defaultSettings(4))
    assert.equal(from, 0)
    assert.deepEqual(settings, {
      ...defaultSettings(4),
      maxThreads: 6,
      dutyCycle: 0.5,
      runWhenIdleOnly: true,
      idleMinutes: 10,
      pauseOnBattery: false, // v0 `battery: true` meant "keep running on battery"
      useGpu: false,
      uploadKiBps: 128,
      downloadKiBps: 0,
      diskCapMiB: 2048,
    })
    assert.deepEqual(notes, ['dropped unknown v0 keys: theme'])
  })

  it('never rejects a v0 file: bad values fall back to defaults, and tiny throttles clamp', () => {
    const { settings, notes } = migrateSettings(
      { threads: 'lots', throttle: 2, diskMB: 1 },
      defaultSettings(4),
    )
    assert.equal(settings.maxThreads, defaultSettings(4).maxThreads)
    assert.equal(settings.dutyCycle, 0.05)
    assert.equal(settings.diskCapMiB, 4096)
    assert.equal(notes.length, 2)
    assert.deepEqual(migrateSettings({}, defaultSettings(4)).settings, defaultSettings(4))
  })

  it('leaves a current file as it is and rejects non-objects and bad versions', () => {
    const current = { ...defaultSettings(2), maxThreads: 2 }
    assert.deepEqual(migrateSettings(current, defaultSettings(4)), {
      settings: current,
      from: 1,
      notes: [],
    })
    for (const bad of [null, [], 'x', { version: -1 }, { version: 1.5 }, { version: 99 }]) {
      assert.throws(
        () => migrateSettings(bad, defaultSettings(4)),
        (err: unknown) => isTandemError(err) && err.code === 'STATE_CORRUPT',
      )
    }
  })

  it('the store migrates a v0 file on open, keeping the original beside it', async (t) => {
    const dir = await tempDir(t)
    await writeFile(join(dir, 'settings.json'), JSON.stringify(v0))
    const store = await SettingsStore.open({ dir, cores: 4 })
    assert.equal(store.migratedFrom, 0)
    assert.equal(store.get().maxThreads, 6)
    assert.deepEqual(store.migrationNotes, ['dropped unknown v0 keys: theme'])
    const onDisk = JSON.parse(await readFile(join(dir, 'settings.json'), 'utf8')) as Settings
    assert.equal(onDisk.version, SETTINGS_VERSION)
    const kept = JSON.parse(await readFile(join(dir, 'settings.json.v0'), 'utf8')) as unknown
    assert.deepEqual(kept, v0)
    // Opening again finds a current file: no second migration.
    assert.equal((await SettingsStore.open({ dir, cores: 4 })).migratedFrom, null)
  })
})
