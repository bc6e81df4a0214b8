/** Numbers, sizes, durations and keys as people read them. */

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

export function formatBytes(bytes: number): string {
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024
    unit++
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1
  return `${value.toFixed(digits)} ${BYTE_UNITS[unit]}`
}

export function formatDuration(totalSec: number): string {
  const sec = Math.max(0, Math.round(totalSec))
  if (sec < 60) return `${sec} s`
  const min = Math.floor(sec / 60)
  if (min < 60) return `${min} min ${sec % 60} s`
  const h = Math.floor(min / 60)
  if (h < 48) return `${h} h ${min % 60} min`
  return `${Math.floor(h / 24)} d ${h % 24} h`
}

const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 })
const plain = new Intl.NumberFormat('en', { maximumFractionDigits: 1 })
const precise = new Intl.NumberFormat('en', { maximumFractionDigits: 4 })

export const formatCount = (n: number): string => compact.format(n)
export const formatNumber = (n: number): string => plain.format(n)
export const formatLoss = (n: number | null): string => (n === null ? '—' : precise.format(n))
export const formatPercent = (fraction: number): string => `${Math.round(fraction * 100)}%`

export function formatRate(bytesPerSec: number): string {
  return `${formatBytes(bytesPerSec)}/s`
}

export function formatTime(ms: number): string {
  return new Date(ms).toLocaleTimeString(undefined, { hour12: false })
}

/** Date and time to the minute; `seconds` where seconds matter (arrival against a deadline). */
export function formatDateTime(ms: number, { seconds = false } = {}): string {
  return new Date(ms).toLocaleString(undefined, {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    ...(seconds ? { second: '2-digit' as const } : {}),
    hour12: false,
  })
}

/** Enough of a 64-hex key to tell keys apart at a glance; the full key is in a title/tooltip. */
export function shortKey(hex: string): string {
  return hex.length > 12 ? `${hex.slice(0, 8)}…${hex.slice(-4)}` : hex
}

export function lossChange(before: number | null, after: number | null): string {
  if (before === null || after === null) return '—'
  const delta = after - before
  const sign = delta > 0 ? '+' : delta < 0 ? '−' : '±'
  return `${sign}${precise.format(Math.abs(delta))}`
}
