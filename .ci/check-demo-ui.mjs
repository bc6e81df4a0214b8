#!/usr/bin/env node
// Run by .ci/run right after the README's install command and before `npm test` builds anything:
// a fresh clone's `npm run demo` must serve the real UI page, as a new user would open it. Starts the
// demo with one simulated contributor, reads the URL it prints, fetches the page and its script,
// then stops the demo with Ctrl-C (SIGINT) as the README says. Exits non-zero with the reason.
import { spawn } from 'node:child_process'

const deadlineMs = 120_000
const demo = spawn('npm', ['run', '--silent', 'demo', '--', '--no-window', '--contributors', '1'], {
  detached: true,
  stdio: ['ignore', 'pipe', 'inherit'],
})
const exited = new Promise((resolve) => demo.on('exit', (code, signal) => resolve(code ?? signal)))

function fail(why) {
  console.error(`check-demo-ui: ${why}`)
  process.exitCode = 1
}

const url = await new Promise((resolve) => {
  let seen = ''
  const timer = setTimeout(() => resolve(null), deadlineMs)
  demo.stdout.setEncoding('utf8')
  demo.stdout.on('data', (chunk) => {
    process.stdout.write(chunk)
    seen += chunk
    const m = /open the UI: (http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(seen)
    if (m) {
      clearTimeout(timer)
      resolve(m[1])
    }
  })
  exited.then(() => resolve(null))
})

try {
  if (url === null) {
    fail(`the demo printed no UI URL within ${deadlineMs / 1000} s`)
  } else {
    const page = await fetch(url)
    const html = await page.text()
    const script = /<script[^>]+src="\.?\/?(assets\/[^"]+\.js)"/.exec(html)
    if (page.status !== 200) fail(`GET ${new URL(url).pathname} answered ${page.status}: ${html}`)
    else if (!script) fail(`the page is not the built UI: ${html.slice(0, 200)}`)
    else {
      const js = await fetch(new URL(script[1], url))
      const body = await js.text()
      if (js.status !== 200 || body.length < 10_000) {
        fail(`the UI script ${script[1]} answered ${js.status} with ${body.length} bytes`)
      } else {
        console.log(`check-demo-ui: the demo serves the built UI (${script[1]}, ${body.length} B)`)
      }
    }
  }
} finally {
  process.kill(-demo.pid, 'SIGINT')
  const killer = setTimeout(() => process.kill(-demo.pid, 'SIGKILL'), 30_000)
  await exited
  clearTimeout(killer)
}
