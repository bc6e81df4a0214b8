import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { describe, it, type TestContext } from 'node:test'
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import fc from 'fast-check'
import { TandemError } from '../../../core/api/errors.js'
import {
  encodeUpdateHeader,
  fetchUpdate,
  openUpdateCore,
  publishUpdate,
  UPDATE_CHUNK_BYTES,
  type FetchInput,
  type UpdateRef,
} from '../../../core/ledger/updates.js'
import {
  defer,
  linkStores,
  meet,
  plainCorestore,
  startNode,
  startTestnet,
} from '../../support/data.js'

const project = randomBytes(32)
const checkpointHash = randomBytes(32)
const MiB = UPDATE_CHUNK_BYTES

function offer(ref: UpdateRef, over: Partial<FetchInput> = {}): FetchInput {
  return {
    start: ref.start,
    length: ref.length,
    byteLength: ref.byteLength,
    expectedHash: ref.hash,
    project,
    round: 4,
    maxBytes: 8 * MiB,
    ...over,
  }
}

async function publish(core: Hypercore, bytes: number, round = 4) {
  const encoded = new Uint8Array(randomBytes(bytes))
  const ref = await publishUpdate(core, { project, round, checkpointHash, samples: 96, encoded })
  return { encoded, ref }
}

/** Two plain stores replicating in-process; the host side opens the contributor's core by key. */
async function linked(t: TestContext): Promise<{ mine: Hypercore; theirs: Hypercore }> {
  const a = await plainCorestore(t)
  const b = await plainCorestore(t)
  const mine = await openUpdateCore(a, project)
  defer(t, () => mine.close())
  linkStores(t, a, b)
  const theirs = b.get({ key: mine.key! })
  defer(t, () => theirs.close())
  await theirs.ready()
  return { mine, theirs }
}

async function updateCore(t: TestContext, store: Corestore): Promise<Hypercore> {
  const core = await openUpdateCore(store, project)
  defer(t, () => core.close())
  return core
}

