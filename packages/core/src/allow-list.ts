import ipaddr from 'ipaddr.js'
import { parseAddress } from './keys.js'
import { callRequestFunction, checkedBoolean } from './request-functions.js'
import type { RequestView, ResolvedAllowList } from './types.js'
import { invalid } from './validate.js'

type Address = ipaddr.IPv4 | ipaddr.IPv6
type Range = readonly [Address, number]

const ENTRY = "an IP address or a CIDR range, such as '203.0.113.7', '10.0.0.0/8' or '2001:db8::/32'"

/**
 * One entry, strictly: a four-part decimal IPv4 address (no `010.0.0.1`, which ipaddr.js reads
 * as octal) or an IPv6 address, with an optional prefix length. An IPv4-mapped IPv6 entry is its
 * IPv4 address, as a request's address is when it is keyed.
 */
function parseEntry(entry: unknown, option: string): Range {
  if (typeof entry !== 'string') throw invalid(option, entry, `expected ${ENTRY}`)
  const slash = entry.indexOf('/')
  const address = slash === -1 ? entry : entry.slice(0, slash)
  const bits = slash === -1 ? undefined : entry.slice(slash + 1)
  const v4 = ipaddr.IPv4.isValidFourPartDecimal(address)
  if ((!v4 && !ipaddr.IPv6.isValid(address)) || (bits !== undefined && !/^\d{1,3}$/.test(bits))) {
    throw invalid(option, entry, `expected ${ENTRY}`)
  }
  const parsed: Address = v4 ? ipaddr.IPv4.parse(address) : ipaddr.IPv6.parse(address)
  const width = v4 ? 32 : 128
  const length = bits === undefined ? width : Number(bits)
  if (length > width) throw invalid(option, entry, `expected a prefix length of at most ${width}`)
  if (parsed instanceof ipaddr.IPv6 && parsed.isIPv4MappedAddress() && length >= 96) {
    return [parsed.toIPv4Address(), length - 96]
  }
  return [parsed, length]
}

const checkedVerdict = checkedBoolean('allowList')

/**
 * `allowList`, resolved once: a list's entries are parsed here (an invalid one is an option
 * error naming `allowList[i]`), a function is called per request like `skip`. Undefined for no
 * list, or an empty one.
 */
export function resolveAllowList<Req>(value: unknown): ResolvedAllowList<Req> | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'function') {
    const allowed = value as (request: Req) => unknown
    return Object.freeze({
      byAddress: false,
      allows: (request: Req) => callRequestFunction('allowList', () => allowed(request), checkedVerdict),
    })
  }
  if (!Array.isArray(value)) {
    throw invalid('allowList', value, `expected an array of IP addresses and CIDR ranges, or a function (request) => boolean`)
  }
  const ranges = value.map((entry: unknown, i) => parseEntry(entry, `allowList[${i}]`))
  if (ranges.length === 0) return undefined
  const v4 = ranges.filter(([address]) => address.kind() === 'ipv4') as (readonly [ipaddr.IPv4, number])[]
  const v6 = ranges.filter(([address]) => address.kind() === 'ipv6') as (readonly [ipaddr.IPv6, number])[]
  return Object.freeze({
    byAddress: true,
    // The client address as keys read it (port forms stripped, IPv4-mapped IPv6 as IPv4); a
    // request with none, or whose address is a trusted proxy's own (`view.ip` is then
    // undefined), is nobody's and never allow-listed.
    allows: (_request: Req, view: RequestView) => {
      const address = view.ip === undefined ? undefined : parseAddress(view.ip)
      if (address === undefined) return false
      if (address instanceof ipaddr.IPv4) return v4.some(([range, bits]) => address.match(range, bits))
      return v6.some(([range, bits]) => address.match(range, bits))
    },
  })
}
