import { ActionError } from '../../src/errors.js'
import { previewSuffix, resourceNames } from '../../src/names.js'

describe('resource names', () => {
  it('uses cargo-pmcp names in production', () => {
    expect(resourceNames('weather', 'production')).toEqual({ stage: 'production', stackName: 'weather-stack', functionName: 'weather' })
  })

  it('names a PR preview after its number', () => {
    expect(resourceNames('weather', 'preview', '17')).toEqual({
      stage: 'preview',
      stackName: 'weather-pr17-stack',
      functionName: 'weather-pr17'
    })
  })

  it('sanitises branch-like preview ids', () => {
    expect(previewSuffix('Feature/Add_OAuth!!')).toBe('feature-add-oauth')
    expect(() => previewSuffix('///')).toThrow(ActionError)
  })

  it('keeps function names within 64 characters, distinct for distinct long ids', () => {
    const server = 'a'.repeat(48)
    const one = resourceNames(server, 'preview', 'feature/very-long-branch-name-number-one')
    const two = resourceNames(server, 'preview', 'feature/very-long-branch-name-number-two')
    expect(one.functionName.length).toBeLessThanOrEqual(64)
    expect(two.functionName.length).toBeLessThanOrEqual(64)
    expect(one.functionName).not.toBe(two.functionName)
    expect(one.functionName).toMatch(/^a{48}-[a-z0-9-]+$/)
    expect(one.stackName).toBe(`${one.functionName}-stack`)
  })

  it('fits a preview of a 64-character server name into 64 characters, apart from production', () => {
    const server = `w${'x'.repeat(63)}`
    const names = resourceNames(server, 'preview', '7')
    expect(names.functionName).toHaveLength(64)
    expect(names.functionName).not.toBe(server)
    expect(names.functionName).toBe(resourceNames(server, 'preview', '7').functionName)
    expect(names.functionName).not.toBe(resourceNames(server, 'preview', '8').functionName)
    expect(names.stackName).toBe(`${names.functionName}-stack`)
  })

  it('refuses a preview without an id', () => {
    expect(() => resourceNames('weather', 'preview')).toThrow(/preview-id/)
  })
})
