// An adapter author's use of `@sluice/core/adapter`: the limiter on a bare node:http server.
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ErrorCodes, type LimiterOptions, SluiceOptionError } from '@sluice/core'
import { createLimiter, requestView } from '@sluice/core/adapter'

type Req = { readonly ip: string | undefined; readonly headers: Record<string, string | string[] | undefined> }

const options: LimiterOptions<Req> = { capacity: 1, refillPerSecond: 0.001 }
const route = createLimiter<Req>(options).forRoute(undefined, '*', '*')!

const server = createServer(async (req, res) => {
  const request: Req = { ip: req.socket.remoteAddress, headers: req.headers }
  const decision = await route.check(request, requestView(request))
  if (decision === undefined) return void res.end('ok') // skipped: no check
  for (const [name, value] of Object.entries(decision.headers)) res.setHeader(name, value)
  if (decision.deny === undefined) return void res.end('ok')
  res.writeHead(decision.deny.status, { 'content-type': decision.deny.contentType }).end(decision.deny.body)
})
server.listen(0, '127.0.0.1')
await once(server, 'listening')
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
const statuses: number[] = []
for (let i = 0; i < 2; i++) statuses.push((await fetch(url, { headers: { connection: 'close' } })).status)
server.close()
await once(server, 'close')

let optionError: string | undefined
try {
  createLimiter<Req>({ capacity: 0, refillPerSecond: 1 })
} catch (error) {
  if (error instanceof SluiceOptionError && error.code === ErrorCodes.INVALID_OPTION) optionError = error.option
}
console.log(JSON.stringify({ statuses, optionError }))
