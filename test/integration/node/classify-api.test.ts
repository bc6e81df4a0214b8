/**
 * `model.imageInput` and `model.classify` through the API handlers (as the UI calls them) on a real
 * contributor node whose corestore holds two projects: an MLP over a 3×4 gray 8-bit image dataset,
 * and one over plain float feature vectors (not images). The classifier reads the project's round-0
 * checkpoint from its ledger, scales pixels as the dataset stores them, and bad input gets codes.
 */
import assert from 'node:assert/strict'
import crypto from 'hypercore-crypto'
import { describe, it } from 'node:test'
import type { MethodName } from '../../../core/api/contract.js'
import { dispatch } from '../../../core/api/dispatch.js'
import {
  contentHashOf,
  DATASET_FORMAT,
  DATASET_FORMAT_VERSION,
  sha256Hex,
  type DatasetHeader,
} from '../../../core/data/header.js'
import { classify } from '../../../core/engine/classify.js'
import { initialWeights, seededRandom } from '../../../core/engine/model/init.js'
import { createProject } from '../../../core/ledger/ledger.js'
import { createManifest } from '../../../core/ledger/manifest.js'
import { createApi } from '../../../core/node/api.js'
import { createLearnableDataset, hostSpec } from '../../support/host-fixtures.js'
import { startTestNode } from '../../support/node-fixtures.js'
import { loopbackTestnet } from '../../support/swarm.js'

/** 60 gray 3×4 uint8 images in 3 shards (the last held out), label = brightest row. */
function imageDataset(): { header: DatasetHeader; shards: Buffer[] } {
  const rand = seededRandom(5)
  const shards: Buffer[] = []
  for (let s = 0; s < 3; s++) {
    const x = Buffer.alloc(20 * 12)
    const y = Buffer.alloc(20)
    for (let i = 0; i < 20; i++) {
      y[i] = i % 3
      for (let p = 0; p < 12; p++)
        x[i * 12 + p] = Math.floor(p / 4) === i % 3 ? 230 : Math.floor(rand() * 40)
    }
    shards.push(Buffer.concat([x, y]))
  }
  const hashes = shards.map((b) => sha256Hex(b))
  const header: DatasetHeader = {
    format: DATASET_FORMAT,
    version: DATASET_FORMAT_VERSION,
    name: 'rows-3x4',
    description: 'label = the bright row',
    license: 'CC0-1.0',
    source: { importer: 'idx', files: [] },
    layout: {
      kind: 'tensors',
      shape: [3, 4],
      dtype: 'uint8',
      scale: 1 / 255,
      labels: { dtype: 'uint8', classes: 3, names: ['top row', 'middle row', 'bottom row'] },
    },
    records: 60,
    shardRecords: 20,
    shards: 3,
    validation: { shards: 1 },
    shardHashes: hashes,
    contentHash: contentHashOf(hashes),
  }
  return { header, shards }
}

describe('image "try it" API', () => {
  it('classifies with the current checkpoint; refuses wrong sizes and non-image projects', async (t) => {
    const net = await loopbackTestnet(t)
    const node = await startTestNode(t, net)
    const { header, shards } = imageDataset()
    const imageKey = await node.datasets.create(
      header,
      (async function* () {
        yield shards
      })(),
    )
    const imageSpec = hostSpec(imageKey)
    const features = await createLearnableDataset(node.datasets)
    const hostKeys = crypto.keyPair()
    const imageProject = await createProject(node.datasets.corestore, imageSpec, hostKeys)
    const plainProject = await createProject(
      node.datasets.corestore,
      hostSpec(features),
      crypto.keyPair(),
    )
    const api = createApi(node, 'daemon')
    const call = async (method: MethodName, params: unknown) => {
      const out = await dispatch(api, { id: 1, method, params })
      return out.ok ? { value: out.value } : { code: out.code }
    }

    assert.deepEqual(await call('model.imageInput', { project: imageProject }), {
      value: { height: 3, width: 4, channels: 1, classes: 3 },
    })
    assert.deepEqual(await call('model.imageInput', { project: plainProject }), { value: null })

    const pixels = [0, 0, 0, 0, 255, 255, 255, 255, 10, 20, 30, 40]
    const out = (await call('model.classify', { project: imageProject, pixels })) as {
      value: { round: number; probabilities: number[]; top: { index: number; label?: string }[] }
    }
    assert.equal(out.value.round, 0)
    assert.equal(out.value.top.length, 3)
    // The dataset header names the classes: each one comes back with its name.
    const names = ['top row', 'middle row', 'bottom row']
    for (const c of out.value.top) assert.equal(c.label, names[c.index])
    const sum = out.value.probabilities.reduce((a, b) => a + b, 0)
    assert.ok(Math.abs(sum - 1) < 1e-5)
    // The same numbers as the engine on the round-0 weights with the pixels scaled by 1/255.
    const manifest = createManifest(imageSpec, hostKeys.publicKey.toString('hex'))
    const direct = await classify(
      manifest.model,
      initialWeights(manifest.model, manifest.seed),
      Float32Array.from(pixels, (v) => v / 255),
    )
    assert.deepEqual(
      out.value.probabilities.map((p) => p.toFixed(6)),
      direct.probabilities.map((p) => p.toFixed(6)),
    )
    // A different image gives different probabilities: the pixels reach the model.
    const other = (await call('model.classify', {
      project: imageProject,
      pixels: pixels.map((v) => 255 - v),
    })) as { value: { probabilities: number[] } }
    assert.notDeepEqual(other.value.probabilities, out.value.probabilities)

    assert.deepEqual(
      await call('model.classify', { project: imageProject, pixels: pixels.slice(1) }),
      { code: 'BAD_ARGUMENT' },
    )
    assert.deepEqual(
      await call('model.classify', { project: imageProject, pixels: [...pixels.slice(1), 256] }),
      { code: 'BAD_ARGUMENT' },
    )
    assert.deepEqual(await call('model.classify', { project: plainProject, pixels }), {
      code: 'BAD_ARGUMENT',
    })
  })
})
