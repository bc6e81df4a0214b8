import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { TandemError } from '../../../core/api/errors.js'
import { BanList } from '../../../core/net/ban-list.js'
import { IDENTITY_FILE, loadOrCreateIdentity } from '../../../core/net/identity.js'
import { MessageRateBucket } from '../../../core/net/limits.js'
import { discoveryTopic, projectTopic } from '../../../core/net/topics.js'

describe('identity', () => {
  it('is created once with mode 0600 and loaded unchanged after', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-id-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    const first = await loadOrCreateIdentity(join(dir, 'data'))
    const again = await loadOrCreateIdentity(join(dir, 'data'))
    assert.deepEqual(again.publicKey, first.publicKey)
    assert.deepEqual(again.secretKey, first.secretKey)
    assert.match(first.displayId, /^[ybndrfg8ejkmcpqxot1uwisza345h769]{8}$/)
    assert.equal((await stat(join(dir, 'data', IDENTITY_FILE))).mode & 0o777, 0o600)
  })

  it('refuses a damaged file with IDENTITY_CORRUPT instead of replacing it', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-id-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    const file = join(dir, IDENTITY_FILE)
    for (const text of [
      '{',
      '{"version":1}',
      JSON.stringify({ version: 1, publicKey: 'aa'.repeat(32), secretKey: 'bb'.repeat(64) }),
    ]) {
      await writeFile(file, text)
      await assert.rejects(
        loadOrCreateIdentity(dir),
        (err) => err instanceof TandemError && err.code === 'IDENTITY_CORRUPT',
      )
      assert.equal(await readFile(file, 'utf8'), text)
    }
  })
})

describe('identity file races and failures', () => {
  it('processes creating it at once all end up with the one key on disk', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-id-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    // Concurrent calls interleave at every await, as two processes would.
    const ids = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateIdentity(dir)))
    const onDisk = await loadOrCreateIdentity(dir)
    for (const id of ids) assert.deepEqual(id.publicKey, onDisk.publicKey)
    assert.deepEqual(await readdir(dir), [IDENTITY_FILE], 'no temp files left behind')
  })

  it('a file that cannot be read is a coded IDENTITY_IO, not a native error', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-id-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    // A directory in its place reads as EISDIR (EACCES is not testable as root).
    await mkdir(join(dir, IDENTITY_FILE))
    await assert.rejects(
      loadOrCreateIdentity(dir),
      (err) => err instanceof TandemError && err.code === 'IDENTITY_IO',
    )
  })
})

describe('limits and bans', () => {
  it('the token bucket allows the burst, then the rate', () => {
    let now = 0
    const bucket = new MessageRateBucket(10, 5, () => now)
    assert.equal([...Array(6)].filter(() => bucket.take()).length, 5)
    now += 100 // one token at 10/s
    assert.equal(bucket.take(), true)
    assert.equal(bucket.take(), false)
  })

  it('bans expire', () => {
    let now = 0
    const bans = new BanList({ now: () => now })
    const key = Buffer.alloc(32, 1)
    bans.add(key, 1000, 'WIRE_MALFORMED')
    assert.equal(bans.has(key), true)
    assert.equal(bans.active().length, 1)
    now = 1000
    assert.equal(bans.has(key), false)
    assert.equal(bans.active().length, 0)
  })

  it('topics are distinct per project and from discovery', () => {
    const a = projectTopic(Buffer.alloc(32, 1))
    assert.equal(a.length, 32)
    assert.notDeepEqual(a, projectTopic(Buffer.alloc(32, 2)))
    assert.notDeepEqual(a, discoveryTopic())
  })
})
