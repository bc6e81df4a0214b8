/**
 * Pre-flight: can this machine contribute? The backend training would use, free memory and disk,
 * and the network, with the problems that stop it (contract Preflight).
 */
import { statfs } from 'node:fs/promises'
import { freemem, totalmem } from 'node:os'
import type { BackendReport, Preflight } from '../api/contract.js'

export interface PreflightInput {
  backend: BackendReport
  /** Where datasets and update cores are stored. */
  dataDir: string
  /** The disk cap setting, bytes. */
  diskCapBytes: number
  network: { online: boolean; peers: number }
}

const MIN_FREE_DISK = 512 * 1024 * 1024
const MIN_FREE_MEMORY = 256 * 1024 * 1024

export async function preflight(input: PreflightInput): Promise<Preflight> {
  const problems: string[] = []
  if (input.backend.chosen === 'none') problems.push('no usable training backend')
  let freeBytes = 0
  try {
    const fs = await statfs(input.dataDir)
    freeBytes = fs.bavail * fs.bsize
  } catch {
    problems.push(`cannot read free disk space of ${input.dataDir}`)
  }
  if (freeBytes > 0 && freeBytes < Math.min(input.diskCapBytes, MIN_FREE_DISK))
    problems.push(`only ${Math.round(freeBytes / 2 ** 20)} MiB free on disk`)
  if (freemem() < MIN_FREE_MEMORY) problems.push('less than 256 MiB of memory free')
  return {
    backend: input.backend,
    memory: { totalBytes: totalmem(), freeBytes: freemem() },
    disk: { path: input.dataDir, freeBytes },
    network: input.network,
    canHelp: problems.length === 0,
    problems,
  }
}
