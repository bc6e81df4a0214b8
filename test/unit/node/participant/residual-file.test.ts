/** The error-feedback residual file: exact round trip, and every kind of damage is STATE_CORRUPT. */
import assert from 'node:assert/strict'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { isTandemError } from '../../../../core/api/errors.js'
import {
  decodeResidual,
  encodeResidual,
  readResidual,
  saveResidual,
} from '../../../../core/node/participant/residual-file.js'
import { tempDir } from '../../../support/data.js'

const HASH = 'ab'.repeat(32)

describe('residual file', () => {
  it('round-trips any float32 values bit for bit', () => {
    fc.assert(
      fc.property(
        fc.float32Array({ maxLength: 300, noNaN: true }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (values, hash) => {
          const updateHash = Buffer.from(hash).toString('hex')
          const back = decodeResidual(encodeResidual({ updateHash, residual: values }))
          assert.equal(back.updateHash, updateHash)
          assert.deepEqual(
            Buffer.from(back.residual.buffer, back.residual.byteOffset, back.residual.byteLength),
            Buffer.from(values.buffer, values.byteOffset, values.byteLength),
          )
        },
      ),
    )
  })

  it('saves atomically and reads back; a missing file is null', async (t) => {
    const dir = await tempDir(t)
    const path = join(dir, 'projects', 'residual-x.bin')
    assert.equal(await readResidual(path), null)
    await saveResidual(path, { updateHash: HASH, residual: Float32Array.of(0.5, -1e-7, 3) })
    await saveResidual(path, { updateHash: HASH, residual: Float32Array.of(1, 2) })
    const back = await readResidual(path)
    assert.deepEqual([...back!.residual], [1, 2])
    assert.deepEqual(await readdir(join(dir, 'projects')), ['residual-x.bin'])
  })

  it('a flipped bit, a truncation or another file is STATE_CORRUPT, and the file is set aside', async (t) => {
    const good = encodeResidual({ updateHash: HASH, residual: Float32Array.of(1, 2, 3) })
    const flipped = Buffer.from(good)
    flipped[50]! ^= 0x10
    const cases: Array<[string, Buffer, RegExp]> = [
      ['flipped', flipped, /checksum mismatch/],
      ['truncated', good.subarray(0, good.byteLength - 3), /bytes for 3 values/],
      ['foreign', Buffer.from('{"not":"a residual"}'.padEnd(80)), /not a residual file/],
      ['empty', Buffer.alloc(0), /not a residual file/],
    ]
    for (const [name, bytes, why] of cases) {
      const dir = await tempDir(t)
      const path = join(dir, 'residual.bin')
      await writeFile(path, bytes)
      await assert.rejects(readResidual(path), (err) => {
        assert.ok(isTandemError(err) && err.code === 'STATE_CORRUPT', `${name}: ${String(err)}`)
        assert.match(err.message, why, name)
        return true
      })
      const left = await readdir(dir)
      assert.equal(left.length, 1, name)
      assert.match(left[0]!, /^residual\.bin\.corrupt-\d+$/, name)
      assert.deepEqual(await readFile(join(dir, left[0]!)), bytes, `${name}: kept as it was`)
    }
  })

  it('refuses to write a hash that is not 32 bytes', () => {
    assert.throws(
      () => encodeResidual({ updateHash: 'abcd', residual: new Float32Array(1) }),
      /32 bytes/,
    )
  })
})
