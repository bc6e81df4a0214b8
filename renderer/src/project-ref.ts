/** What a user may paste to add a project: a 64-hex key or a tandem://project/<key> link. */
export type ProjectRef = { ok: true; key: string } | { ok: false; message: string }

const KEY = /^[0-9a-f]{64}$/i
const LINK = /^tandem:\/\/project\/([0-9a-f]{64})\/?$/i

export function parseProjectRef(text: string): ProjectRef {
  const trimmed = text.trim()
  if (trimmed === '') return { ok: false, message: 'Paste a project key or a tandem:// link' }
  const key = KEY.test(trimmed) ? trimmed : LINK.exec(trimmed)?.[1]
  if (key) return { ok: true, key: key.toLowerCase() }
  return {
    ok: false,
    message: 'Expected a 64-character hex key or a link like tandem://project/<key>',
  }
}
