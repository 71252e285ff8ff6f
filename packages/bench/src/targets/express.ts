import type { TargetOptions, TargetServer } from './catalog.js'
import { expressTarget } from './express-app.js'

/** Express 5 with no limiter: the ceiling of the Express scenario. */
export function build(_options: TargetOptions): Promise<TargetServer> {
  return expressTarget(() => {})
}
