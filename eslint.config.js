// ESLint as actions/typescript-action sets it up (recommended, typescript-eslint, jest, prettier
// owning the layout), with typescript-eslint's type-aware rules on top.
import js from '@eslint/js'
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
  { files: ['__tests__/**/*.ts'], ...jest.configs['flat/recommended'] },
  prettier
)
