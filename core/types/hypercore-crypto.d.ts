/** hypercore-crypto ships plain JavaScript: the Ed25519 and BLAKE2b helpers Tandem uses. */
declare module 'hypercore-crypto' {
  interface KeyPair {
    publicKey: Buffer
    secretKey: Buffer
  }
  const crypto: {
    keyPair(seed?: Uint8Array): KeyPair
    validateKeyPair(keyPair: { publicKey: Uint8Array; secretKey: Uint8Array }): boolean
    sign(message: Uint8Array, secretKey: Uint8Array): Buffer
    verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean
    data(data: Uint8Array): Buffer
    hash(data: Uint8Array | Uint8Array[], out?: Uint8Array): Buffer
    discoveryKey(publicKey: Uint8Array): Buffer
    randomBytes(n: number): Buffer
    namespace(name: string | Uint8Array, count: number): Buffer[]
  }
  export = crypto
}
