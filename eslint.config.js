// ESLint as actions/typescript-action sets it up (recommended, typescript-eslint, jest, prettier
// owning the layout), with typescript-eslint's type-aware rules on top.
import js from '@eslint/js'
import stylistic from '@stylistic/eslint-plugin'
import prettier from 'eslint-config-prettier'
import jest from 'eslint-plugin-jest'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '**/cdk.out/', '**/.pmcp/', '.test-work/', 'testkit/fixtures/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: {
        projectService: { allowDefaultProject: ['eslint.config.js', 'jest.config.js'] },
        tsconfigRootDir: import.meta.dirname
      }
    }
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  {
    files: ['__tests__/**/*.ts'],
    ...jest.configs['flat/recommended'],
    rules: {
      ...jest.configs['flat/recommended'].rules,
      // aws-cdk-lib's Template assertions (hasResourceProperties, resourceCountIs, …) are assertions too.
      'jest/expect-expect': [
        'error',
        { assertFunctionNames: ['expect', 'expect*', 'template.has*', 'template.resourceCountIs', 'template.allResources*'] }
      ],
      // Table-driven tests assert what each row's kind calls for (a skipped route has no jobs to check).
      'jest/no-conditional-expect': 'off'
    }
  },
  {
    // Tests and stand-ins walk synthesized CloudFormation templates and captured JSON payloads, which
    // have no static type worth writing; everything they assert on is checked at run time.
    files: ['__tests__/**/*.ts', 'testkit/**/*.ts'],
    rules: {
      // Fakes implement the action's async interfaces without anything to wait for.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off'
    }
  },
  prettier,
  // After prettier (which turns layout rules off): Prettier wraps code at 140 columns but leaves long
  // strings and comments alone, so this catches those.
  { plugins: { '@stylistic': stylistic }, rules: { '@stylistic/max-len': ['error', { code: 140, tabWidth: 2 }] } }
)
