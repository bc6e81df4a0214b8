/** How a person names a project: its hex key or a `tandem://project/<key>` link. */
import { TandemError } from '../api/errors.js'

const HEX32 = /^[0-9a-f]{64}$/

/** A project key (lowercase hex) from a hex key or a `tandem://project/<key>` link. */
export function parseProjectRef(ref: string): string {
  const s = ref.trim()
  const m = /^tandem:\/\/project\/([0-9a-fA-F]{64})\/?$/.exec(s)
  const key = (m ? m[1]! : s).toLowerCase()
  if (!HEX32.test(key))
    throw new TandemError(
      'BAD_ARGUMENT',
      'a project is a 64-character hex key or tandem://project/<key>',
    )
  return key
}
