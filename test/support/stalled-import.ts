/**
 * Child process for the kill test: imports `input` into a store at `dataDir` and, once shards are
 * in the spool file, prints `spooling <dir>` and blocks its own thread for good. The parent then
 * kills it, so the SIGKILL lands in the spool phase every time, with no timing guess.
 *
 * Usage: node --import tsx test/support/stalled-import.ts <dataDir> <input>
 */
import { readdirSync, statSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { DatasetStore } from '../../core/data/dataset-store.js'
import { importDataset } from '../../core/data/import.js'

const [dataDir, input] = process.argv.slice(2)
const store = await DatasetStore.open({ dataDir: dataDir! })

function spooledDir(): string | null {
  for (const name of readdirSync(store.tmpDir)) {
    const spool = join(store.tmpDir, name, 'shards.spool')
    try {
      if (statSync(spool).size > 0) return join(store.tmpDir, name)
    } catch {
      // no shard flushed yet
    }
  }
  return null
}

await importDataset(store, {
  file: input!,
  shardSize: { bytes: 64 << 10 },
  // Called as each input chunk is taken, after the previous chunk's shards were written.
  onProgress: () => {
    const dir = spooledDir()
    if (!dir) return
    writeSync(1, `spooling ${dir}\n`)
    // Atomics.wait blocks this thread without returning to the event loop: nothing more happens.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)
  },
})
writeSync(1, 'finished without stalling\n')
