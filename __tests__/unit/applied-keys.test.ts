/** deploy.toml keys that reach the deploy: [build] no_default_features and [aws] account_id. */
import { describe, expect, it } from '@jest/globals'
import { checkExpectedAccount } from '../../src/aws/session.js'
import { cargoLambdaArgs } from '../../src/build/index.js'
import { ActionError } from '../../src/errors.js'

const crate = {
  package: 'hello-lambda',
  binary: 'bootstrap',
  packageDir: '/w',
  selectPackage: false,
  selectBinary: false,
  targetDirectory: '/w/target',
  reason: 'test'
}

describe('[build] no_default_features', () => {
  it('turns the default features off before the listed ones are added', () => {
    expect(cargoLambdaArgs(crate, 'arm64', ['db'], true)).toEqual([
      'lambda',
      'build',
      '--release',
      '--arm64',
      '--no-default-features',
      '--features=db'
    ])
    expect(cargoLambdaArgs(crate, 'x86_64', [], false)).toEqual(['lambda', 'build', '--release', '--x86-64'])
  })
})

describe('[aws] account_id', () => {
  it('lets the run go on in the account it names, or when it names none', () => {
    expect(() => checkExpectedAccount('123456789012', '123456789012', '.pmcp/deploy.toml')).not.toThrow()
    expect(() => checkExpectedAccount('123456789012', undefined, '.pmcp/deploy.toml')).not.toThrow()
  })

  it('stops credentials of another account, naming both accounts and the file', () => {
    let error: unknown
    try {
      checkExpectedAccount('210987654321', '123456789012', '.pmcp/deploy.toml')
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ActionError)
    expect((error as ActionError).title).toBe('Wrong AWS account')
    expect((error as ActionError).message).toMatch(/account 210987654321.*account_id in \.pmcp\/deploy\.toml is 123456789012/)
    expect((error as ActionError).location.file).toBe('.pmcp/deploy.toml')
  })
})
