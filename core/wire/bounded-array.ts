/**
 * The array codec for peer input. compact-encoding's own `c.array` trusts the length prefix: it
 * allocates up to 1,048,576 slots before reading a single element, so a 4 KiB frame could make us
 * allocate megabytes. This one checks the declared length against the field's cap and against the
 * bytes left in the frame (every element takes at least `minItemBytes`) before allocating, and grows
 * the array element by element. The bytes on the wire are the same as `c.array`'s.
 */
import c from 'compact-encoding'
import type Protomux from 'protomux'
import { TandemError } from '../api/errors.js'

export interface BoundedArrayOptions {
  /** Named in errors, e.g. `hello.projects`. */
  field: string
  /** Most elements accepted (the same cap the semantic check enforces). */
  max: number
  /** The fewest bytes one encoded element can take (32 for a fixed32 key). */
  minItemBytes: number
}

export function boundedArray<T>(
  item: Protomux.Encoding<T>,
  { field, max, minItemBytes }: BoundedArrayOptions,
): Protomux.Encoding<T[]> {
  if (!Number.isSafeInteger(max) || max < 0 || !(minItemBytes >= 1)) {
    throw new TandemError('BAD_ARGUMENT', `${field}: bad array bounds`)
  }
  return {
    preencode(state, list) {
      c.uint.preencode(state, list.length)
      for (const value of list) item.preencode(state, value)
    },
    encode(state, list) {
      c.uint.encode(state, list.length)
      for (const value of list) item.encode(state, value)
    },
    decode(state) {
      const length = c.uint.decode(state)
      if (length > max) {
        throw new TandemError('WIRE_INVALID', `${field}: ${length} entries, at most ${max}`)
      }
      const remaining = state.end - state.start
      if (length * minItemBytes > remaining) {
        throw new TandemError(
          'WIRE_MALFORMED',
          `${field}: ${length} entries cannot fit in the ${remaining} bytes left`,
        )
      }
      const list: T[] = []
      for (let i = 0; i < length; i++) list.push(item.decode(state))
      return list
    },
  }
}
