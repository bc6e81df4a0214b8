/**
 * AdamW fused into two WebGPU dispatches per parameter tensor, instead of about seventeen tfjs ops
 * (each its own dispatch). The moments of a tensor with n values live in one variable of 2n
 * values (m, then v); one program writes the new weights, one the new moments, each computing the
 * moment update the same way and in the same float order as the op-by-op AdamW in adamw.ts. The
 * gradient norm and the clip scale stay tfjs ops (a reduction over every tensor); the scale is
 * read on the GPU, so nothing waits on the host.
 */
import * as tf from '../tf.js'
import { fusedOptimizers, globalNorm, type AdamWConfig, type InnerOptimizer } from './adamw.js'

/** What tfjs-backend-webgpu's program runner needs (WebGPUProgram in its typings). */
interface Program {
  variableNames: string[]
  uniforms: string
  outputShape: number[]
  shaderKey: string
  dispatchLayout: { x: number[] }
  dispatch: [number, number, number]
  workgroupSize: [number, number, number]
  size: boolean
  getUserCode(): string
}
interface WebgpuBackendLike {
  runWebGPUProgram(
    program: Program,
    inputs: tf.TensorInfo[],
    dtype: 'float32',
    uniforms: { type: 'float32'; data: number[] }[],
  ): tf.TensorInfo
}

const WORKGROUP = 64
const UNIFORMS =
  'lr : f32, beta1 : f32, beta2 : f32, c1 : f32, c2 : f32, bc1 : f32, bc2 : f32, eps : f32, wd : f32,'

/** The moment updates, shared by both programs so they agree to the bit. */
const MOMENTS = `
  fn tandemM(m : f32, g : f32) -> f32 { return m * uniforms.beta1 + g * uniforms.c1; }
  fn tandemV(v : f32, g : f32) -> f32 { return v * uniforms.beta2 + (g * g) * uniforms.c2; }
`

function program(kind: 'weights' | 'moments', n: number): Program {
  const size = kind === 'weights' ? n : 2 * n
  const x = Math.ceil(size / WORKGROUP)
  // One dimension while it fits (65,535 workgroups is the WebGPU minimum limit); a square beyond.
  const side = Math.ceil(Math.sqrt(x))
  const dispatch: [number, number, number] = x <= 65_535 ? [x, 1, 1] : [side, side, 1]
  const body =
    kind === 'weights'
      ? `
        let g = G[index] * SC[0];
        let m = tandemM(ST[index], g);
        let v = tandemV(ST[index + uniforms.size], g);
        let adam = (m / uniforms.bc1) / (sqrt(v / uniforms.bc2) + uniforms.eps);
        let p = P[index];
        setOutputAtIndex(index, p - (adam + p * uniforms.wd) * uniforms.lr);`
      : `
        let n = uniforms.size / 2;
        if (index < n) {
          setOutputAtIndex(index, tandemM(ST[index], G[index] * SC[0]));
        } else {
          setOutputAtIndex(index, tandemV(ST[index], G[index - n] * SC[0]));
        }`
  return {
    variableNames: kind === 'weights' ? ['P', 'G', 'ST', 'SC'] : ['G', 'ST', 'SC'],
    uniforms: UNIFORMS,
    outputShape: [size],
    shaderKey: `tandemAdamW_${kind}`,
    dispatchLayout: { x: [0] },
    dispatch,
    workgroupSize: [WORKGROUP, 1, 1],
    size: true,
    // tfjs wraps `main(index)` in its entry point, with the flat index across the dispatch.
    getUserCode: () => `
      ${MOMENTS}
      fn main(index : i32) {
        if (index < uniforms.size) {${body}
        }
      }`,
  }
}

export class FusedWebgpuAdamW implements InnerOptimizer {
  /** Per parameter: m then v, 2n values. */
  private readonly state: tf.Variable[]
  private t = 0

  constructor(
    private readonly params: readonly tf.Variable[],
    private readonly decay: readonly boolean[],
    private readonly cfg: AdamWConfig,
  ) {
    this.state = params.map((p) => tf.variable(tf.zeros([2 * p.size]), false))
  }

  step(grads: readonly tf.Tensor[], lr: number): tf.Scalar {
    this.t++
    const { beta1, beta2, eps, weightDecay, clipNorm } = this.cfg
    const backend = tf.backend() as unknown as WebgpuBackendLike
    const engine = tf.engine()
    return tf.tidy(() => {
      const norm = globalNorm(grads)
      const scale =
        clipNorm > 0 ? tf.minimum(1, tf.div(clipNorm, tf.add(norm, 1e-6))) : tf.scalar(1)
      const uniforms = (wd: number) =>
        [
          lr,
          beta1,
          beta2,
          1 - beta1,
          1 - beta2,
          1 - beta1 ** this.t,
          1 - beta2 ** this.t,
          eps,
          wd,
        ].map((v) => ({ type: 'float32' as const, data: [v] }))
      this.params.forEach((p, i) => {
        const g = grads[i] as tf.Tensor
        const s = this.state[i] as tf.Variable
        const u = uniforms(this.decay[i] ? weightDecay : 0)
        const weights = engine.makeTensorFromTensorInfo(
          backend.runWebGPUProgram(program('weights', p.size), [p, g, s, scale], 'float32', u),
        )
        const moments = engine.makeTensorFromTensorInfo(
          backend.runWebGPUProgram(program('moments', p.size), [g, s, scale], 'float32', u),
        )
        p.assign(tf.reshape(weights, p.shape))
        s.assign(moments)
      })
      return tf.keep(norm)
    })
  }

  dispose(): void {
    tf.dispose(this.state)
  }
}

fusedOptimizers.set('webgpu', (params, decay, cfg) => new FusedWebgpuAdamW(params, decay, cfg))
