/** Counts DynamoDB calls and the items they return, at the client, so a bench reports what the table actually served. */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface DynamoTally {
  /** Calls per low-level command (QueryCommand, GetItemCommand, TransactWriteItemsCommand, ...). */
  readonly calls: Record<string, number>;
  /** Items returned per read command (Query/Scan: Items; GetItem: Item; BatchGetItem: Responses). */
  readonly itemsRead: Record<string, number>;
  /** The same items by their `kind` attribute (consumer, policy-rollout, ...). */
  readonly itemsByKind: Record<string, number>;
}

export interface DynamoCounter {
  /** Starts counting from zero. */
  start(): void;
  /** Stops counting and returns what was counted since start(). */
  stop(): DynamoTally;
}

const READ_COMMANDS = new Set(['QueryCommand', 'ScanCommand', 'GetItemCommand', 'BatchGetItemCommand']);

function itemsIn(commandName: string, output: Record<string, unknown>): Record<string, unknown>[] {
  if (commandName === 'GetItemCommand') return output['Item'] ? [output['Item'] as Record<string, unknown>] : [];
  if (commandName === 'BatchGetItemCommand') return Object.values((output['Responses'] ?? {}) as Record<string, Record<string, unknown>[]>).flat();
  return Array.isArray(output['Items']) ? (output['Items'] as Record<string, unknown>[]) : [];
}

/** An item's `kind`, whether the output is still in DynamoDB's attribute-value form or already plain. */
function kindOf(item: Record<string, unknown>): string {
  const kind = item['kind'];
  if (typeof kind === 'string') return kind;
  if (kind && typeof kind === 'object' && typeof (kind as { S?: unknown }).S === 'string') return (kind as { S: string }).S;
  return 'unknown';
}

/**
 * Adds a middleware to the client every registry call goes through (the registry holds this very client), counting
 * each call and the items it returned. Counting is off until start().
 */
export function countDynamoCalls(client: DynamoDBDocumentClient): DynamoCounter {
  let on = false;
  let calls: Record<string, number> = {};
  let itemsRead: Record<string, number> = {};
  let itemsByKind: Record<string, number> = {};
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (on) {
        const name = context.commandName ?? 'unknown';
        calls[name] = (calls[name] ?? 0) + 1;
        if (READ_COMMANDS.has(name)) {
          const items = itemsIn(name, (result.output ?? {}) as Record<string, unknown>);
          itemsRead[name] = (itemsRead[name] ?? 0) + items.length;
          for (const item of items) itemsByKind[kindOf(item)] = (itemsByKind[kindOf(item)] ?? 0) + 1;
        }
      }
      return result;
    },
    { step: 'initialize', name: 'benchDynamoCounter', override: true },
  );
  return {
    start() {
      calls = {};
      itemsRead = {};
      itemsByKind = {};
      on = true;
    },
    stop() {
      on = false;
      return { calls: { ...calls }, itemsRead: { ...itemsRead }, itemsByKind: { ...itemsByKind } };
    },
  };
}
