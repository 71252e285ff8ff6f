/** The node of a plain client; a cluster's nodes are named `host:port`, as ioredis names them. */
export const SINGLE_NODE = 'redis'
