/** z32 ships plain JavaScript: z-base-32, the human-friendly key encoding Holepunch apps show. */
declare module 'z32' {
  const z32: {
    encode(data: Uint8Array | string): string
    decode(text: string, out?: Uint8Array): Buffer
    ALPHABET: string
  }
  export = z32
}
