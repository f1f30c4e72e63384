import { ConditionalCheckFailedException, DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type GetCommandInput,
  type PutCommandInput,
  type QueryCommandInput,
  type TransactWriteCommandInput,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { vi, type Mock } from 'vitest';
import { dynamoStores, type DynamoStores } from '../../../lambdas/adapters/aws/dynamo-registry.js';
import { FileVault } from '../../../lambdas/adapters/local/file-vault.js';
import type { AuditEvent } from '../../../lambdas/core/audit/event.js';
import type { GatehouseConfig } from '../../../lambdas/core/config.js';
import type { Consumer } from '../../../lambdas/core/consumer/consumer.js';
import type { ClientSecretStore, Email, Mailer, Workflow } from '../../../lambdas/core/ports.js';
import type { Review } from '../../../lambdas/core/review/review.js';
import type { ChangeRequest } from '../../../lambdas/core/requests/change-request.js';
import type { Services } from '../../../lambdas/core/services.js';
import { AWS_TEST_CLIENT_CONFIG, DAY_MS, defaultPolicy, NOW, recordingLog, TestClock, type RecordingLog } from '../fixtures.js';
import { FileClientSecrets } from '../../../lambdas/adapters/local/file-client-secrets.js';
import { MemoryMetrics } from '../../../lambdas/adapters/local/memory-metrics.js';

export const TABLE = 'gatehouse-handler-test';
export const ISSUER = 'https://gatehouse.test';
export const TOKEN_AUDIENCE = 'https://api.bank.test';
export const STATEMENT_ISSUER = 'https://commercial.bank.test';

type Item = Record<string, unknown>;
type DocumentStub = AwsClientStub<DynamoDBDocumentClient>;

const keyOf = (key: Record<string, unknown>): string => `${String(key['pk'])}|${String(key['sk'])}`;
/** What a DynamoDB round trip does to an item: a deep copy without undefined attributes. */
/** What DynamoDB would store and give back: undefined members dropped, string sets kept as sets. */
const roundTrip = <T>(value: T): T =>
  JSON.parse(
    JSON.stringify(value, (_k, v: unknown) => (v instanceof Set ? { $stringSet: [...(v as Set<string>)] } : v)),
    (_k, v: unknown) => (v && typeof v === 'object' && '$stringSet' in v ? new Set((v as { $stringSet: string[] }).$stringSet) : v),
  ) as T;

/**
 * A tiny stateful stand-in for the table behind a mocked DocumentClient: it applies exactly the expressions
 * DynamoRegistry sends (and fails loudly on any other), so handler tests can read back what earlier calls wrote.
 */
export class FakeTable {
  readonly #items = new Map<string, Item>();

  constructor(ddb: DocumentStub) {
    ddb.on(GetCommand).callsFake((input: GetCommandInput) => {
      const item = this.#items.get(keyOf(input.Key!));
      return item ? { Item: roundTrip(item) } : {};
    });
    ddb.on(QueryCommand).callsFake((input: QueryCommandInput) => {
      if (input.KeyConditionExpression !== 'pk = :pk AND begins_with(sk, :prefix)')
        throw new Error(`FakeTable: unsupported query ${input.KeyConditionExpression}`);
      const pk = input.ExpressionAttributeValues![':pk'] as string;
      const prefix = input.ExpressionAttributeValues![':prefix'] as string;
      const items = [...this.#items.values()]
        .filter((i) => i['pk'] === pk && String(i['sk']).startsWith(prefix))
        .sort((a, b) => String(a['sk']).localeCompare(String(b['sk'])));
      return { Items: roundTrip(items) };
    });
    ddb.on(TransactWriteCommand).callsFake((input: TransactWriteCommandInput) => this.#transact(input));
    // One-time markers (DynamoRegistry.claimOnce): assertion and DPoP jtis, revoked token ids.
    ddb.on(PutCommand).callsFake((input: PutCommandInput) => {
      const key = keyOf(input.Item!);
      if (!holds(input.ConditionExpression, this.#items.get(key), input.ExpressionAttributeNames, input.ExpressionAttributeValues)) {
        throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
      }
      this.#items.set(key, roundTrip(input.Item!));
      return {};
    });
    ddb.on(UpdateCommand).callsFake((input: UpdateCommandInput) => {
      const key = keyOf(input.Key!);
      const existing = this.#items.get(key);
      if (!holds(input.ConditionExpression, existing, input.ExpressionAttributeNames, input.ExpressionAttributeValues)) {
        throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
      }
      this.#items.set(key, applyUpdate({ ...existing }, input.UpdateExpression!, input.ExpressionAttributeNames, input.ExpressionAttributeValues));
      return {};
    });
  }

  /** Seeds a consumer as registration would have stored it. */
  putConsumer(consumer: Consumer): void {
    this.#items.set(
      keyOf({ pk: `CONSUMER#${consumer.clientId}`, sk: 'CONSUMER' }),
      roundTrip({ pk: `CONSUMER#${consumer.clientId}`, sk: 'CONSUMER', kind: 'consumer', ...consumer }),
    );
  }

  /** Seeds a change request as opening it would have stored it. */
  putRequest(request: ChangeRequest): void {
    const key = { pk: `CONSUMER#${request.clientId}`, sk: `REQUEST#${request.requestId}` };
    this.#items.set(keyOf(key), roundTrip({ ...key, kind: 'request', ...request }));
  }

  /** Changes a stored consumer in place, as an operator action (suspension, revocation) would. */
  patchConsumer(clientId: string, changes: Partial<Consumer>): void {
    const key = keyOf({ pk: `CONSUMER#${clientId}`, sk: 'CONSUMER' });
    const existing = this.#items.get(key);
    if (!existing) throw new Error(`FakeTable: no consumer ${clientId}`);
    this.#items.set(key, roundTrip({ ...existing, ...changes }));
  }

  /** One-time markers by name (without the `MARKER#` prefix), with their TTL in epoch seconds. */
  markers(): Map<string, number> {
    return new Map(this.items('MARKER#').map((i) => [String(i['pk']).slice('MARKER#'.length), Number(i['ttl'])]));
  }

  /** Seeds audit events as registration would have stored them. */
  putAudit(events: readonly AuditEvent[]): void {
    for (const e of events) {
      const key = { pk: `CONSUMER#${e.clientId}`, sk: `AUDIT#${String(e.seq).padStart(10, '0')}` };
      this.#items.set(keyOf(key), roundTrip({ ...key, kind: 'audit', ...e }));
    }
  }

  /** The stored consumer item, internal attributes included. */
  consumerItem(clientId: string): Item | undefined {
    return this.#items.get(keyOf({ pk: `CONSUMER#${clientId}`, sk: 'CONSUMER' }));
  }

  /** A consumer's stored audit events, in order, without the table's own attributes. */
  auditTrail(clientId: string): AuditEvent[] {
    return this.items(`CONSUMER#${clientId}`)
      .filter((i) => i['kind'] === 'audit')
      .sort((a, b) => String(a['sk']).localeCompare(String(b['sk'])))
      .map(({ pk: _pk, sk: _sk, kind: _kind, ...event }) => event as unknown as AuditEvent);
  }

  /** Seeds a review round as DynamoRegistry.createReview would have stored it. */
  putReview(review: Review): void {
    const key = { pk: `REVIEW#${review.reviewId}`, sk: 'REVIEW' };
    this.#items.set(keyOf(key), roundTrip({ ...key, kind: 'review', ...review }));
  }

  /** Changes a stored review round in place (e.g. to model a decision that was never delivered). */
  patchReview(reviewId: string, changes: Partial<Review>): void {
    const key = keyOf({ pk: `REVIEW#${reviewId}`, sk: 'REVIEW' });
    const existing = this.#items.get(key);
    if (!existing) throw new Error(`FakeTable: no review ${reviewId}`);
    this.#items.set(key, roundTrip({ ...existing, ...changes }));
  }

  /** The stored review item, internal attributes included. */
  reviewItem(reviewId: string): Item | undefined {
    return this.#items.get(keyOf({ pk: `REVIEW#${reviewId}`, sk: 'REVIEW' }));
  }

  /** Every stored item whose partition key starts with `prefix`. */
  items(prefix = ''): Item[] {
    return [...this.#items.values()].filter((i) => String(i['pk']).startsWith(prefix));
  }

  #transact(input: TransactWriteCommandInput): object {
    const ops = input.TransactItems!;
    const reasons = ops.map((op) => {
      const write = op.Put ?? op.Update ?? op.Delete;
      if (!write || op.ConditionCheck) throw new Error('FakeTable: unsupported transaction item');
      const key = op.Put ? keyOf(op.Put.Item!) : keyOf((op.Update ?? op.Delete)!.Key!);
      const ok = holds(write.ConditionExpression, this.#items.get(key), write.ExpressionAttributeNames, write.ExpressionAttributeValues);
      return ok ? { Code: 'None' } : { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' };
    });
    if (reasons.some((r) => r.Code !== 'None')) {
      throw new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: reasons });
    }
    for (const op of ops) {
      if (op.Put) {
        this.#items.set(keyOf(op.Put.Item!), roundTrip(op.Put.Item!));
      } else if (op.Delete) {
        this.#items.delete(keyOf(op.Delete.Key!));
      } else {
        const u = op.Update!;
        const key = keyOf(u.Key!);
        this.#items.set(
          key,
          roundTrip(applyUpdate({ ...this.#items.get(key)! }, u.UpdateExpression!, u.ExpressionAttributeNames, u.ExpressionAttributeValues)),
        );
      }
    }
    return {};
  }
}

function holds(expr: string | undefined, existing: Item | undefined, names: Record<string, string> = {}, values: Record<string, unknown> = {}): boolean {
  if (expr === undefined) return true;
  switch (expr) {
    case 'attribute_not_exists(pk)':
      return existing === undefined;
    case 'attribute_exists(pk)':
      return existing !== undefined;
    case 'attribute_not_exists(pk) OR #ttl < :now':
      return existing === undefined || (existing[names['#ttl']!] as number) < (values[':now'] as number);
    case 'attribute_exists(pk) AND #status = :open':
      // DynamoRegistry.decideReview: a review round takes one decision.
      return existing !== undefined && existing[names['#status']!] === values[':open'];
    case 'attribute_exists(pk) AND (attribute_not_exists(lastUsedAt) OR lastUsedAt <= :cutoff)':
      return existing !== undefined && (existing['lastUsedAt'] === undefined || String(existing['lastUsedAt']) <= String(values[':cutoff']));
  }
  const update = /^attribute_exists\(pk\) AND #auditSeq = :expectSeq AND #status IN \(([^)]+)\)$/.exec(expr);
  if (update) {
    const statuses = update[1]!.split(', ').map((v) => values[v]);
    return existing !== undefined && existing[names['#auditSeq']!] === values[':expectSeq'] && statuses.includes(existing[names['#status']!]);
  }
  // A change request written with its consumer's transition (consumer-change.ts): its version and status as read.
  const request = /^attribute_exists\(pk\) AND #version = :expectVersion AND #status IN \(([^)]+)\)$/.exec(expr);
  if (request) {
    const statuses = request[1]!.split(', ').map((v) => values[v]);
    return existing !== undefined && existing[names['#version']!] === values[':expectVersion'] && statuses.includes(existing[names['#status']!]);
  }
  throw new Error(`FakeTable: unsupported condition ${expr}`);
}

function applyUpdate(item: Item, expr: string, names: Record<string, string> = {}, values: Record<string, unknown> = {}): Item {
  const name = (n: string) => (n.startsWith('#') ? names[n]! : n);
  const add = /^ADD (\S+) (:\w+)$/.exec(expr);
  if (add) {
    // String-set ADD: a union with what is stored.
    const current = item[name(add[1]!)] as Set<string> | undefined;
    item[name(add[1]!)] = new Set([...(current ?? []), ...(values[add[2]!] as Set<string>)]);
    return item;
  }
  const [setPart, removePart] = expr.split(' REMOVE ');
  for (const clause of setPart!.replace(/^SET /, '').split(', ')) {
    const [lhs, rhs] = clause.split(' = ');
    item[name(lhs!)] = values[rhs!];
  }
  for (const n of removePart?.split(', ') ?? []) delete item[name(n)];
  return item;
}

/** The registry table's ports over a real DocumentClient whose `send` the given stub intercepts. */
export function mockedRegistry(): DynamoStores {
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient(AWS_TEST_CLIENT_CONFIG), { marshallOptions: { removeUndefinedValues: true } });
  return dynamoStores({ tableName: TABLE, documentClient });
}

/** The bank's commercial side: signs software statements with a key the test config trusts. */
export interface StatementSigner {
  readonly jwks: { keys: JWK[] };
  /** `expiresAt: null` signs a statement without `exp`. */
  sign(
    claims: Record<string, unknown>,
    options?: { issuer?: string; issuedAt?: Date; expiresAt?: Date | null; key?: CryptoKey; kid?: string },
  ): Promise<string>;
}

export async function statementSigner(): Promise<StatementSigner> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const kid = 'commercial-1';
  return {
    jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] },
    sign: (claims, options = {}) => {
      const iat = options.issuedAt ?? NOW;
      const jwt = new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: options.kid ?? kid })
        .setIssuer(options.issuer ?? STATEMENT_ISSUER)
        .setIssuedAt(Math.floor(iat.getTime() / 1000));
      if (options.expiresAt !== null) jwt.setExpirationTime(Math.floor((options.expiresAt ?? new Date(iat.getTime() + 30 * DAY_MS)).getTime() / 1000));
      return jwt.sign(options.key ?? privateKey);
    },
  };
}

