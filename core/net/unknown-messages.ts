/**
 * Protomux has no hook for messages whose type id the channel never registered: `Channel#_recv`
 * drops them silently (`if (type < this.messages.length) …; return null`), before any of our
 * handlers, so a peer could send thousands of them without touching the rate limit. Every received
 * message passes through that one method (direct frames, batches, and frames buffered before the
 * channel opened), so wrapping it on our channel instance sees them all; registering catch-all ids
 * could never cover every id a peer can put in a varint.
 *
 * `_recv` is protomux-internal. `test/unit/net/unknown-messages.test.ts` runs this against the
 * installed protomux, so an upgrade that renames it fails there, not silently in production.
 */
import type Protomux from 'protomux'

interface ChannelInternals {
  messages: unknown[]
  _recv?: (type: number, state: Protomux.State) => unknown
}

/**
 * Calls `onunknown(type, bytes)` for every received message of an unregistered type instead of
 * dropping it unseen. Returns false when this protomux has no `_recv` to wrap (nothing is watched).
 */
export function watchUnknownMessages(
  channel: Protomux.Channel,
  onunknown: (type: number, bytes: number) => void,
): boolean {
  const internals = channel as unknown as ChannelInternals
  const recv = internals._recv
  if (typeof recv !== 'function') return false
  internals._recv = function (type, state) {
    if (type < internals.messages.length) return recv.call(this, type, state)
    onunknown(type, state.end - state.start)
    return null
  }
  return true
}
