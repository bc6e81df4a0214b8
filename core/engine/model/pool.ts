/**
 * Non-overlapping max-pooling (window = stride = size, 'valid'). The wasm backend's MaxPoolGrad
 * kernel returns wrong gradients for multi-channel batches (checked against the cpu backend in
 * test/unit/engine/determinism.test.ts), so there the gradient is routed with plain ops instead:
 * dy flows to the positions that equal their window's maximum.
 */
import * as tf from '../tf.js'

function upsample(t: tf.Tensor4D, size: number): tf.Tensor4D {
  const [b, h, w, c] = t.shape
  const tiled = tf.tile(tf.reshape(t, [b, h, 1, w, 1, c]), [1, 1, size, 1, size, 1])
  return tf.reshape(tiled, [b, h * size, w * size, c])
}

export function maxPool(x: tf.Tensor4D, size: number): tf.Tensor4D {
  if (tf.getBackend() !== 'wasm') return tf.maxPool(x, size, size, 'valid')
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, save] = args as [tf.Tensor4D, tf.GradSaveFunc]
    const y = tf.maxPool(xIn, size, size, 'valid')
    save([xIn, y])
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ys] = saved as [tf.Tensor4D, tf.Tensor4D]
        const [b, h, w, c] = xs.shape
        const [, oh, ow] = ys.shape
        const covered = tf.slice(xs, [0, 0, 0, 0], [b, oh * size, ow * size, c])
        const mask = tf.cast(tf.equal(covered, upsample(ys, size)), 'float32')
        const routed = tf.mul(mask, upsample(dy as tf.Tensor4D, size))
        return tf.pad(routed, [
          [0, 0],
          [0, h - oh * size],
          [0, w - ow * size],
          [0, 0],
        ])
      },
    }
  })
  return op(x) as tf.Tensor4D
}
