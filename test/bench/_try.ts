import { TrainingEngine } from '../../core/engine/engine.js'
import { parseSpec } from '../../core/engine/spec/parse.js'
const mlp = parseSpec({ type: 'mlp', inputSize: 784, hidden: [256], classes: 10 })
const only = process.argv[2]
const e = new TrainingEngine({ maxThreads: 1, probe: async (n) => { const { probeBackend } = await import('../../core/engine/backends/probe.js'); return n === only || !only ? probeBackend(n) : { name: n, available: false, detail: 'hidden' } } })
const t0 = performance.now()
const t = await e.measure(mlp, 256)
console.log(JSON.stringify(t.speeds), t.why, performance.now() - t0)