describe('contributor update cores', () => {
  it('publishes in one batch and fetches back from the same store', async (t) => {
    const store = await plainCorestore(t)
    const core = await updateCore(t, store)
    const first = await publish(core, 100)
    const second = await publish(core, 2 * MiB + 17)
    assert.deepEqual([first.ref.start, first.ref.length], [0, 2])
    assert.deepEqual(
      [second.ref.start, second.ref.length, second.ref.byteLength],
      [2, 4, 2 * MiB + 17],
    )
    assert.deepEqual(
      Buffer.from(second.ref.hash),
      createHash('sha256').update(second.encoded).digest(),
    )
    const got = await fetchUpdate(core, offer(second.ref))
    assert.deepEqual(Buffer.from(got.encoded), Buffer.from(second.encoded))
    assert.equal(got.header.samples, 96)
    assert.equal(got.header.checkpointHash, checkpointHash.toString('hex'))
    // The same store and project always give the same core.
    const again = await updateCore(t, store)
    assert.deepEqual(again.key, core.key)
    assert.equal(again.length, 6)
  })

  it('round-trips between two stores over a loopback swarm, downloading only that update', async (t) => {
    const testnet = await startTestnet(t)
    const contributor = await startNode(t, testnet)
    const host = await startNode(t, testnet)
    const mine = await updateCore(t, contributor.store.corestore)
    const skipped = await publish(mine, 3000)
    const { encoded, ref } = await publish(mine, MiB + 1)
    const theirs = host.store.corestore.get({ key: mine.key! })
    defer(t, () => theirs.close())
    await theirs.ready()
    await meet([contributor.swarm, host.swarm], mine.key!)
    const got = await fetchUpdate(theirs, offer(ref, { timeout: 8000 }))
    assert.deepEqual(Buffer.from(got.encoded), Buffer.from(encoded))
    assert.equal(await theirs.has(skipped.ref.start, skipped.ref.start + skipped.ref.length), false)
  })

  it('rejects offers that disagree with the header', async (t) => {
    const store = await plainCorestore(t)
    const core = await updateCore(t, store)
    const { ref } = await publish(core, 5000)
    const cases: Array<[Partial<FetchInput>, string]> = [
      [{ project: randomBytes(32) }, 'UPDATE_MISMATCH'],
      [{ round: 5 }, 'UPDATE_MISMATCH'],
      [{ expectedHash: randomBytes(32) }, 'UPDATE_MISMATCH'],
      [{ byteLength: 4999 }, 'UPDATE_MISMATCH'],
      [{ byteLength: MiB + 1 }, 'UPDATE_MISMATCH'],
      [{ length: 3, byteLength: MiB + 1 }, 'UPDATE_MISMATCH'],
      [{ length: 1, byteLength: 5000 }, 'UPDATE_INVALID'],
      [{ length: 1e6 }, 'UPDATE_INVALID'],
      [{ start: -1 }, 'UPDATE_INVALID'],
      [{ start: 1, byteLength: undefined }, 'UPDATE_INVALID'], // a chunk, not a header
      [{ start: 99, timeout: 100 }, 'UPDATE_UNAVAILABLE'],
      [{ project: 'nope' }, 'BAD_ARGUMENT'],
    ]
    for (const [over, code] of cases)
      await assert.rejects(fetchUpdate(core, offer(ref, over)), { code }, JSON.stringify(over))
    // The offer's hash matches the header, but the chunk does not: a forged header.
    const forged = encodeUpdateHeader({
      project: project.toString('hex'),
      round: 4,
      checkpointHash: checkpointHash.toString('hex'),
      samples: 1,
      byteLength: 10,
      hash: '0'.repeat(64),
      chunkCount: 1,
    })
    await core.append([forged, Buffer.concat([Buffer.of(2), Buffer.alloc(10)])])
    const at = { start: core.length - 2, length: 2, byteLength: 10, hash: Buffer.alloc(32) }
    await assert.rejects(fetchUpdate(core, offer(at)), { code: 'UPDATE_MISMATCH' })
    await core.append([forged, Buffer.concat([Buffer.of(2), Buffer.alloc(9)])])
    const short = { ...at, start: core.length - 2 }
    await assert.rejects(fetchUpdate(core, offer(short)), { code: 'UPDATE_INVALID' })
  })

  it('rejects an oversize update before downloading its chunks', async (t) => {
    const { mine, theirs } = await linked(t)
    const { ref } = await publish(mine, 2 * MiB + 100)
    const chunks = () => theirs.has(ref.start + 1, ref.start + ref.length)
    // Declared in the offer: nothing is downloaded at all.
    await assert.rejects(fetchUpdate(theirs, offer(ref, { maxBytes: 2 * MiB })), {
      code: 'UPDATE_TOO_LARGE',
    })
    assert.equal(await theirs.has(ref.start, ref.start + 1), false)
    // Declared only in the header: the header is fetched, the chunks are not.
    const quiet = offer(ref, { maxBytes: 2 * MiB + 50, byteLength: undefined, timeout: 5000 })
    await assert.rejects(fetchUpdate(theirs, quiet), { code: 'UPDATE_TOO_LARGE' })
    assert.equal(await theirs.has(ref.start, ref.start + 1), true)
    assert.equal(await chunks(), false)
    await fetchUpdate(theirs, offer(ref, { timeout: 5000 }))
    assert.equal(await chunks(), true)
  })

  it('fails with coded errors only on mutated header blocks', async (t) => {
    const store = await plainCorestore(t)
    const core = await updateCore(t, store)
    const { ref } = await publish(core, 300)
    const header = (await core.get(ref.start))!
    const chunk = (await core.get(ref.start + 1))!
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(header.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.nat(header.length),
        async (edits, cut) => {
          const block = Buffer.from(header)
          for (const [i, v] of edits) block[i] = v
          await core.append([block.subarray(0, Math.max(cut, header.length - 2)), chunk])
          const at = { ...ref, start: core.length - 2 }
          try {
            const got = await fetchUpdate(core, offer(at))
            assert.equal(got.encoded.length, 300)
          } catch (err) {
            assert.ok(err instanceof TandemError, `native error: ${String(err)}`)
            assert.match(err.code, /^UPDATE_(INVALID|MISMATCH)$/)
          }
        },
      ),
      { numRuns: 150 },
    )
  })
})
