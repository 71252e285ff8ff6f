import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { type HtmlExtras, renderHtml } from './html.js'
import type { Report } from './types.js'

/** Write the HTML report to `dir` (git-ignored `reports/` by default); resolves with its path. */
export async function writeHtmlReport(reports: Report | readonly Report[], dir = 'reports', extras: HtmlExtras = {}): Promise<string> {
  const folder = resolve(dir)
  await mkdir(folder, { recursive: true })
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19)
  const path = join(folder, `sluice-loadtest-${stamp}.html`)
  await writeFile(path, renderHtml(reports, extras))
  return path
}