export function testConfig(jwks: { keys: JWK[] }): GatehouseConfig {
  return {
    issuer: ISSUER,
    tokenAudience: TOKEN_AUDIENCE,
    softwareStatement: { issuer: STATEMENT_ISSUER, jwks },
    consumerCacheMs: 0,
    maxBodyBytes: 65_536,
    reviewers: { default: ['alice.reviewer@bank.example', 'bob.reviewer@bank.example'] },
  };
}

/** A Workflow whose methods are spies; startReview answers with an execution id. */
export function fakeWorkflow(): Workflow & { startReview: Mock<Workflow['startReview']> } {
  return {
    startReview: vi.fn<Workflow['startReview']>(async (r) => `arn:aws:states:eu-west-1:123456789012:execution:onboarding:review-${r.clientId}`),
    sendTaskSuccess: vi.fn(async () => undefined),
    sendTaskFailure: vi.fn(async () => undefined),
  };
}

export const nullMailer: Mailer = { send: async () => undefined };

/** A Mailer that keeps every email it is given, in order. */
export type RecordingMailer = Mailer & { readonly sent: Email[] };

export function recordingMailer(): RecordingMailer {
  const sent: Email[] = [];
  return { sent, send: async (email) => void sent.push(structuredClone(email)) };
}

export function buildServices(options: {
  jwks: { keys: JWK[] };
  workflow?: Workflow;
  clock?: TestClock;
  vault?: FileVault;
  mailer?: Mailer;
  /** @default an in-memory FileClientSecrets */
  clientSecrets?: ClientSecretStore;
  /** Settings that differ from testConfig (e.g. reviewer groups, an http issuer). */
  config?: Partial<GatehouseConfig>;
}): Services & {
  clock: TestClock;
  log: RecordingLog;
  metrics: MemoryMetrics;
} {
  return {
    ...mockedRegistry(),
    vault: options.vault ?? new FileVault(),
    clientSecrets: options.clientSecrets ?? new FileClientSecrets(),
    workflow: options.workflow ?? fakeWorkflow(),
    mailer: options.mailer ?? nullMailer,
    linkMailer: options.mailer ?? nullMailer,
    clock: options.clock ?? new TestClock(),
    policy: defaultPolicy,
    config: { ...testConfig(options.jwks), ...options.config },
    log: recordingLog(),
    metrics: new MemoryMetrics(),
  };
}

