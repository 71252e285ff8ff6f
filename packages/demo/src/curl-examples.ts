import { API_KEY_HEADER, type KeyMode } from '@sluice/loadtest/policy'

/** What to type while `--keep` holds the cluster up. */
export function curlExamples(gatewayUrl: string, replicas: readonly { id: string; port: number }[], keyMode: KeyMode): string {
  const key = keyMode === 'api-key' ? ` -H '${API_KEY_HEADER}: alice'` : ''
  const first = replicas[0]
  return [
    'Try it:',
    `  curl -i${key} ${gatewayUrl}/                       # see X-Instance-Id and the X-RateLimit-* headers`,
    `  for i in $(seq 1 150); do curl -s -o /dev/null -w '%{http_code} '${key} ${gatewayUrl}/; done; echo   # 200s, then 429s`,
    keyMode === 'ip'
      ? `  curl -i -H 'X-Forwarded-For: 203.0.113.7' ${gatewayUrl}/   # a forged address: still your own bucket`
      : `  curl -i -H '${API_KEY_HEADER}: bob' ${gatewayUrl}/          # another key, another bucket`,
    ...(first === undefined
      ? []
      : [`  curl ${`http://127.0.0.1:${first.port}/health`}             # ${first.id} directly; /health is never limited`]),
  ].join('\n')
}
