import { describe, expect, it } from 'vitest'
import { sumRequests } from '../../src/metrics-scrape.js'

describe('sumRequests', () => {
  it('sums sluice_requests_total over replicas by outcome and by source', () => {
    const a = [
      '# HELP sluice_requests_total Requests checked',
      '# TYPE sluice_requests_total counter',
      'sluice_requests_total{route="GET /",outcome="allowed",source="store",instance="replica-1"} 10',
      'sluice_requests_total{route="GET /",outcome="denied",source="store",instance="replica-1"} 5',
      'sluice_policy_checks_total{route="GET /",policy="default",result="allowed",shadow="false"} 10',
    ].join('\n')
    const b = 'sluice_requests_total{route="GET /",outcome="allowed",source="local",instance="replica-2"} 3\n'
    expect(sumRequests([a, b])).toEqual({ byOutcome: { allowed: 13, denied: 5 }, bySource: { store: 15, local: 3 } })
  })
})
