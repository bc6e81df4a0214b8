/**
 * Which update core belongs to which contributor. A contributor's update core for a project is
 * signed by the contributor's own node key (the key its Noise handshake proves on every
 * connection), under a signer namespace derived from the project key:
 *
 *   manifest = { version 1, signers: [{ ed25519, publicKey: contributor node key,
 *                                       namespace: BLAKE2b-256("tandem/updates/v1" ‖ project) }] }
 *   core key = Hypercore.key(manifest)
 *
 * So anyone can compute the one core key a contributor may offer updates from, and hypercore
 * verifies every block it downloads from that core against the contributor's key (a manifest-v1
 * signature covers the manifest hash, so the same key signing another project's core cannot be
 * replayed here). The host checks that an offer names exactly this core, and that it came over the
 * Noise channel authenticated as that contributor: together, "this update was written by the peer
 * who offered it". Named cores (corestore's `name`) would derive their key from the store's private
 * primary key, which the host cannot check.
 */
import type Corestore from 'corestore'
import Hypercore from 'hypercore'
import crypto from 'hypercore-crypto'
import { TandemError } from '../api/errors.js'

const NAMESPACE_LABEL = 'tandem/updates/v1'

function key32(k: Uint8Array | string, what: string): Buffer {
  const buf = typeof k === 'string' ? Buffer.from(k, 'hex') : Buffer.from(k)
  if (buf.byteLength !== 32 || (typeof k === 'string' && !/^[0-9a-f]{64}$/i.test(k)))
    throw new TandemError('BAD_ARGUMENT', `${what} must be a 32-byte key`)
  return buf
}

/** The signer namespace of update cores for one project. */
export function updateNamespace(project: Uint8Array | string): Buffer {
  return crypto.hash([Buffer.from(NAMESPACE_LABEL), key32(project, 'project')])
}

export function updateCoreManifest(contributor: Uint8Array | string, project: Uint8Array | string) {
  return {
    version: 1,
    signers: [
      { publicKey: key32(contributor, 'contributor'), namespace: updateNamespace(project) },
    ],
  }
}

/** The only update core key a contributor may offer updates from, for this project. */
export function updateCoreKey(
  contributor: Uint8Array | string,
  project: Uint8Array | string,
): Buffer {
  return Hypercore.key(updateCoreManifest(contributor, project))
}

/**
 * Opens (creating if needed) this contributor's writable update core for a project, signed by its
 * node key pair. The caller closes it.
 */
export async function openContributorUpdateCore(
  store: Corestore,
  keyPair: { publicKey: Buffer; secretKey: Buffer },
  project: Uint8Array | string,
): Promise<Hypercore> {
  const manifest = updateCoreManifest(keyPair.publicKey, project)
  // corestore accepts a manifest next to the key pair; its typings here leave it out.
  const core = store.get({ keyPair, manifest } as Corestore.GetOptions)
  try {
    await core.ready()
    if (!core.writable || !core.key!.equals(Hypercore.key(manifest)))
      throw new TandemError('INTERNAL', 'the update core did not open as the derived writable core')
    return core
  } catch (err) {
    // Safe to drop: the open already failed and `err` says why; a core that did not open has
    // nothing to flush, and a close failure on top of it would only hide the cause.
    await core.close().catch(() => {})
    throw err
  }
}