/** A hand-built API Gateway proxy event; only what handlers read is meaningful. */
export function httpEvent(init: {
  method: string;
  resource: string;
  path?: string;
  headers?: Record<string, string>;
  /** Repeated headers as API Gateway reports them (e.g. two DPoP headers). */
  multiValueHeaders?: Record<string, string[]>;
  body?: string | null;
  pathParameters?: Record<string, string> | null;
  queryStringParameters?: Record<string, string> | null;
  isBase64Encoded?: boolean;
}): APIGatewayProxyEvent {
  return {
    httpMethod: init.method,
    resource: init.resource,
    path: init.path ?? init.resource,
    headers: init.headers ?? {},
    multiValueHeaders: init.multiValueHeaders ?? {},
    body: init.body ?? null,
    isBase64Encoded: init.isBase64Encoded ?? false,
    pathParameters: init.pathParameters ?? null,
    queryStringParameters: init.queryStringParameters ?? null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: { requestId: 'req-1', stage: 'test' } as APIGatewayProxyEvent['requestContext'],
  };
}

export const lambdaContext: Context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'gatehouse-test',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:gatehouse-test',
  memoryLimitInMB: '256',
  awsRequestId: 'aws-request-1',
  logGroupName: '/aws/lambda/gatehouse-test',
  logStreamName: '2026/11/25/[$LATEST]test',
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

/** The parsed JSON body of a response. */
export const bodyOf = (response: APIGatewayProxyResult): Record<string, unknown> => JSON.parse(response.body) as Record<string, unknown>;
