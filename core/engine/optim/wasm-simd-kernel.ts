/**
 * The AdamW update and the sum of squares as WebAssembly SIMD (f32x4) functions that work directly
 * in the wasm backend's memory (they import it). No toolchain: the module's bytes are written out
 * here, instruction by instruction, from this listing:
 *
 *   adamw(g, m, v, w, out, bytes: i32, scale, b1, c1, b2, c2, ibc1, ibc2, eps, lr, wd: f32)
 *     for i in 0..bytes step 16:            (four floats at a time; callers do the tail)
 *       gi  = g[i] · scale
 *       m[i] = mi = b1 · m[i] + c1 · gi
 *       v[i] = vi = b2 · v[i] + c2 · gi · gi
 *       out[i] = w[i] − lr · ((mi · ibc1) / (√(vi · ibc2) + eps) + wd · w[i])
 *   sumsq(p, bytes: i32) → f64: Σ p[i]², four float32 lanes summed in f64 at the end.
 *
 * Pointers and lengths are byte offsets into the imported memory.
 */

const I32 = 0x7f
const F32 = 0x7d
const F64 = 0x7c
const V128 = 0x7b

function uleb(n: number): number[] {
  const out: number[] = []
  do {
    let byte = n & 0x7f
    n >>>= 7
    if (n !== 0) byte |= 0x80
    out.push(byte)
  } while (n !== 0)
  return out
}

const str = (s: string) => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))]
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()]
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body]

// Instructions.
const get = (i: number) => [0x20, ...uleb(i)]
const set = (i: number) => [0x21, ...uleb(i)]
const simd = (op: number, ...imm: number[]) => [0xfd, ...uleb(op), ...imm]
const load = simd(0x00, 4, 0) // v128.load align=16 offset=0
const store = simd(0x0b, 4, 0) // v128.store
const splat = simd(0x13) // f32x4.splat
const lane = (l: number) => simd(0x1f, l) // f32x4.extract_lane
const sqrt = simd(0xe3)
const add = simd(0xe4)
const sub = simd(0xe5)
const mul = simd(0xe6)
const div = simd(0xe7)
const i32add = [0x6a]
const end = [0x0b]
/** `block { loop { if (i ≥ bytes) break; body; i += 16; continue } }` over local `i`. */
const loop = (i: number, bytes: number, body: number[]) => [
  0x02,
  0x40,
  0x03,
  0x40,
  ...get(i),
  ...get(bytes),
  0x4f, // i32.ge_u
  0x0d,
  1, // br_if 1 (out of the block)
  ...body,
  ...get(i),
  0x41,
  16, // i32.const 16
  ...i32add,
  ...set(i),
  0x0c,
  0, // br 0 (the loop)
  ...end,
  ...end,
]
const at = (ptr: number, i: number) => [...get(ptr), ...get(i), ...i32add]

function adamwBody(): number[] {
  // params 0–4 pointers, 5 bytes, 6–15 scalars; locals: 16 i, 17–26 splatted scalars, 27 gi, 28 mi, 29 vi, 30 wi
  const [I, S, B1, C1, B2, C2, IBC1, IBC2, EPS, LR, WD, GI, MI, VI, WI] = [
    16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
  ] as const
  const locals = vec(
    [
      [1, I32],
      [14, V128],
    ].map(([n, t]) => [...uleb(n as number), t as number]),
  )
  const code = [
    ...Array.from({ length: 10 }, (_, k) => [...get(6 + k), ...splat, ...set(S + k)]).flat(),
    ...loop(I, 5, [
      ...at(0, I),
      ...load,
      ...get(S),
      ...mul,
      ...set(GI),
      ...at(1, I),
      ...load,
      ...get(B1),
      ...mul,
      ...get(GI),
      ...get(C1),
      ...mul,
      ...add,
      ...set(MI),
      ...at(1, I),
      ...get(MI),
      ...store,
      ...at(2, I),
      ...load,
      ...get(B2),
      ...mul,
      ...get(GI),
      ...get(GI),
      ...mul,
      ...get(C2),
      ...mul,
      ...add,
      ...set(VI),
      ...at(2, I),
      ...get(VI),
      ...store,
      ...at(3, I),
      ...load,
      ...set(WI),
      ...at(4, I),
      ...get(WI),
      ...get(MI),
      ...get(IBC1),
      ...mul,
      ...get(VI),
      ...get(IBC2),
      ...mul,
      ...sqrt,
      ...get(EPS),
      ...add,
      ...div,
      ...get(WD),
      ...get(WI),
      ...mul,
      ...add,
      ...get(LR),
      ...mul,
      ...sub,
      ...store,
    ]),
    ...end,
  ]
  return [...locals, ...code]
}

function sumsqBody(): number[] {
  // params 0 p, 1 bytes; locals: 2 i, 3 acc, 4 x
  const locals = vec([
    [...uleb(1), I32],
    [...uleb(2), V128],
  ])
  const code = [
    ...loop(2, 1, [
      ...at(0, 2),
      ...load,
      ...set(4),
      ...get(3),
      ...get(4),
      ...get(4),
      ...mul,
      ...add,
      ...set(3),
    ]),
    ...[0, 1, 2, 3].flatMap((l) => [...get(3), ...lane(l), 0xbb]), // f64.promote_f32
    0xa0,
    0xa0,
    0xa0, // f64.add ×3
    ...end,
  ]
  return [...locals, ...code]
}

function moduleBytes(): Uint8Array {
  const fn = (body: number[]) => [...uleb(body.length), ...body]
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(
      1,
      vec([
        [0x60, ...vec([...Array(6).fill([I32]), ...Array(10).fill([F32])]), ...vec([])],
        [0x60, ...vec([[I32], [I32]]), ...vec([[F64]])],
      ]),
    ),
    ...section(2, vec([[...str('env'), ...str('memory'), 0x02, 0x00, 0x00]])), // memory, min 0
    ...section(3, vec([[0], [1]])),
    ...section(
      7,
      vec([
        [...str('adamw'), 0x00, 0],
        [...str('sumsq'), 0x00, 1],
      ]),
    ),
    ...section(10, vec([fn(adamwBody()), fn(sumsqBody())])),
  ]
  return Uint8Array.from(bytes)
}

export interface SimdKernels {
  adamw(
    g: number,
    m: number,
    v: number,
    w: number,
    out: number,
    bytes: number,
    scale: number,
    b1: number,
    c1: number,
    b2: number,
    c2: number,
    ibc1: number,
    ibc2: number,
    eps: number,
    lr: number,
    wd: number,
  ): void
  sumsq(p: number, bytes: number): number
}

/** The few WebAssembly APIs used here (core's TypeScript libs declare no WebAssembly types). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { exports: unknown }
  Memory: abstract new (...args: never[]) => object
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

/** Whether `x` is a WebAssembly.Memory. */
export function isWasmMemory(x: unknown): x is object {
  return x instanceof WA.Memory
}

let compiled: object | null | undefined

/** The kernels bound to `memory` (a WebAssembly.Memory), or null where WebAssembly SIMD is not available. */
export function simdKernels(memory: object): SimdKernels | null {
  if (compiled === undefined) {
    const bytes = moduleBytes()
    compiled = WA.validate(bytes) ? new WA.Module(bytes) : null
  }
  if (!compiled) return null
  const instance = new WA.Instance(compiled, { env: { memory } })
  return instance.exports as SimdKernels
}
