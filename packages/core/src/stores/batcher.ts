/**
 * Coalesces calls made during one event-loop turn into one flush per group. A flush is
 * scheduled with `setImmediate`, which runs after the poll phase: every request whose bytes
 * arrived in that turn joins the same batch, at the cost of at most one turn of latency.
 *
 * Each call brings its deadline (monotonic ms); a batch is flushed with the earliest of its
 * calls', so the one timer the flush sets answers for all of them.
 */
export class Batcher<In, Out> {
  readonly #flush: (items: In[], deadlineMs: number) => Promise<readonly Out[]>
  readonly #groupOf: (item: In) => string | number
  readonly #maxBatch: number
  #pending = new Map<string | number, Entry<In, Out>[]>()
  #scheduled = false

  constructor(
    flush: (items: In[], deadlineMs: number) => Promise<readonly Out[]>,
    groupOf: (item: In) => string | number,
    maxBatch: number,
  ) {
    this.#flush = flush
    this.#groupOf = groupOf
    this.#maxBatch = maxBatch
  }

  push(item: In, deadlineMs: number): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      const group = this.#groupOf(item)
      let queue = this.#pending.get(group)
      if (queue === undefined) {
        queue = []
        this.#pending.set(group, queue)
      }
      queue.push({ item, deadlineMs, resolve, reject })
      if (!this.#scheduled) {
        this.#scheduled = true
        setImmediate(() => this.#drain())
      }
    })
  }

  #drain(): void {
    const pending = this.#pending
    this.#pending = new Map()
    this.#scheduled = false
    for (const queue of pending.values()) {
      for (let start = 0; start < queue.length; start += this.#maxBatch) {
        this.#send(queue.slice(start, start + this.#maxBatch))
      }
    }
  }

  #send(batch: Entry<In, Out>[]): void {
    let deadlineMs = Number.POSITIVE_INFINITY
    const items: In[] = []
    for (const entry of batch) {
      items.push(entry.item)
      if (entry.deadlineMs < deadlineMs) deadlineMs = entry.deadlineMs
    }
    this.#flush(items, deadlineMs).then(
      (outs) => {
        for (let i = 0; i < batch.length; i++) batch[i]!.resolve(outs[i]!)
      },
      (error: unknown) => {
        for (const entry of batch) entry.reject(error)
      },
    )
  }
}

interface Entry<In, Out> {
  readonly item: In
  readonly deadlineMs: number
  resolve(out: Out): void
  reject(error: unknown): void
}
