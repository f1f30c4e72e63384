import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it, vi } from 'vitest';
import { dynamoStores } from '../../../../lambdas/adapters/aws/dynamo-registry.js';
import { functionServices } from '../../../../lambdas/adapters/local/function-services.js';
import { FUNCTIONS, hasPort, PORT_CAPABILITIES, type FunctionName } from '../../../../lambdas/contracts/functions.js';
import type { Mailer } from '../../../../lambdas/core/ports.js';
import type { Services } from '../../../../lambdas/core/services.js';

/** Each table port's operation names, as the DynamoDB adapters define them. */
const STORES = Object.entries(dynamoStores({ tableName: 'unused', documentClient: {} as DynamoDBDocumentClient }))
  .filter(([store]) => store !== 'systemAudit')
  .map(([store, operations]) => [store, Object.keys(operations)] as const);

/** Shared services whose every table operation records its name, and stand-ins for the other ports. */
function sharedServices(): { services: Services; calls: string[] } {
  const calls: string[] = [];
  const stores = Object.fromEntries(STORES.map(([store, names]) => [store, Object.fromEntries(names.map((name) => [name, async () => calls.push(name)]))]));
  const services = {
    ...stores,
    vault: { port: 'vault', getPublicKeys: async () => 'public halves', getSigningKeys: async () => 'private keys' },
    workflow: { port: 'workflow' },
    mailer: { port: 'mailer' },
    clientSecrets: { port: 'clientSecrets' },
  };
  return { services: services as unknown as Services, calls };
}

describe('functionServices (local mode gives each handler what its function has in AWS)', () => {
  it.each(Object.keys(FUNCTIONS) as FunctionName[])('%s: the ports of its capabilities, and only the table operations its spec lists', async (name) => {
    const spec = FUNCTIONS[name];
    const { services, calls } = sharedServices();
    const notices = { port: 'notices' } as unknown as Mailer;
    const own = functionServices(name, services, notices) as unknown as Record<string, Record<string, () => Promise<unknown>>>;
    for (const port of Object.keys(PORT_CAPABILITIES) as Array<keyof typeof PORT_CAPABILITIES>) {
      if (!hasPort(spec, port)) expect(own[port], `${name} ${port}`).toBeUndefined();
      // Lifecycle notices go through the notice workflow; only mail:send reaches the mailer directly.
      else if (port === 'mailer') expect(own[port], name).toBe(spec.capabilities.includes('notice:send') ? notices : services.mailer);
      // Emails with signed links go straight to the mailer, never through the notice workflow.
      else if (port === 'linkMailer') expect(own[port], name).toBe(services.mailer);
      // A function that only verifies sees the public halves and never the private key set.
      else if (port === 'vault' && !spec.capabilities.includes('signing-key:read')) {
        await expect(own[port]!['getPublicKeys']!(), name).resolves.toBe('public halves');
        await expect(own[port]!['getSigningKeys']!(), name).rejects.toThrow(/holds no private signing key/);
      } else expect(own[port], `${name} ${port}`).toBe(services[port]);
    }
    const given = STORES.flatMap(([store]) => Object.keys(own[store] ?? {}));
    expect(given.sort(), name).toEqual([...(spec.registry ?? [])].sort());
    for (const [store, names] of STORES) {
      for (const operation of names.filter((n) => own[store]?.[n])) {
        await own[store]![operation]!();
        expect(calls.at(-1), `${name} ${operation}`).toBe(operation);
      }
    }
  });

  it('looks operations up on the shared stores at each call, so a stub set on them later reaches every function', async () => {
    const { services } = sharedServices();
    const token = functionServices('token', services, services.mailer);
    const stub = vi.spyOn(services.consumers, 'getConsumer').mockResolvedValueOnce(undefined);
    await expect(token.consumers.getConsumer('client-1')).resolves.toBeUndefined();
    expect(stub).toHaveBeenCalledWith('client-1');
  });
});
