import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { drivers } from '../support/drivers.js'
import { rawGet } from '../support/http.js'
import { recordingLogger } from '../support/recording-logger.js'
import { regressionSuite } from '../support/regression-suite.js'

// Behind a proxy on a unix socket the framework has no client address, and every client landed
// in one `ip:unknown` bucket, silently. The shared bucket stays (the backend stays protected),
// but it is said out loud: a coded warning, once per limiter, and a counter.
const suite = regressionSuite()
const dir = mkdtempSync(join(tmpdir(), 'sluice-unix-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let sockets = 0

describe.each(drivers)('$name', (driver) => {
  it('checks requests with no address against one shared bucket, and says so once', async () => {
    const logger = recordingLogger()
    const app = await suite.start(driver, { capacity: 2, logger }, [], { socketPath: join(dir, `app-${++sockets}.sock`) })
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push((await rawGet(app, '/')).status)
    expect(statuses).toEqual([200, 200, 429, 429])
    expect(logger.codes.filter((c) => c === 'SLUICE_UNKNOWN_IP')).toHaveLength(1)
    expect(logger.lines.find((e) => e.object.code === 'SLUICE_UNKNOWN_IP')!.message).toContain('trust-proxy')
    expect(app.stats().unknownIp).toBe(4)
  })

  it('counts nothing when every request has an address', async () => {
    const logger = recordingLogger()
    const app = await suite.start(driver, { capacity: 2, logger })
    await rawGet(app, '/')
    expect(app.stats().unknownIp).toBe(0)
    expect(logger.codes).not.toContain('SLUICE_UNKNOWN_IP')
  })
})
