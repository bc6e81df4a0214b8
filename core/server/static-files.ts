/**
 * The built UI (out/renderer) served to a plain browser by the headless daemon. A single-page app:
 * a path without a file extension that is not a file gets index.html, so client-side routes
 * survive a reload. Nothing outside the UI directory is ever served: the decoded path must stay
 * inside it, and so must its real path (a symlink pointing out is refused too).
 */
import { createReadStream } from 'node:fs'
import { realpath, stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
}

export function contentType(file: string): string {
  return TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream'
}

/** The page's policy: our scripts only, and connections back to this very server only. */
export function contentSecurityPolicy(host: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    `connect-src 'self' ws://${host}`,
    "img-src 'self' data:",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ')
}

type Send = (status: number, body: string, type?: string) => void

/** Serves GET/HEAD of `pathname` from `root`; answers 404/403/400 itself. */
export async function serveStatic(
  req: IncomingMessage,
  res: ServerResponse,
  root: string | null,
  pathname: string,
  send: Send,
): Promise<void> {
  if (root === null) return send(404, 'The UI is not built (npm run build).\n', 'text/plain')
  let decoded: string
  try {
    decoded = decodeURIComponent(pathname)
  } catch {
    return send(400, 'bad path\n', 'text/plain')
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return send(400, 'bad path\n', 'text/plain')
  const base = resolve(root)
  const wanted = resolve(base, `.${decoded === '/' ? '/index.html' : decoded}`)
  if (!inside(base, wanted)) return send(403, 'forbidden path\n', 'text/plain')

  let file = await existingFile(wanted)
  if (file === null && extname(decoded) === '') file = await existingFile(join(base, 'index.html'))
  if (file === null) return send(404, 'not found\n', 'text/plain')
  // The real path must be inside the real root too (a symlink in the UI dir pointing out).
  const realBase = await realpath(base)
  const realFile = await realpath(file)
  if (!inside(realBase, realFile)) return send(403, 'forbidden path\n', 'text/plain')

  const info = await stat(realFile)
  const type = contentType(realFile)
  const headers: Record<string, string | number> = {
    'content-type': type,
    'content-length': info.size,
    // index.html names the hashed bundles of the current build: never serve a stale one.
    'cache-control': type.startsWith('text/html') ? 'no-store' : 'no-cache',
  }
  if (type.startsWith('text/html')) {
    headers['content-security-policy'] = contentSecurityPolicy(req.headers.host ?? '127.0.0.1')
  }
  // Merged with what the caller set (api-server.ts: nosniff, CORP and the other common headers).
  res.writeHead(200, headers)
  if (req.method === 'HEAD') {
    res.end()
    return
  }
  await new Promise<void>((done) => {
    const stream = createReadStream(realFile)
    // The file went away or became unreadable mid-answer (a rebuild): the headers are out, so
    // the only honest answer left is a cut connection; the browser retries the asset.
    stream.on('error', () => {
      res.destroy()
      done()
    })
    stream.on('end', () => done())
    stream.pipe(res)
  })
}

function inside(base: string, path: string): boolean {
  const rel = relative(base, path)
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel))
}

async function existingFile(path: string): Promise<string | null> {
  try {
    return (await stat(path)).isFile() ? path : null
  } catch {
    return null // missing or unreadable: the caller answers 404 (or the SPA's index.html)
  }
}
