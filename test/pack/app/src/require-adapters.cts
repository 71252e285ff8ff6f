// A CommonJS app: tsc compiles these imports to require() calls, which Node ≥ 20.19 answers
// with the ES modules the packages are.
import { SluiceOptionError } from '@sluice/core'
import { rateLimit as expressRateLimit } from '@sluice/express'
import fastifyPlugin, { rateLimit as fastifyRateLimit } from '@sluice/fastify'
import express from 'express'
import Fastify from 'fastify'

async function main(): Promise<void> {
  const app = Fastify()
  await app.register(fastifyRateLimit, { capacity: 1, refillPerSecond: 0.001 })
  app.get('/', async () => 'ok')
  const statuses = [(await app.inject('/')).statusCode, (await app.inject('/')).statusCode]
  await app.close()

  // One copy of the core, whatever loaded it: the adapter's errors are the app's own classes.
  let optionError: unknown
  try {
    express().use(expressRateLimit({ capacity: 0, refillPerSecond: 1 }))
  } catch (error) {
    optionError = error
  }
  console.log(
    JSON.stringify({
      fastify: { default: typeof fastifyPlugin, sameAsNamed: fastifyPlugin === fastifyRateLimit },
      statuses,
      optionError: optionError instanceof SluiceOptionError ? optionError.option : String(optionError),
    }),
  )
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
