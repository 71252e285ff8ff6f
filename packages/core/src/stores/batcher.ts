/**
 * Coalesces calls made during one event-loop turn into one flush per group. A flush is
 * scheduled with `setImmediate`, which runs after the poll phase: every request whose bytes
 * arrived in that turn joins the same batch, at the cost of at most one turn of latency.
 */
export class Batcher<In, Out> {
  readonly #flush: (items: In[]) => Promise<Out[]>
  readonly #groupOf: (item: In) => string | number
  readonly #maxBatch: number
  #pending = new Map<string | number, Array<{ item: In; resolve: (out: Out) => void; reject: (error: unknown) => void }>>()
  #scheduled = false

  constructor(flush: (items: In[]) => Promise<Out[]>, groupOf: (item: In) => string | number, maxBatch: number) {
    this.#flush = flush
    this.#groupOf = groupOf
    this.#maxBatch = maxBatch
  }

  push(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      const group = this.#groupOf(item)
      let queue = this.#pending.get(group)
      if (queue === undefined) {
        queue = []
        this.#pending.set(group, queue)
      }
      queue.push({ item, resolve, reject })
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
        const slice = queue.slice(start, start + this.#maxBatch)
        this.#flush(slice.map((entry) => entry.item)).then(
          (outs) => {
            for (let i = 0; i < slice.length; i++) slice[i]!.resolve(outs[i]!)
          },
          (error: unknown) => {
            for (const entry of slice) entry.reject(error)
          },
        )
      }
    }
  }
}
