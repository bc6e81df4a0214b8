/**
 * Debian's Chromium driven by playwright-core (never a downloaded browser). The flags keep it off
 * the network: this machine reaches nothing but loopback, and Chromium's background services would
 * otherwise retry outside connections on every start.
 */
import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

export const chromiumPath = process.env['TANDEM_CHROMIUM'] ?? '/usr/bin/chromium'

/** A reason to skip browser tests, or undefined when Chromium is there. */
export const chromiumMissing = existsSync(chromiumPath)
  ? undefined
  : `Chromium not found at ${chromiumPath} (install Debian's chromium package, or set TANDEM_CHROMIUM)`

const quietFlags = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
]

/** WebGPU through SwiftShader (a CPU Vulkan emulation): lets CI exercise the WebGPU code path. */
export const webgpuFlags = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--disable-vulkan-surface',
]

export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  const args = extraArgs.includes('--enable-unsafe-webgpu')
    ? [...quietFlags.filter((f) => f !== '--disable-gpu'), ...extraArgs]
    : [...quietFlags, ...extraArgs]
  return chromium.launch({ executablePath: chromiumPath, headless: true, args })
}
