/**
 * What lib/bundling.ts puts in Lambda bundles in place of `@aws-sdk/middleware-endpoint-discovery` (with the endpoint cache
 * and the LRU package it pulls in, about 8 KB of every function that uses DynamoDB). The DynamoDB client resolves an
 * endpoint-discovery configuration and a 1,000-entry endpoint cache at construction, but none of its commands adds the
 * discovery middleware that would read them (its commands' middleware list is empty; test/lib/bundle-aliases.test.ts
 * checks this on the installed client), so the cache is never used. The configuration is resolved here with the
 * package's own rules, minus the cache. If a later client imported anything else from the package (the plugins that add
 * the middleware), esbuild would fail the build on the missing export rather than bundle a client that behaves differently.
 */

/** The variables the package reads, in its order; `false` and `0` turn discovery off, an empty value is an error. */
const ENV_ENDPOINT_DISCOVERY = ['AWS_ENABLE_ENDPOINT_DISCOVERY', 'AWS_ENDPOINT_DISCOVERY_ENABLED'] as const;
const CONFIG_ENDPOINT_DISCOVERY = 'endpoint_discovery_enabled';
const isFalsy = (value: string | undefined): boolean => value === 'false' || value === '0';

export const NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS = {
  environmentVariableSelector: (env: Record<string, string | undefined>): boolean | undefined => {
    for (const key of ENV_ENDPOINT_DISCOVERY) {
      if (key in env) {
        if (env[key] === '') throw new Error(`Environment variable ${key} can't be empty of undefined, got ""`);
        return !isFalsy(env[key]);
      }
    }
    return undefined;
  },
  configFileSelector: (profile: Record<string, string | undefined>): boolean | undefined => {
    if (!(CONFIG_ENDPOINT_DISCOVERY in profile)) return undefined;
    const value = profile[CONFIG_ENDPOINT_DISCOVERY];
    if (value === undefined) throw new Error(`Shared config entry ${CONFIG_ENDPOINT_DISCOVERY} can't be undefined, got "undefined"`);
    return !isFalsy(value);
  },
  default: undefined,
};

interface EndpointDiscoveryInput {
  readonly endpointDiscoveryEnabled?: boolean;
  readonly endpointDiscoveryEnabledProvider: () => Promise<boolean | undefined>;
}

/** The package's `resolveEndpointDiscoveryConfig` without the endpoint cache no middleware reads. */
export function resolveEndpointDiscoveryConfig<T extends EndpointDiscoveryInput>(input: T, { endpointDiscoveryCommandCtor }: { endpointDiscoveryCommandCtor: unknown }) {
  const { endpointDiscoveryEnabled, endpointDiscoveryEnabledProvider } = input;
  return Object.assign(input, {
    endpointDiscoveryCommandCtor,
    endpointDiscoveryEnabled: endpointDiscoveryEnabled !== undefined ? () => Promise.resolve(endpointDiscoveryEnabled) : endpointDiscoveryEnabledProvider,
    isClientEndpointDiscoveryEnabled: endpointDiscoveryEnabled !== undefined,
  });
}
