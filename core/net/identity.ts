/**
 * The node's identity: one Ed25519 key pair, created on first run and kept in the app data dir
 * (mode 0600: the secret key is the node's name on the network). It is the Hyperswarm key pair, so
 * peers know each other by the same key the Noise handshake proves.
 */
import crypto from 'hypercore-crypto'
import { randomBytes } from 'node:crypto'
import { chmod, link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises'
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

function fromKeyPair(kp: { publicKey: Buffer; secretKey: Buffer }): Identity {
  return { publicKey: kp.publicKey, secretKey: kp.secretKey, displayId: displayId(kp.publicKey) }
}

/**
 * Loads the identity in `dir`, creating it the first time. Two processes starting at once (the app
 * and a CLI command) must end up with the same key: each writes its new key to its own temp file
 * and then links it to the final name, which fails if the name exists, so only one key is ever
 * published and the loser reads the winner's. (A rename would replace: both would believe their own
 * key, and one of them would run under a key that no longer exists on disk.)
 */
export async function loadOrCreateIdentity(dir: string): Promise<Identity> {
  const file = join(dir, IDENTITY_FILE)
  const existing = await readIdentityFile(file)
  if (existing !== null) return parseIdentity(existing, file)

  const kp = crypto.keyPair()
  const body: IdentityFile = {
    version: 1,
    publicKey: kp.publicKey.toString('hex'),
    secretKey: kp.secretKey.toString('hex'),
  }
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    if (!(await publish(file, JSON.stringify(body) + '\n'))) {
      const winner = await readIdentityFile(file)
      if (winner === null) throw new TandemError('IDENTITY_IO', `${file} vanished while created`)
      return parseIdentity(winner, file)
    }
  } catch (err) {
    if (err instanceof TandemError) throw err
    throw ioError(file, 'cannot create', err)
  }
  return fromKeyPair(kp)
}

/** The file's text, or null when there is none; any other failure (EACCES, EISDIR) is coded. */
async function readIdentityFile(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw ioError(file, 'cannot read', err)
  }
}

/**
 * Puts `text` at `file` only if nothing is there yet; false if another writer got there first.
 * Written in full to a temp file first, so a crash never leaves half an identity under the name.
 */
async function publish(file: string, text: string): Promise<boolean> {
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  await writeFile(temp, text, { mode: 0o600, flag: 'wx' })
  try {
    await chmod(temp, 0o600) // exactly 0600, whatever the umask left
    await link(temp, file)
    return true
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return false
    // Filesystems without hard links: an exclusive create still lets only one writer win.
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw err
    try {
      await writeFile(file, text, { mode: 0o600, flag: 'wx' })
      return true
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false
      throw e
    }
  } finally {
    // Best effort: the outcome is decided by the link (or exclusive create) above. A temp file that
    // cannot be removed stays behind with mode 0600 in the node's own 0700 directory.
    await unlink(temp).catch(() => {})
  }
}

function ioError(file: string, what: string, cause: unknown): TandemError {
  const code = (cause as NodeJS.ErrnoException).code ?? 'unknown error'
  return new TandemError('IDENTITY_IO', `${what} ${file} (${code})`, { cause })
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
