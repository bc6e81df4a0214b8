/**
 * TensorFlow.js core with every op's gradient registered. The engine imports tf from here, never
 * from the package directly: tfjs-core's Node bundle ships without the gradient configs, which only
 * the umbrella package's bundle registers. Loading the umbrella for that side effect is the
 * supported way; we still program against tfjs-core's API alone.
 */
import '@tensorflow/tfjs'
import { enableProdMode } from '@tensorflow/tfjs-core'

// Production mode: no debug checks, and no console banners from the CPU backend in Node.
enableProdMode()

export * from '@tensorflow/tfjs-core'
