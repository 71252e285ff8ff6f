import { describe, expect, it } from 'vitest'
import { fillBlock, parseTemplate } from '../../src/template.js'

const blocks = parseTemplate(
  ['<!-- template: a -->', '', '# {{title}}', '', '{{note}}', '', 'Text {{n}}.', '', '<!-- template: b -->', 'b'].join('\n'),
)

describe('the report template', () => {
  it('fills slots, and drops a line that is only a slot left empty', () => {
    expect(fillBlock(blocks, 'a', { title: 'T', note: 'N', n: 3 })).toBe('# T\n\nN\n\nText 3.')
    expect(fillBlock(blocks, 'a', { title: 'T', note: '', n: 3 })).toBe('# T\n\n\nText 3.')
    expect(fillBlock(blocks, 'b')).toBe('b')
  })

  it('names a slot not given, one given and not in the block, and a block that does not exist', () => {
    expect(() => fillBlock(blocks, 'a', { title: 'T', n: 1 })).toThrow('template block a: no value for {{note}}')
    expect(() => fillBlock(blocks, 'b', { extra: 1 })).toThrow('template block b has no {{extra}}')
    expect(() => fillBlock(blocks, 'c')).toThrow('no template block c')
  })

  it('refuses a block declared twice', () => {
    expect(() => parseTemplate('<!-- template: a -->\n<!-- template: a -->')).toThrow('template block a is declared twice')
  })
})
