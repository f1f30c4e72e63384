/**
 * Worker thread of the sweep benchmark: builds synthetic consumers and writes them to the local table with
 * BatchWriteItem through its own SDK client, so building and marshalling items runs on the second core while dynalite
 * (in the main thread) stores them.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parentPort, workerData } from 'node:worker_threads';
import type { LoadedPolicy } from '../../lambdas/core/policy/load.js';
import { batchPut, planOf, registryItemMapper, syntheticConsumer, type Plan } from './synthetic-consumers.js';

export interface PopulateRequest {
  readonly endpoint: string;
  readonly tableName: string;
  readonly policy: LoadedPolicy;
  readonly t0: number;
  readonly consumers: number;
  readonly due: number;
  readonly chunk: number;
}

export type PopulateMessage =
  | { readonly kind: 'progress'; readonly written: number }
  | { readonly kind: 'done'; readonly byPlan: Record<Plan, number>; readonly indexed: number }
  | { readonly kind: 'error'; readonly message: string };

async function populate(request: PopulateRequest): Promise<void> {
  const client = new DynamoDBClient({ endpoint: request.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  // The registry's marshalling options, so the stored items are what it would store.
  const db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const toItem = registryItemMapper(request.tableName);
  const byPlan: Record<string, number> = {};
  let indexed = 0;
  let pending: Promise<void> = Promise.resolve();
  for (let from = 0; from < request.consumers; from += request.chunk) {
    const items: Record<string, unknown>[] = [];
    for (let i = from; i < Math.min(request.consumers, from + request.chunk); i++) {
      const plan = planOf(i, request.due);
      byPlan[plan] = (byPlan[plan] ?? 0) + 1;
      const item = await toItem(syntheticConsumer(i, plan, request.t0, request.policy));
      if (item['gsi1pk'] !== undefined) indexed++;
      items.push(item);
    }
    // Build the next chunk while this one is written; at most one chunk in flight.
    await pending;
    const written = Math.min(request.consumers, from + request.chunk);
    pending = batchPut(db, request.tableName, items).then(() => parentPort!.postMessage({ kind: 'progress', written } satisfies PopulateMessage));
  }
  await pending;
  client.destroy();
  parentPort!.postMessage({ kind: 'done', byPlan: byPlan as Record<Plan, number>, indexed } satisfies PopulateMessage);
}

populate(workerData as PopulateRequest).catch((error: unknown) => {
  parentPort!.postMessage({ kind: 'error', message: (error as Error).stack ?? String(error) } satisfies PopulateMessage);
});
