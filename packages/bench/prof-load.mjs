import { runPacedLoad } from './dist/paced-load.js'

const r = await runPacedLoad({
  url: `http://127.0.0.1:${process.env.PORT}/`,
  rate: 10000,
  seconds: 6,
  connections: 50,
  keys: { kind: 'one', key: 'k1' },
})
console.log(JSON.stringify({ sent: r.sent, statuses: r.statuses }))
