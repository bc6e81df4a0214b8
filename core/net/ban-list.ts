/** Peers banned for a while, by public key. Expired bans are forgotten lazily. */
export interface Ban {
  key: string
  until: number
  code: string
}

export class BanList {
  private readonly bans = new Map<string, Ban>()

  constructor(private readonly now: () => number = Date.now) {}

  add(key: Uint8Array, ms: number, code: string): Ban {
    const ban = { key: hex(key), until: this.now() + ms, code }
    this.bans.set(ban.key, ban)
    return ban
  }

  has(key: Uint8Array): boolean {
    const ban = this.bans.get(hex(key))
    if (!ban) return false
    if (ban.until > this.now()) return true
    this.bans.delete(ban.key)
    return false
  }

  delete(key: Uint8Array): void {
    this.bans.delete(hex(key))
  }

  active(): Ban[] {
    const now = this.now()
    for (const [k, ban] of this.bans) if (ban.until <= now) this.bans.delete(k)
    return [...this.bans.values()]
  }
}

function hex(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex')
}
