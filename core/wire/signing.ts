/**
 * Announcements are signed by the project host's key, so a seeder can pass one on and the receiver
 * can still tell it came from the host. The signature covers the encoded fields behind a namespace
 * prefix, so a signature made for anything else can never pass as an announcement.
 */
import c from 'compact-encoding'
import crypto from 'hypercore-crypto'
import { TandemError } from '../api/errors.js'
import { announceSignable, type Announce } from './messages.js'

const NAMESPACE = Buffer.from('tandem/announce/v1\0')

function signable(fields: Omit<Announce, 'signature'>): Buffer {
  return Buffer.concat([NAMESPACE, c.encode(announceSignable, fields)])
}

export function signAnnounce(fields: Omit<Announce, 'signature'>, secretKey: Uint8Array): Announce {
  return { ...fields, signature: crypto.sign(signable(fields), secretKey) }
}

/** Throws WIRE_BAD_SIGNATURE unless `host` signed exactly these fields. */
export function verifyAnnounce(m: Announce): void {
  const { signature, ...fields } = m
  let ok = false
  try {
    ok = crypto.verify(signable(fields), signature, m.host)
  } catch {
    ok = false // sodium rejects malformed keys by throwing; that is a bad signature too
  }
  if (!ok) throw new TandemError('WIRE_BAD_SIGNATURE', 'announce signature does not verify')
}
