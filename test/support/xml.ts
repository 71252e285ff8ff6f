/**
 * Whether a generated SVG is well-formed XML, without an XML parser among the dependencies: one
 * root element, every tag closed in order, every attribute quoted, only the five predefined
 * entities (and numeric ones). Returns the problems found: none for a well-formed document.
 */
export function xmlProblems(text: string): string[] {
  const problems: string[] = []
  const open: string[] = []
  let roots = 0
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/g
  let at = 0
  for (let match = tag.exec(text); match !== null; match = tag.exec(text)) {
    checkText(text.slice(at, match.index), problems)
    at = tag.lastIndex
    const [, closing, name, , selfClosing] = match
    if (closing === '/') {
      const expected = open.pop()
      if (expected !== name) problems.push(`</${name}> closes <${expected ?? 'nothing'}>`)
      continue
    }
    if (open.length === 0) roots++
    if (selfClosing !== '/') open.push(name!)
  }
  checkText(text.slice(at), problems)
  if (open.length > 0) problems.push(`unclosed: ${open.join(', ')}`)
  if (roots !== 1) problems.push(`${roots} root elements`)
  return problems
}

function checkText(text: string, problems: string[]): void {
  // Anything left that looks like markup was not a tag the pattern accepts: a malformed one.
  if (/[<>]/.test(text)) problems.push(`malformed markup near ${JSON.stringify(text.slice(0, 60))}`)
  for (const entity of text.match(/&[^;\s]*;?/g) ?? []) {
    if (!/^&(amp|lt|gt|quot|apos|#\d+|#x[\da-fA-F]+);$/.test(entity)) problems.push(`bad entity ${entity}`)
  }
}
