/**
 * The one way peer bytes become messages: size cap, decode, trailing-bytes rule, semantic check,
 * signature check. Whatever goes wrong inside (compact-encoding throws plain Errors, a bug could
 * throw a TypeError) leaves as a coded TandemError: a native error escaping a protomux handler
 * would take the whole process down.
 */
import c from 'compact-encoding'
import { TandemError, isTandemError } from '../api/errors.js'
import { checks } from './check.js'
import {
  FORMAT_VERSION,
  SIZE_CAPS,
  codecs,
  type MessageBodies,
  type MessageKind,
} from './messages.js'
import { verifyAnnounce } from './signing.js'

export function decodeMessage<K extends MessageKind>(kind: K, bytes: Uint8Array): MessageBodies[K] {
  const cap = SIZE_CAPS[kind]
  if (bytes.byteLength > cap) {
    throw new TandemError('WIRE_TOO_LARGE', `${kind}: ${bytes.byteLength} bytes, cap ${cap}`)
  }
  try {
    const state = { start: 0, end: bytes.byteLength, buffer: bytes }
    const version = c.uint.decode({ ...state })
    if (version < 1) throw new TandemError('WIRE_MALFORMED', `${kind}: format version 0`)
    const body = codecs[kind].decode(state)
    // Fields only grow: a newer sender may append some, but our own version has no trailer.
    if (state.start !== state.end && version <= FORMAT_VERSION) {
      throw new TandemError('WIRE_MALFORMED', `${kind}: ${state.end - state.start} trailing bytes`)
    }
    checks[kind](body)
    // Over the bytes as received: a newer host's version number and appended fields are signed too.
    if (kind === 'announce') verifyAnnounce(body as MessageBodies['announce'], bytes)
    return body
  } catch (err) {
    if (isTandemError(err)) throw err
    throw new TandemError('WIRE_MALFORMED', `${kind}: ${describe(err)}`, { cause: err })
  }
}

/**
 * Encodes our own message after the same checks a receiver applies, so a bug here shows up as a
 * coded BAD_ARGUMENT on this side instead of a ban on the other.
 */
export function encodeMessage<K extends MessageKind>(kind: K, body: MessageBodies[K]): Uint8Array {
  let bytes: Uint8Array
  try {
    checks[kind](body)
    bytes = c.encode(codecs[kind], body)
  } catch (err) {
    throw new TandemError('BAD_ARGUMENT', `cannot encode ${kind}: ${describe(err)}`, { cause: err })
  }
  if (bytes.byteLength > SIZE_CAPS[kind]) {
    throw new TandemError(
      'WIRE_TOO_LARGE',
      `${kind}: ${bytes.byteLength} bytes, cap ${SIZE_CAPS[kind]}`,
    )
  }
  return bytes
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
