// ESLint flat config: typescript-eslint's recommended rules plus the project's own standing rules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const LIB = { group: ['**/lib/*'], message: 'Nothing under lambdas/ imports lib/ (shared definitions live in lambdas/contracts/).' };
const SDK = { group: ['@aws-sdk/*', 'aws-cdk-lib', 'aws-cdk-lib/*'], message: 'The core talks to ports; the AWS SDK and CDK stay in adapters and lib/.' };

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdk.out/**', 'test-results/**', 'coverage/**', '.gatehouse/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        fetch: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        structuredClone: 'readonly',
        performance: 'readonly',
        queueMicrotask: 'readonly',
        crypto: 'readonly',
        Headers: 'readonly',
        Response: 'readonly',
        Request: 'readonly',
      },
    },
    rules: {
      // Bundling may duplicate or drop an SDK error class, so `instanceof` can be false in Lambda while true in tests:
      // AWS SDK errors are recognised by `error.name`, the SDK's documented contract.
      'no-restricted-syntax': [
        'error',
        {
          selector: "BinaryExpression[operator='instanceof'][right.name=/(Exception|Exists|NotFound|Fault|Throttl)/]",
          message: 'Recognise AWS SDK errors by error.name, never instanceof.',
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['lambdas/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [LIB] }] },
  },
  {
    files: ['lambdas/core/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [LIB, SDK] }] },
  },
);
