import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { createRequire } from 'node:module'

/**
 * Express 5, typed by hand. @types/express is not a dependency of this package yet, and an
 * `import ... from 'express'` without it fails the type check here and in the root typecheck;
 * these are the few members the targets use. Once @types/express is installed here,
 * `import express, { type RequestHandler } from 'express'` replaces this file.
 */
export type Request = IncomingMessage
export interface Response extends ServerResponse {
  send(body: string): this
}
export type RequestHandler = (request: Request, response: Response, next: (error?: unknown) => void) => unknown
export interface ExpressApp {
  use(handler: RequestHandler): this
  get(path: string, handler: RequestHandler): this
  listen(port: number, host: string): Server
}

export const express = createRequire(import.meta.url)('express') as () => ExpressApp
