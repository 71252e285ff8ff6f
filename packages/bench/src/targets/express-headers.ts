import type { TargetOptions, TargetServer } from './catalog.js'
import { expressTarget } from './express-app.js'
import { sluiceResponse } from './sluice-response.js'

/** Express 5 sending the quota headers Sluice sends with a 200, as constants, and no limiter. */
export async function build(options: TargetOptions): Promise<TargetServer> {
  const headers = Object.entries((await sluiceResponse(options.limits, 'allowed')).headers)
  return expressTarget(() => {}, {
    handler: (_request, response) => {
      for (const [name, value] of headers) response.setHeader(name, value)
      response.send('ok')
    },
  })
}
