/**
 * The node's identity: one Ed25519 key pair, created on first run and kept in the app data dir
 * (mode 0600: the secret key is the node's name on the network). It is the Hyperswarm key pair, so
 * peers know each other by the same key the Noise handshake proves.
 */
import crypto from 'hypercore-crypto'
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import z32 from 'z32'
import { TandemError } from '../api/errors.js'

export interface Identity {
  publicKey: Buffer
  secretKey: Buffer
  /** Short, human-friendly: the first 8 z-base-32 characters of the public key. */
  displayId: string
}

export const IDENTITY_FILE = 'identity.json'

interface IdentityFile {
  version: 1
  publicKey: string
  secretKey: string
}

export function displayId(publicKey: Uint8Array): string {
  return z32.encode(publicKey).slice(0, 8)
}

/** Full z-base-32 form of a key, as shown and accepted by the CLI. */
export function keyToText(key: Uint8Array): string {
  return z32.encode(key)
}

function fromKeyPair(kp: { publicKey: Buffer; secretKey: Buffer }): Identity {
  return { publicKey: kp.publicKey, secretKey: kp.secretKey, displayId: displayId(kp.publicKey) }
}

/** Loads the identity in `dir`, creating it the first time. */
export async function loadOrCreateIdentity(dir: string): Promise<Identity> {
  const file = join(dir, IDENTITY_FILE)
  let text: string | null = null
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  if (text !== null) return parseIdentity(text, file)

  const kp = crypto.keyPair()
  const body: IdentityFile = {
    version: 1,
    publicKey: kp.publicKey.toString('hex'),
    secretKey: kp.secretKey.toString('hex'),
  }
  await mkdir(dir, { recursive: true, mode: 0o700 })
  // Write then rename: a crash mid-write must never leave a half identity behind.
  const temp = `${file}.${process.pid}.tmp`
  await writeFile(temp, JSON.stringify(body) + '\n', { mode: 0o600, flag: 'wx' })
  await chmod(temp, 0o600) // the umask may have widened nothing, but be explicit
  await rename(temp, file)
  return fromKeyPair(kp)
}

function parseIdentity(text: string, file: string): Identity {
  const corrupt = (why: string) =>
    new TandemError('IDENTITY_CORRUPT', `${file}: ${why}; move it away to create a new identity`)
  let parsed: Partial<IdentityFile>
  try {
    parsed = JSON.parse(text) as Partial<IdentityFile>
  } catch {
    throw corrupt('not JSON')
  }
  const hex = /^[0-9a-f]+$/
  if (
    parsed.version !== 1 ||
    typeof parsed.publicKey !== 'string' ||
    typeof parsed.secretKey !== 'string' ||
    !hex.test(parsed.publicKey) ||
    !hex.test(parsed.secretKey) ||
    parsed.publicKey.length !== 64 ||
    parsed.secretKey.length !== 128
  ) {
    throw corrupt('unexpected fields')
  }
  const kp = {
    publicKey: Buffer.from(parsed.publicKey, 'hex'),
    secretKey: Buffer.from(parsed.secretKey, 'hex'),
  }
  if (!crypto.validateKeyPair(kp)) throw corrupt('the keys do not belong together')
  return fromKeyPair(kp)
}
