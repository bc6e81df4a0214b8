import { TrainingEngine } from '../../core/engine/engine.js'
import { parseSpec } from '../../core/engine/spec/parse.js'
import { innerJob, recycledData } from '../support/engine-fixtures.js'
const mlp = parseSpec({ type: 'mlp', inputSize: 784, hidden: [256], classes: 10 })
const e = new TrainingEngine({ maxThreads: 1, backend: 'webgpu' })
e.on('step', (i) => console.log(i.step, i.ms))
const o = await e.train({ job: innerJob(mlp, 5), batchSize: 256, openData: () => recycledData(mlp, 256, 1) })
console.log(o.backend)
