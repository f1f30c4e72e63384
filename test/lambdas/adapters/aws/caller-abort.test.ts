import { Readable } from 'node:stream';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { abortWithCaller, CallerGoneError } from '../../../../lambdas/adapters/aws/caller-abort.js';
import { currentCallerSignal, withCallerSignal } from '../../../../lambdas/core/caller-scope.js';
import { AWS_TEST_CLIENT_CONFIG } from '../../fixtures.js';

/** A Secrets Manager client whose endpoint answers only when `release()` is called; counts what it was sent. */
function heldClient() {
  let sent = 0;
  const waiting: Array<() => void> = [];
  const client = abortWithCaller(
    new SecretsManagerClient({
      ...AWS_TEST_CLIENT_CONFIG,
      requestHandler: {
        handle: () => {
          sent++;
          return new Promise((resolve) =>
            waiting.push(() =>
              resolve({
                response: {
                  statusCode: 200,
                  headers: { 'content-type': 'application/x-amz-json-1.1' },
                  body: Readable.from([JSON.stringify({ Name: 's', SecretString: 'v' })]),
                },
              }),
            ),
          );
        },
      },
    }),
  );
  return { client, sent: () => sent, release: () => waiting.splice(0).forEach((answer) => answer()) };
}

/** Real event-loop turns (signing is asynchronous) until `condition` holds. */
async function until(condition: () => boolean): Promise<void> {
  for (let turn = 0; turn < 200 && !condition(); turn++) await new Promise((resolve) => setImmediate(resolve));
  expect(condition()).toBe(true);
}

const read = (client: SecretsManagerClient) => client.send(new GetSecretValueCommand({ SecretId: 's' }));

describe('abortWithCaller', () => {
  it('stops waiting for a call in flight when the caller is answered, and fails it as an AbortError', async () => {
    const { client, sent } = heldClient();
    const caller = new AbortController();
    const call = withCallerSignal(caller.signal, () => read(client));
    await until(() => sent() === 1);

    caller.abort();

    await expect(call).rejects.toBeInstanceOf(CallerGoneError);
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('starts no call for a caller already answered', async () => {
    const { client, sent } = heldClient();
    const caller = new AbortController();
    caller.abort();

    await expect(withCallerSignal(caller.signal, () => read(client))).rejects.toBeInstanceOf(CallerGoneError);
    expect(sent()).toBe(0);
  });

  it('leaves calls alone while the caller waits, and outside any caller scope', async () => {
    const { client, release, sent } = heldClient();
    const caller = new AbortController();
    const inScope = withCallerSignal(caller.signal, () => read(client));
    const outside = read(client);
    await until(() => sent() === 2);
    release();

    await expect(inScope).resolves.toMatchObject({ SecretString: 'v' });
    await expect(outside).resolves.toMatchObject({ SecretString: 'v' });
  });

  it('follows the caller through everything it awaits, and not beyond its scope', async () => {
    const caller = new AbortController();
    await withCallerSignal(caller.signal, async () => {
      await Promise.resolve();
      expect(currentCallerSignal()).toBe(caller.signal);
    });
    expect(currentCallerSignal()).toBeUndefined();
    expect(withCallerSignal(undefined, () => currentCallerSignal())).toBeUndefined();
  });
});
