/**
 * Gradient averaging across data-parallel worker threads through shared memory: each worker writes
 * its gradient row, waits at a barrier, then every worker sums all rows in the same fixed order, so
 * all replicas apply bit-identical updates and stay in lockstep without a parameter server.
 */
import * as tf from '../tf.js'
import type { DataParallel } from './protocol.js'

export function makeAllReduce(
  p: DataParallel,
  shapes: number[][],
): (grads: tf.Tensor[]) => Promise<tf.Tensor[]> {
  const total = shapes.reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0)
  const rows = new Float32Array(p.grads)
  const mine = rows.subarray(p.rank * total, (p.rank + 1) * total)
  const barrier = new Int32Array(p.barrier)
  const sum = new Float32Array(total)

  const wait = () => {
    const generation = Atomics.load(barrier, 1)
    if (Atomics.add(barrier, 0, 1) === p.size - 1) {
      Atomics.store(barrier, 0, 0)
      Atomics.add(barrier, 1, 1)
      Atomics.notify(barrier, 1)
    } else {
      while (Atomics.load(barrier, 1) === generation) Atomics.wait(barrier, 1, generation, 1000)
    }
  }

  return async (grads) => {
    let o = 0
    for (const g of grads) {
      const data = (await g.data()) as Float32Array
      mine.set(data, o)
      o += data.length
    }
    wait()
    sum.fill(0)
    for (let r = 0; r < p.size; r++) {
      const row = rows.subarray(r * total, (r + 1) * total)
      for (let i = 0; i < total; i++) sum[i] = (sum[i] as number) + (row[i] as number)
    }
    // Everyone must have read every row before anyone overwrites its own next step.
    wait()
    const inv = 1 / p.size
    let offset = 0
    return shapes.map((shape) => {
      const n = shape.reduce((a, b) => a * b, 1)
      const part = sum.slice(offset, offset + n)
      for (let i = 0; i < n; i++) part[i] = (part[i] as number) * inv
      offset += n
      return tf.tensor(part, shape, 'float32')
    })
  }
}
