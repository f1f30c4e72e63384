import { describe, expect, it, vi } from 'vitest';
import * as operations from '../../../../lambdas/adapters/aws/dynamo-operations.js';
import type { TableRegistry } from '../../../../lambdas/adapters/aws/dynamo-operations.js';
import { functionServices, PORT_CAPABILITIES } from '../../../../lambdas/adapters/local/function-services.js';
import type { Mailer } from '../../../../lambdas/core/ports.js';
import type { Services } from '../../../../lambdas/core/services.js';
import { FUNCTIONS } from '../../../../lambdas/contracts/functions.js';

const OPERATIONS = Object.keys(operations) as Array<keyof TableRegistry>;

/** A shared registry whose every operation records its name, and stand-ins for the other ports. */
function sharedServices(): { services: Services & { readonly registry: TableRegistry }; calls: string[] } {
  const calls: string[] = [];
  const registry = Object.fromEntries(OPERATIONS.map((name) => [name, async () => calls.push(name)])) as unknown as TableRegistry;
  const vault = { port: 'vault', getPublicKeys: async () => 'public halves', getSigningKeys: async () => 'private keys' };
  const services = { registry, vault, workflow: { port: 'workflow' }, mailer: { port: 'mailer' }, clientSecrets: { port: 'clientSecrets' } };
  return { services: services as unknown as Services & { readonly registry: TableRegistry }, calls };
}

describe('functionServices (local mode gives each handler what its function has in AWS)', () => {
  it.each(Object.entries(FUNCTIONS))('%s: the ports its capabilities allow, and only the registry operations its spec lists', async (name, spec) => {
    const { services, calls } = sharedServices();
    const notices = { port: 'notices' } as unknown as Mailer;
    const own = functionServices(spec, services, notices) as unknown as Record<string, Record<string, () => unknown>>;
    for (const [port, needs] of Object.entries(PORT_CAPABILITIES)) {
      if (!spec.capabilities.some(needs)) expect(() => own[port]!['anything']!(), `${name} ${port}`).toThrow(/has no .* capability/);
      // Lifecycle notices go through the notice workflow; only mail:send reaches the mailer directly.
      else if (port === 'mailer') expect(own[port], name).toBe(spec.capabilities.includes('notice:send') ? notices : services.mailer);
      // A function that only verifies sees the public halves and never the private key set.
      else if (port === 'vault' && !spec.capabilities.includes('signing-key:read')) {
        await expect(own[port]!['getPublicKeys']!(), name).resolves.toBe('public halves');
        await expect(own[port]!['getSigningKeys']!(), name).rejects.toThrow(/holds no private signing key/);
      } else if (port !== 'registry') expect(own[port], `${name} ${port}`).toBe((services as unknown as Record<string, unknown>)[port]);
    }
    if (!spec.capabilities.some(PORT_CAPABILITIES.registry)) return;
    expect(spec.registry, name).toBeDefined();
    for (const operation of OPERATIONS) {
      if (spec.registry!.includes(operation)) {
        await own['registry']![operation]!();
        expect(calls.at(-1), `${name} ${operation}`).toBe(operation);
      } else {
        expect(() => own['registry']![operation]!(), `${name} ${operation}`).toThrow(`This function's registry has no ${operation} operation`);
      }
    }
  });

  it('looks operations up on the shared registry at each call, so a stub set on it later reaches every function', async () => {
    const { services } = sharedServices();
    const token = functionServices(FUNCTIONS.token, services, services.mailer);
    const stub = vi.spyOn(services.registry, 'getConsumer').mockResolvedValueOnce(undefined);
    await expect(token.registry.getConsumer('client-1')).resolves.toBeUndefined();
    expect(stub).toHaveBeenCalledWith('client-1');
  });
});
