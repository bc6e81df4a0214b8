/**
 * "The model for everyone" (docs/governance.md): a project's verified checkpoint written as a
 * safetensors file (core/engine/safetensors.ts) with a model card beside it, if the charter in
 * effect at that round lets this node download the weights: `everyone`, `contributors` (this node
 * has accepted work in the project, or hosts it) or `nobody`. A project without a charter states
 * no licence, so its weights are not exported (EXPORT_NOT_ALLOWED).
 */
import type Hypercore from 'hypercore'
import { TandemError } from '../api/errors.js'
import { encodeSafetensors, weightsToTensors } from '../engine/safetensors.js'
import type { VerifyReport } from '../host/verify.js'
import { effectiveManifest } from '../ledger/governance.js'
import { readCheckpoint, type LedgerState } from '../ledger/reader.js'
import { writeFileAtomic } from './atomic-file.js'

export interface ExportOptions {
  ledger: Hypercore
  state: LedgerState
  /** The checkpoint to export (default: the latest). */
  round?: number
  /** Where the .safetensors file goes; the card is the same path with .md. */
  path: string
  /** This node's key, for a charter that lets contributors download. */
  me: string
  /** The node hosts the project. */
  hosting?: boolean
  /** The verification of the ledger, for the card (null: not verified). */
  verify: VerifyReport | null
  /** The dataset's class names by index (header `labels.names`), for the card and metadata. */
  classNames?: readonly string[] | null
  timeoutMs?: number
}

export interface ExportResult {
  path: string
  cardPath: string
  bytes: number
  round: number
  verified: boolean
}

export async function exportModel(o: ExportOptions): Promise<ExportResult> {
  const round = o.round ?? o.state.rounds.length - 1
  if (!o.state.rounds[round])
    throw new TandemError('NOT_FOUND', `the ledger has no checkpoint of round ${round}`)
  const manifest = effectiveManifest(o.state, round)
  const charter = manifest.charter
  const closed = o.state.rounds.filter((r) => r.round < round && r.receipt).map((r) => r.receipt!)
  const contributors = new Set(
    closed.flatMap((r) => r.contributions.filter((c) => c.accepted).map((c) => c.contributor)),
  )
  if (!charter)
    throw new TandemError(
      'EXPORT_NOT_ALLOWED',
      'the project has no charter: its weights have no licence',
    )
  const who = charter.weights.download
  if (who === 'nobody')
    throw new TandemError('EXPORT_NOT_ALLOWED', 'the charter lets nobody download the weights')
  if (who === 'contributors' && !o.hosting && !contributors.has(o.me))
    throw new TandemError(
      'EXPORT_NOT_ALLOWED',
      'the charter lets only contributors download the weights, and this node has no accepted work',
    )
  const ckpt = await readCheckpoint(o.ledger, o.state, round, {
    wait: true,
    timeout: o.timeoutMs ?? 30_000,
  })
  const project = o.ledger.key!.toString('hex')
  const verified = Boolean(o.verify?.ok)
  const file = encodeSafetensors(weightsToTensors(manifest.model, ckpt.weights), {
    'tandem.project': project,
    'tandem.round': String(round),
    'tandem.checkpoint': ckpt.contentHash,
    'tandem.model': JSON.stringify(manifest.model),
    'tandem.verified': String(verified),
    license: charter.weights.licence,
    ...(o.classNames ? { 'tandem.classes': JSON.stringify(o.classNames) } : {}),
  })
  const cardPath = o.path.replace(/\.safetensors$/i, '') + '.md'
  const verifyLine = !o.verify
    ? 'not verified'
    : o.verify.ok
      ? `verified: all ${o.verify.rounds.length} closed round(s) replay exactly (tandem verify)`
      : `verification FAILED: ${o.verify.rounds.filter((r) => !r.ok).length} round(s) with problems`
  const card = [
    `# ${manifest.name} — round ${round}`,
    '',
    manifest.description,
    '',
    `- Purpose: ${charter.purpose}`,
    `- Must not be used for: ${charter.prohibitedUses.join('; ') || '(none stated)'}`,
    `- Licence of the weights: ${charter.weights.licence} (download: ${who})`,
    `- Data: ${charter.dataSources.map((d) => `${d.name} (${d.licence}${d.url ? `, ${d.url}` : ''})`).join('; ')}`,
    `- Accountable host: ${charter.host.name} <${charter.host.contact}>, ledger key ${manifest.host}`,
    `- Project: ${project}`,
    `- Rounds trained: ${closed.length}; contributors with accepted work: ${contributors.size}`,
    `- Checkpoint: ${ckpt.contentHash}`,
    `- Model: \`${JSON.stringify(manifest.model)}\``,
    ...(o.classNames ? [`- Classes (by output index): ${o.classNames.join(', ')}`] : []),
    `- ${verifyLine}`,
    '',
  ].join('\n')
  await writeFileAtomic(o.path, file)
  await writeFileAtomic(cardPath, card)
  return { path: o.path, cardPath, bytes: file.byteLength, round, verified }
}
