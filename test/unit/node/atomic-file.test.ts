/** Atomic state files: replace-or-keep writes, and corrupt files kept aside with a coded error. */
import assert from 'node:assert/strict'
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { z } from 'zod'
import { isTandemError } from '../../../core/api/errors.js'
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from '../../../core/node/atomic-file.js'
import { tempDir } from '../../support/data.js'

const Shape = z.object({ n: z.number().int() }).strict()

async function rejectsWith(p: Promise<unknown>, code: string): Promise<Error> {
  try {
    await p
  } catch (err) {
    assert.ok(isTandemError(err), `not a TandemError: ${String(err)}`)
    assert.equal(err.code, code, err.message)
    return err
  }
  assert.fail(`expected ${code}`)
}

describe('atomic files', () => {
  it('writes, replaces and reads back, leaving no temp files', async (t) => {
    const dir = await tempDir(t)
    const path = join(dir, 'nested', 'state.json')
    await writeJsonAtomic(path, { n: 1 })
    await writeJsonAtomic(path, { n: 2 })
    assert.deepEqual(await readJsonFile(path, Shape), { n: 2 })
    assert.deepEqual(await readdir(join(dir, 'nested')), ['state.json'])
  })

  it('writes bytes and honours the mode', async (t) => {
    const dir = await tempDir(t)
    const path = join(dir, 'secret.bin')
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]), { mode: 0o600 })
    assert.deepEqual([...(await readFile(path))], [1, 2, 3])
    if (process.platform !== 'win32') assert.equal((await stat(path)).mode & 0o777, 0o600)
  })

  it('returns null for a missing file', async (t) => {
    const dir = await tempDir(t)
    assert.equal(await readJsonFile(join(dir, 'absent.json'), Shape), null)
  })

  it('a file that is not JSON is STATE_CORRUPT and is moved aside, not deleted', async (t) => {
    const dir = await tempDir(t)
    const path = join(dir, 'state.json')
    await writeFile(path, '{"n": 1') // torn by something that did not write atomically
    const err = await rejectsWith(readJsonFile(path, Shape, { now: () => 1234 }), 'STATE_CORRUPT')
    assert.match(err.message, /not JSON/)
    assert.deepEqual(await readdir(dir), ['state.json.corrupt-1234'])
    assert.equal(await readFile(join(dir, 'state.json.corrupt-1234'), 'utf8'), '{"n": 1')
  })

  it('a schema mismatch names the field, and a second corrupt copy never replaces the first', async (t) => {
    const dir = await tempDir(t)
    const path = join(dir, 'state.json')
    await writeFile(path, '{"n": "one"}')
    const err = await rejectsWith(readJsonFile(path, Shape, { now: () => 7 }), 'STATE_CORRUPT')
    assert.match(err.message, /at n/)
    await writeFile(path, '[]')
    await rejectsWith(readJsonFile(path, Shape, { now: () => 7 }), 'STATE_CORRUPT')
    assert.deepEqual((await readdir(dir)).sort(), [
      'state.json.corrupt-7',
      'state.json.corrupt-7-1',
    ])
    assert.equal(await readFile(join(dir, 'state.json.corrupt-7'), 'utf8'), '{"n": "one"}')
  })

  it('a parse function works like a schema, and quarantine can be turned off', async (t) => {
    const dir = await tempDir(t)
    const path = join(dir, 'state.json')
    await writeFile(path, '{"n": 5}')
    const parse = (raw: unknown) => {
      if ((raw as { n: number }).n > 3) throw new Error('n too big')
      return raw
    }
    const err = await rejectsWith(readJsonFile(path, parse, { quarantine: false }), 'STATE_CORRUPT')
    assert.match(err.message, /n too big/)
    assert.deepEqual(await readdir(dir), ['state.json'])
  })

  it('a failed write leaves the old file and no temp file', async (t) => {
    const dir = await tempDir(t)
    const path = join(dir, 'state.json')
    await writeJsonAtomic(path, { n: 1 })
    // A non-empty directory where the file should be makes the rename fail.
    await mkdir(join(dir, 'taken', 'inside'), { recursive: true })
    await rejectsWith(writeJsonAtomic(join(dir, 'taken'), { n: 2 }), 'STATE_IO')
    assert.deepEqual((await readdir(dir)).sort(), ['state.json', 'taken'])
    assert.deepEqual(await readJsonFile(path, Shape), { n: 1 })
  })
})
