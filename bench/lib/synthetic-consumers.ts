/**
 * Synthetic consumers for the sweep benchmark: built like registration builds them (low risk, client_secret_basic, the
 * policy's requirements), placed relative to a reference time so a chosen set is due, and written with BatchWriteItem in
 * the exact item shape the registry writes (the registry's own createConsumer builds each item).
 */
import { BatchWriteCommand, type DynamoDBDocumentClient, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { dynamoStores } from '../../lambdas/adapters/aws/dynamo-registry.js';
import { GENESIS_HASH } from '../../lambdas/core/audit/event.js';
import type { Consumer, ConsumerStatus } from '../../lambdas/core/consumer/consumer.js';
import { attentionAt, dormancyCutoff } from '../../lambdas/core/lifecycle/attention.js';
import type { LoadedPolicy } from '../../lambdas/core/policy/load.js';
import { sha256B64u } from '../../lambdas/core/util/hash.js';
import { BenchError } from './common.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/**
 * What a synthetic consumer is there for:
 * - `revoke`: its grant ended an hour or more ago (warned before): the sweep revokes it.
 * - `suspend`: unused for longer than its dormancy window (warned before): the sweep suspends it.
 * - `warn-expiry` / `warn-dormancy`: inside the warning window of its grant's end / its dormancy cutoff: the sweep warns.
 * - `future`: active, used recently, grant ending later: in the index, due later.
 * - `future-suspended`: suspended, grant ending later: in the index, due later.
 * - `unindexed-revoked` / `unindexed-denied`: terminal, nothing ahead: not in the index at all.
 */
export type Plan = 'revoke' | 'suspend' | 'warn-expiry' | 'warn-dormancy' | 'future' | 'future-suspended' | 'unindexed-revoked' | 'unindexed-denied';

export const DUE_PLANS: readonly Plan[] = ['revoke', 'suspend', 'warn-expiry', 'warn-dormancy'];

/** The plan of consumer `i` in a table of `total` with `due` due consumers (due ones first, split evenly over the four kinds). */
export function planOf(i: number, due: number): Plan {
  if (i < due) return DUE_PLANS[i % DUE_PLANS.length]!;
  const rest = i - due;
  const slot = rest % 20;
  if (slot === 0) return 'unindexed-revoked';
  if (slot === 1) return 'unindexed-denied';
  if (slot === 2) return 'future-suspended';
  return 'future';
}

export const clientIdOf = (i: number): string => `gh_bench${String(i).padStart(8, '0')}`;

/** Builds consumer `i` following `plan`, relative to `t0`; checks that it is due at `t0` exactly when the plan says so. */
export function syntheticConsumer(i: number, plan: Plan, t0: number, policy: LoadedPolicy): Consumer {
  const requirements = policy.document.risks.low;
  const iso = (ms: number) => new Date(ms).toISOString();
  const jitter = (i * 7919) % 1000; // spreads times so the index is not a handful of equal keys
  let status: ConsumerStatus = 'active';
  let createdAt = t0 - 120 * DAY - jitter * 60_000;
  let expiresAt = t0 + 200 * DAY + jitter * 60_000;
  let lastUsedAt: number | undefined = t0 - 2 * DAY - jitter * 1000;
  let warned: 'expiry' | 'dormancy' | undefined;
  switch (plan) {
    case 'revoke':
      expiresAt = t0 - HOUR - jitter * 60_000;
      createdAt = expiresAt - 300 * DAY;
      warned = 'expiry';
      break;
    case 'suspend':
      lastUsedAt = t0 - (requirements.dormancyDays + 1) * DAY - jitter * 60_000;
      createdAt = lastUsedAt - 30 * DAY;
      warned = 'dormancy';
      break;
    case 'warn-expiry':
      expiresAt = t0 + 5 * DAY + jitter * 60_000;
      break;
    case 'warn-dormancy':
      lastUsedAt = t0 - (requirements.dormancyDays - 10) * DAY - jitter * 60_000;
      break;
    case 'future':
      lastUsedAt = t0 - (i % 60) * DAY - jitter * 1000;
      expiresAt = t0 + (20 + (i % 300)) * DAY + jitter * 60_000;
      break;
    case 'future-suspended':
      status = 'suspended';
      expiresAt = t0 + (30 + (i % 300)) * DAY;
      break;
    case 'unindexed-revoked':
      status = 'revoked';
      lastUsedAt = undefined;
      break;
    case 'unindexed-denied':
      status = 'denied';
      lastUsedAt = undefined;
      break;
  }
  const clientId = clientIdOf(i);
  const withSecret = status !== 'denied';
  const base: Consumer = {
    clientId,
    clientName: `Bench consumer ${i}`,
    tier: 'public',
    status,
    scopes: ['reference-data:read'],
    purpose: 'Show daily FX rates and branch data in a budgeting app',
    dataClasses: ['public'],
    contacts: [`owner-${i}@fintech.example`],
    expiresAt: iso(expiresAt),
    authMethod: 'client_secret_basic',
    risk: 'low',
    requirements,
    policyVersion: policy.version,
    decisionReasons: [{ code: 'low_risk_self_service', subject: 'low', message: 'Low risk: approved by policy.' }],
    ...(withSecret ? { secretHash: sha256B64u(`bench-secret-${i}`), secretExpiresAt: iso(expiresAt) } : {}),
    registrationTokenHash: sha256B64u(`bench-registration-${i}`),
    createdAt: iso(createdAt),
    updatedAt: iso(createdAt),
    ...(status === 'denied' ? { outcomeReason: 'Denied by the bench' } : { activatedAt: iso(createdAt) }),
    ...(lastUsedAt === undefined ? {} : { lastUsedAt: iso(lastUsedAt) }),
    // A consistent chain head with no events yet: the first change appends event 1.
    auditSeq: 0,
    auditHead: GENESIS_HASH,
  };
  const warningKey = warned === 'expiry' ? `expiry:${base.expiresAt}` : warned === 'dormancy' ? `dormancy:${iso(dormancyCutoff(base))}` : undefined;
  const consumer: Consumer = { ...base, ...(warningKey ? { warningsSent: [warningKey] } : {}) };
  const at = attentionAt(consumer, policy.document.lifecycle);
  const isDue = at !== undefined && Date.parse(at) <= t0;
  if (isDue !== DUE_PLANS.includes(plan) || (plan.startsWith('unindexed') && at !== undefined)) {
    throw new BenchError(
      `synthetic consumer ${i} (${plan}) is ${isDue ? '' : 'not '}due at the reference time (attentionAt ${String(at)}): the plan does not fit the policy`,
    );
  }
  return at === undefined ? consumer : { ...consumer, attentionAt: at };
}

/**
 * Maps a consumer to the table item the registry writes for it, by letting the registry's createConsumer build its
 * transaction against a client that only records the command (nothing is sent).
 */
export function registryItemMapper(tableName: string): (consumer: Consumer) => Promise<Record<string, unknown>> {
  const last: { input?: TransactWriteCommandInput | undefined } = {};
  const recorder = {
    send: async (command: { input: unknown }) => {
      last.input = command.input as TransactWriteCommandInput;
      return {};
    },
  };
  // Read through a function: TypeScript cannot see the registry's call assign `last.input`.
  const sentInput = (): TransactWriteCommandInput | undefined => last.input;
  const { consumers } = dynamoStores({ tableName, documentClient: recorder as unknown as DynamoDBDocumentClient });
  return async (consumer) => {
    delete last.input;
    await consumers.createConsumer(consumer, []);
    const item = sentInput()?.TransactItems?.[0]?.Put?.Item;
    if (!item) throw new BenchError('the registry wrote no consumer item');
    return item;
  };
}

/** Writes items with BatchWriteItem, 25 a call, a few calls in flight; retries what comes back unprocessed. */
export async function batchPut(db: DynamoDBDocumentClient, tableName: string, items: readonly Record<string, unknown>[], inFlight = 4): Promise<void> {
  const chunks: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      let requests = chunks[next++]!.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 1; requests.length > 0; attempt++) {
        if (attempt > 10) throw new BenchError('BatchWriteItem kept returning unprocessed items');
        const res = await db.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests } }));
        requests = (res.UnprocessedItems?.[tableName] ?? []) as typeof requests;
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}
