/**
 * Announcements are signed by the project host's key, so a seeder can pass one on and the receiver
 * can still tell it came from the host. The signature covers every byte of the body except the
 * signature itself (behind a namespace prefix, so a signature made for anything else can never pass
 * as an announcement): the fields before it, and whatever fields a newer format appends after it.
 * A receiver therefore verifies the bytes it received, never a re-encoding of what it understood:
 * re-encoding would write our format version and drop a newer host's fields, and a valid newer
 * announce would look forged.
 */
import c from 'compact-encoding'
import crypto from 'hypercore-crypto'
import { TandemError } from '../api/errors.js'
import { announceSignable, type Announce } from './messages.js'

const NAMESPACE = Buffer.from('tandem/announce/v1\0')
const SIGNATURE_BYTES = 64

function signable(fields: Omit<Announce, 'signature'>): Buffer {
  return Buffer.concat([NAMESPACE, c.encode(announceSignable, fields)])
}

export function signAnnounce(fields: Omit<Announce, 'signature'>, secretKey: Uint8Array): Announce {
  return { ...fields, signature: crypto.sign(signable(fields), secretKey) }
}

/**
 * What the signature in a received announce body covers: the namespace, the bytes before the
 * signature and the bytes after it. Throws (compact-encoding's plain errors) on a body too short to
 * hold the fields; decode.ts has already read them by then.
 */
export function signedBytes(body: Uint8Array): Buffer {
  const state = { start: 0, end: body.byteLength, buffer: body }
  announceSignable.decode(state)
  const sigStart = state.start
  const sigEnd = sigStart + SIGNATURE_BYTES
  return Buffer.concat([NAMESPACE, body.subarray(0, sigStart), body.subarray(sigEnd)])
}

/**
 * Throws WIRE_BAD_SIGNATURE unless `host` signed this announce. With `body` (the bytes as received)
 * the signature is checked over exactly those bytes, appended fields included; without it, over our
 * own encoding of the fields (only right for an announce built by this version).
 */
export function verifyAnnounce(m: Announce, body?: Uint8Array): void {
  let ok = false
  let cause: unknown
  try {
    const { signature, ...fields } = m
    const message = body ? signedBytes(body) : signable(fields)
    ok = crypto.verify(message, signature, m.host)
  } catch (err) {
    cause = err // sodium rejects malformed keys by throwing; that is a bad signature too
  }
  if (!ok) {
    const opts = cause === undefined ? undefined : { cause }
    throw new TandemError('WIRE_BAD_SIGNATURE', 'announce signature does not verify', opts)
  }
}
