/**
 * conv2d that trains on every backend. The wasm backend has no Conv2DBackpropFilter kernel, so
 * there the filter gradient is computed as im2col(x)ᵀ · dY, a single matmul (fast on wasm with our
 * transposed-matmul kernel); the forward pass and the input gradient still use native kernels.
 */
import * as tf from '../tf.js'

export type Padding = 'same' | 'valid'

/** Padding amounts TensorFlow uses for 'same': total = max((out - 1)·s + k - in, 0), extra at the end. */
function samePad(size: number, k: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride)
  const total = Math.max((out - 1) * stride + k - size, 0)
  return [Math.floor(total / 2), total - Math.floor(total / 2)]
}

/** Patches of x as rows: [batch·outH·outW, k·k·C], ordered (di, dj, c) like a [k, k, C, F] filter. */
export function im2col(x: tf.Tensor4D, k: number, stride: number, padding: Padding): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape
    let xp = x
    if (padding === 'same')
      xp = tf.pad(x, [[0, 0], samePad(h, k, stride), samePad(w, k, stride), [0, 0]])
    const [, hp, wp] = xp.shape
    const outH = Math.floor((hp - k) / stride) + 1
    const outW = Math.floor((wp - k) / stride) + 1
    const patches: tf.Tensor4D[] = []
    for (let di = 0; di < k; di++) {
      for (let dj = 0; dj < k; dj++) {
        const span = tf.slice(
          xp,
          [0, di, dj, 0],
          [b, (outH - 1) * stride + 1, (outW - 1) * stride + 1, c],
        )
        patches.push(
          stride === 1
            ? span
            : (tf.stridedSlice(span, [0, 0, 0, 0], span.shape, [
                1,
                stride,
                stride,
                1,
              ]) as tf.Tensor4D),
        )
      }
    }
    return tf.reshape(tf.concat(patches, 3), [b * outH * outW, k * k * c])
  })
}

export function conv2d(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  stride: number,
  padding: Padding,
): tf.Tensor4D {
  if (tf.getKernel('Conv2DBackpropFilter', tf.getBackend())) return tf.conv2d(x, w, stride, padding)
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, wIn, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc]
    save([xIn, wIn])
    return {
      value: tf.conv2d(xIn, wIn, stride, padding),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D]
        const [k, , c, f] = ws.shape
        const dx = tf.conv2dTranspose(dy as tf.Tensor4D, ws, xs.shape, stride, padding)
        const cols = im2col(xs, k, stride, padding)
        const dw = tf.reshape(
          tf.matMul(cols, tf.reshape(dy, [-1, f]) as tf.Tensor2D, true, false),
          [k, k, c, f],
        )
        return [dx, dw]
      },
    }
  })
  return op(x, w) as tf.Tensor4D
}
