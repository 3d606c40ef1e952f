// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'out/', 'coverage/', '**/*.generated.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        URL: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Product code only: unit tests mirror the tree and may test a file inside a folder directly.
    files: ['electron/**/*.ts', 'firmware-protocol/**/*.ts', 'station-config/**/*.ts'],
    rules: {
      // A capability folder's index is its public surface: other folders may not reach into its files.
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex:
                '^(\\.\\./)+(electron/)?(backend|sandbox|serial|provisioning|audit|secrets|logging|station-runtime|station-config|virtual-board)/(?!index$).+',
              message: 'Import the capability folder (its index.ts), not a file inside it.',
            },
          ],
        },
      ],
    },
  },
  prettier,
);
