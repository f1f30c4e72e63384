import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { absentPort } from '../../../lambdas/adapters/aws/services.js';
import { PORT_CAPABILITIES } from '../../../lambdas/adapters/local/function-services.js';
import type { Mailer, Registry, Vault, Workflow } from '../../../lambdas/core/ports.js';
import { FUNCTIONS, type Capability } from '../../../lambdas/contracts/functions.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The awsServices part each port is, and the factory the entry builds it with; which capabilities need the part is local
 * mode's rule too. The mailer is built one of two ways: SES (`mail:send`) or the notice workflow (`notice:send`).
 */
const PART_OF: ReadonlyArray<[(c: Capability) => boolean, string, string]> = [
  [PORT_CAPABILITIES.registry, 'registry', 'dynamoRegistryFromEnv'],
  // A function that signs reads the private key set; one that only verifies, the public-key secret alone.
  [(c) => c === 'signing-key:read', 'vault', 'secretsVaultFromEnv'],
  [(c) => c === 'signing-key:read-public', 'vault', 'publicKeysVaultFromEnv'],
  [PORT_CAPABILITIES.workflow, 'workflow', 'sfnWorkflowFromEnv'],
  [(c) => c === 'mail:send', 'mailer', 'sesMailerFromEnv'],
  [(c) => c === 'notice:send', 'mailer', 'noticeMailerFromEnv'],
  [PORT_CAPABILITIES.clientSecrets, 'clientSecrets', 'clientSecretsFromEnv'],
];

describe('Lambda entry points', () => {
  it.each(Object.entries(FUNCTIONS))('%s builds exactly the adapters its capabilities allow', (_name, spec) => {
    const source = readFileSync(`${ROOT}${spec.entry}`, 'utf8');
    if (!source.includes('awsServices(')) return;
    for (const [needs, part, factory] of PART_OF) {
      if (spec.capabilities.some(needs)) {
        expect(source, part).toContain(`${part}: `);
        expect(source, part).toContain(factory);
      } else {
        expect(source, part).not.toContain(factory);
      }
    }
    for (const part of new Set(PART_OF.map(([, p]) => p))) {
      const needed = PART_OF.some(([needs, p]) => p === part && spec.capabilities.some(needs));
      expect(needed, part).toBe(spec.capabilities.some(PORT_CAPABILITIES[part as keyof typeof PORT_CAPABILITIES]));
      if (!needed) expect(source, part).not.toContain(`${part}: `);
    }
  });

  it('makes a port the function has no capability for fail loudly when used', () => {
    const mailer = absentPort<Mailer>('mail:send');
    const workflow = absentPort<Workflow>('workflow');
    expect(() => mailer.send({ to: ['a@b.example'], subject: 's', text: 't' })).toThrow(/no mail:send capability .* cannot call mail:send\.send/);
    expect(() => workflow.startReview({ clientId: 'x', requestId: null, risk: 'low', approvals: 1, reviewSlaSeconds: 60 })).toThrow(/no workflow capability/);
    // The discovery function has no table: its registry fails the same way (the stack gives it no table access either).
    expect(() => absentPort<Registry>('registry').getConsumer('client-1')).toThrow(/no registry capability .* cannot call registry\.getConsumer/);
    expect(() => absentPort<Vault>('signing-key').getSigningKeys()).toThrow(/no signing-key capability/);
  });
});
