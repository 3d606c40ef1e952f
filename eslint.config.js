// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['node_modules/', '**/dist/', 'out/', 'coverage/', 'test-results/', '**/*.generated.ts'] },
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
                '^(\\.\\./)+(electron/)?(backend|sandbox|serial|board-conformance|provisioning|audit|secrets|logging|station|station-api|people|web-host|renderer-files|station-config|virtual-board)/(?!index$).+',
              message: 'Import the capability folder (its index.ts), not a file inside it.',
            },
          ],
        },
      ],
    },
  },
  {
    // The station API contract is shared with the browser: it may import zod and its own files, nothing else.
    files: ['electron/station-api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!zod$|\\./).+',
              message:
                'The station API contract imports zod and its own files only (the renderer bundles it).',
            },
          ],
        },
      ],
    },
  },
  {
    // The renderer knows the station only through the contract: no Node, no station internals.
    files: ['renderer/src/**/*.ts', 'renderer/src/**/*.tsx'],
    languageOptions: {
      globals: {
        window: 'readonly',
        document: 'readonly',
        WebSocket: 'readonly',
        fetch: 'readonly',
        localStorage: 'readonly',
        AudioContext: 'readonly',
        HTMLElement: 'readonly',
        HTMLInputElement: 'readonly',
        HTMLTextAreaElement: 'readonly',
        HTMLDialogElement: 'readonly',
        KeyboardEvent: 'readonly',
        Event: 'readonly',
        EventTarget: 'readonly',
        URLSearchParams: 'readonly',
      },
    },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+(electron/(?!station-api(/index)?$)|firmware-protocol|station-config)',
              message:
                'The renderer imports the station API contract (electron/station-api) and nothing else of the station.',
            },
            { regex: '^node:', message: 'The renderer runs in a browser: no Node modules.' },
          ],
        },
      ],
    },
  },
  prettier,
);
