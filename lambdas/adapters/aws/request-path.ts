/**
 * Client settings for the AWS calls on a request path: the registry table and the signing-key read. With the SDK's
 * defaults a silent endpoint holds a call until the socket's 5-minute idle timeout (far past every function timeout, so
 * API Gateway answers 504 without Retry-After), and DynamoDB's client makes 4 attempts with throttling backoff of up to
 * 1 + 2 + 4 s. Here each attempt ends within `requestTimeout` (connecting included), and 3 attempts with the SDK's backoff
 * give up within about 4 s, under the 5-second timeout of the shortest function on a request path (lambdas/contracts/functions.ts); the
 * caller then gets 503 with Retry-After (test/lambdas/faults/sdk-retry.test.ts checks both).
 */
export const REQUEST_PATH_CLIENT_CONFIG = {
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 500, requestTimeout: 1000, throwOnRequestTimeout: true },
} as const;
