/** The node log: pino lines in node.log and a ring buffer that answers logs.tail. */
import assert from 'node:assert/strict'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { LogEntry } from '../../../core/api/contract.js'
import { TandemError } from '../../../core/api/errors.js'
import { NodeLog } from '../../../core/node/log.js'
import { tempDir } from '../../support/data.js'

describe('node log', () => {
  it('records entries with subsystem and level, in the ring and in node.log', async (t) => {
    const dir = await tempDir(t)
    const log = new NodeLog({ dir, level: 'debug' })
    const pushed: LogEntry[] = []
    log.on('entry', (e) => pushed.push(e))
    log.logger.info('node started')
    log.child('engine').debug({ steps: 5 }, 'inner loop')
    log.child('net').warn('peer slow')
    log
      .child('host')
      .error({ err: new TandemError('LEDGER_CORRUPT', 'bad entry 7') }, 'replay failed')
    await log.close()

    assert.equal(pushed.length, 4)
    for (const e of pushed) LogEntry.parse(e)
    assert.deepEqual(
      pushed.map((e) => [e.level, e.subsystem, e.msg]),
      [
        ['info', 'node', 'node started'],
        ['debug', 'engine', 'inner loop'],
        ['warn', 'net', 'peer slow'],
        ['error', 'host', 'replay failed: bad entry 7 [LEDGER_CORRUPT]'],
      ],
    )
    assert.ok(Math.abs(pushed[0]!.t - Date.now()) < 60_000)
    const lines = (await readFile(join(dir, 'node.log'), 'utf8')).trim().split('\n')
    assert.equal(lines.length, 4)
    assert.equal((JSON.parse(lines[1]!) as { steps: number }).steps, 5)
  })

  it('tail filters by minimum level and subsystem, newest last, within the limit', () => {
    const log = new NodeLog({ dir: null, level: 'debug' })
    for (let i = 0; i < 10; i++) log.child(i % 2 ? 'engine' : 'net').info(`m${i}`)
    log.child('net').warn('w')
    log.child('net').debug('d')
    assert.deepEqual(
      log.tail({ limit: 3 }).map((e) => e.msg),
      ['m9', 'w', 'd'],
    )
    assert.deepEqual(
      log.tail({ level: 'warn' }).map((e) => e.msg),
      ['w'],
    )
    assert.deepEqual(
      log.tail({ subsystem: 'engine', limit: 2 }).map((e) => e.msg),
      ['m7', 'm9'],
    )
    assert.equal(log.tail({ level: 'info' }).length, 11)
  })

  it('keeps only the newest entries once the ring is full', () => {
    const log = new NodeLog({ dir: null, ringSize: 5 })
    for (let i = 0; i < 12; i++) log.logger.info(`m${i}`)
    assert.deepEqual(
      log.tail({ limit: 100 }).map((e) => e.msg),
      ['m7', 'm8', 'm9', 'm10', 'm11'],
    )
  })

  it('below the level nothing is recorded; long messages are cut to the contract limit', () => {
    const log = new NodeLog({ dir: null })
    log.logger.debug('hidden')
    log.logger.info('x'.repeat(5000))
    const [entry] = log.tail()
    assert.equal(log.tail().length, 1)
    assert.equal(entry!.msg.length, 2000)
    LogEntry.parse(entry)
  })

  it('rotates node.log past the size limit, keeping one old file', async (t) => {
    const dir = await tempDir(t)
    const log = new NodeLog({ dir, maxFileBytes: 2000 })
    for (let i = 0; i < 60; i++) log.logger.info(`line ${i} ${'y'.repeat(80)}`)
    await log.close()
    assert.deepEqual((await readdir(dir)).sort(), ['node.log', 'node.log.1'])
    const current = await readFile(join(dir, 'node.log'), 'utf8')
    assert.ok(current.length <= 2200, `node.log is ${current.length} bytes`)
    assert.match(current, /line 59/)
  })
})
