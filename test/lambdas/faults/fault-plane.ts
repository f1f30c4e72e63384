import {
  DynamoDBClient,
  InternalServerError,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ThrottlingException as DynamoThrottlingException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  InternalServiceError,
  ResourceExistsException,
  RotateSecretCommand,
  SecretsManagerClient,
  SecretsManagerServiceException,
  type CreateSecretCommandInput,
  type DeleteSecretCommandInput,
  type GetSecretValueCommandInput,
} from '@aws-sdk/client-secrets-manager';
import { SendEmailCommand, SESv2Client, TooManyRequestsException, type SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, SFNServiceException, StartExecutionCommand } from '@aws-sdk/client-sfn';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import type { JWK } from 'jose';
import { expect } from 'vitest';
import { dynamoStores } from '../../../lambdas/adapters/aws/dynamo-registry.js';
import { SecretsManagerClientSecrets } from '../../../lambdas/adapters/aws/secrets-client-secrets.js';
import { SecretsVault } from '../../../lambdas/adapters/aws/secrets-vault.js';
import { SesMailer } from '../../../lambdas/adapters/aws/ses-mailer.js';
import { NoticeWorkflowMailer } from '../../../lambdas/adapters/aws/sfn-notice-mailer.js';
import { SfnWorkflow } from '../../../lambdas/adapters/aws/sfn-workflow.js';
import { FUNCTIONS } from '../../../lambdas/contracts/functions.js';
import type { HandlerFunctionName } from '../../../lib/handler-functions.js';
import { MemoryMetrics } from '../../../lambdas/adapters/local/memory-metrics.js';
import type { Services } from '../../../lambdas/core/services.js';
import { generateSigningKey } from '../../../lambdas/core/tokens/generate-key.js';
import { auditTrailFor, AWS_TEST_CLIENT_CONFIG, CLIENT_ID, defaultPolicy, NOW, recordingLog, TestClock, type RecordingLog } from '../fixtures.js';
import { FakeTable, httpEvent, lambdaContext, TABLE, testConfig } from '../handlers/fixtures.js';
import { ALICE, linkFor, pendingConsumer, REVIEW_ID, reviewFixture } from '../core/review/fixtures.js';
import { createAdminHandler } from '../../../lambdas/handlers/admin.js';
import { createReviewHandler } from '../../../lambdas/handlers/review.js';
import { SigningKeyCache } from '../../../lambdas/core/tokens/signing-keys.js';
import { secretsManagerFake } from '../handlers/secrets-manager-fake.js';

export const SIGNING_SECRET_ID = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:gatehouse/signing-key-AbCdEf';
export const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:gatehouse-onboarding';
export const NOTICE_STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:gatehouse-notices';
export const CLIENT_SECRET_PREFIX = 'gatehouse/test/clients/';
export const MAIL_FROM = 'gatehouse@bank.example';

/** What the SDK puts on an error once its retries are spent: the HTTP status and how many attempts it made. */
const spent = (httpStatusCode: number | undefined) => ({ httpStatusCode, requestId: 'fault-injected', attempts: 3, totalRetryDelay: 1_750 });

/** An error thrown by the HTTP layer under the SDK (no HTTP response): a timeout or a broken socket. */
const transport = (name: string, message: string, code?: string): Error =>
  Object.assign(new Error(message), { name, ...(code ? { code } : {}), $metadata: { attempts: 3, totalRetryDelay: 1_750 } });

/** DynamoDB failures as the SDK throws them to DynamoRegistry, by the name the fault matrix uses. */
export const DYNAMO_FAULTS = {
  ProvisionedThroughputExceededException: () =>
    new ProvisionedThroughputExceededException({
      message: 'The level of configured provisioned throughput for the table was exceeded.',
      $metadata: spent(400),
    }),
  ThrottlingException: () =>
    new DynamoThrottlingException({ message: 'Throughput exceeds the current capacity of your table or index.', $metadata: spent(400) }),
  RequestLimitExceeded: () => new RequestLimitExceeded({ message: 'Throughput exceeds the current throughput limit for your account.', $metadata: spent(400) }),
  InternalServerError: () => new InternalServerError({ message: 'Internal server error', $metadata: spent(500) }),
  TimeoutError: () => transport('TimeoutError', 'the request socket timed out after 1000 ms of inactivity (configured by client requestHandler).'),
  ECONNRESET: () => transport('Error', 'socket hang up', 'ECONNRESET'),
} as const satisfies Record<string, () => Error>;
export type DynamoFault = keyof typeof DYNAMO_FAULTS;
export const DYNAMO_FAULT_NAMES = Object.keys(DYNAMO_FAULTS) as DynamoFault[];

/** A transaction DynamoDB cancelled because an item's partition was throttled (no condition failed). */
export function transactionThrottled(items: number): TransactionCanceledException {
  const reasons = Array.from({ length: items }, (_, i) =>
    i === 0 ? { Code: 'ThrottlingError', Message: 'Throughput exceeds the current capacity of your table or index.' } : { Code: 'None' },
  );
  return new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
    CancellationReasons: reasons,
    $metadata: spent(400),
  });
}

/** Secrets Manager failures (throttling is not modelled by the SDK, so it arrives as a service exception by name). */
export const SECRETS_FAULTS = {
  ThrottlingException: () =>
    new SecretsManagerServiceException({ name: 'ThrottlingException', $fault: 'client', message: 'Rate exceeded', $metadata: spent(400) }),
  InternalServiceError: () => new InternalServiceError({ message: 'An error occurred on the server side.', $metadata: spent(500) }),
  TimeoutError: () => transport('TimeoutError', 'the request socket timed out after 1000 ms of inactivity.'),
  ECONNREFUSED: () => transport('Error', 'connect ECONNREFUSED 10.0.0.1:443', 'ECONNREFUSED'),
} as const satisfies Record<string, () => Error>;
export type SecretsFault = keyof typeof SECRETS_FAULTS;
export const SECRETS_FAULT_NAMES = Object.keys(SECRETS_FAULTS) as SecretsFault[];

export const sesThrottled = (): Error => new TooManyRequestsException({ message: 'Maximum sending rate exceeded.', $metadata: spent(429) });
export const sfnThrottled = (): Error =>
  new SFNServiceException({ name: 'ThrottlingException', $fault: 'client', message: 'Rate exceeded', $metadata: spent(400) });

/** The document-client commands DynamoRegistry sends. */
const DOCUMENT_COMMANDS = { GetCommand, PutCommand, UpdateCommand, DeleteCommand, QueryCommand, ScanCommand, TransactWriteCommand } as const;
export type DocumentCommandName = keyof typeof DOCUMENT_COMMANDS;

interface TableFault {
  readonly command: DocumentCommandName;
  readonly error: () => Error;
  readonly when: (input: Record<string, unknown>) => boolean;
  /** How many more matching calls fail; Infinity for a lasting outage. */
  remaining: number;
}

/**
 * A DynamoDB document client in front of FakeTable through which faults are injected: a faulted call fails before it
 * reaches the table (as a throttled or timed-out call never applies), every other call is served by FakeTable.
 */
export class FaultyTable {
  readonly table: FakeTable;
  readonly documentClient: DynamoDBDocumentClient;
  /** Every command DynamoRegistry sent, faulted or not. */
  readonly stub: AwsClientStub<DynamoDBDocumentClient>;
  readonly #faults: TableFault[] = [];

  constructor() {
    const inner = DynamoDBDocumentClient.from(new DynamoDBClient(AWS_TEST_CLIENT_CONFIG));
    this.table = new FakeTable(mockClient(inner));
    this.documentClient = DynamoDBDocumentClient.from(new DynamoDBClient(AWS_TEST_CLIENT_CONFIG), { marshallOptions: { removeUndefinedValues: true } });
    this.stub = mockClient(this.documentClient);
    for (const [name, Command] of Object.entries(DOCUMENT_COMMANDS) as Array<[DocumentCommandName, (typeof DOCUMENT_COMMANDS)[DocumentCommandName]]>) {
      this.stub.on(Command as never).callsFake(async (input: Record<string, unknown>) => {
        const fault = this.#faults.find((f) => f.command === name && f.remaining > 0 && f.when(input));
        if (fault) {
          fault.remaining--;
          throw fault.error();
        }
        return inner.send(new (Command as new (input: object) => GetCommand)(input) as never);
      });
    }
  }

  /** The next `times` calls of `command` (those `when` selects) fail with `error`; by default until `heal()`. */
  fail(
    command: DocumentCommandName,
    error: () => Error,
    options: { readonly times?: number; readonly when?: (input: Record<string, unknown>) => boolean } = {},
  ): void {
    this.#faults.push({ command, error, remaining: options.times ?? Number.POSITIVE_INFINITY, when: options.when ?? (() => true) });
  }

  heal(): void {
    this.#faults.length = 0;
  }

  /** Every item of the table, serialised with string sets as sorted arrays: compare two to prove nothing was written. */
  snapshot(): string {
    const items = this.table
      .items()
      .map((item) => JSON.stringify(item, (_k, v: unknown) => (v instanceof Set ? [...(v as Set<string>)].sort() : v)))
      .sort();
    return `[${items.join(',\n')}]`;
  }

  /** Names of the commands sent, in order. */
  sent(): string[] {
    return this.stub.calls().map((call) => (call.args[0] as { constructor: { name: string } }).constructor.name);
  }
}

/**
 * The client-secret store behind SecretsManagerClientSecrets: CreateSecret stores a value under its name, RotateSecret
 * accepts the rotation configuration, GetSecretValue reads AWSCURRENT. DeleteSecret behaves as Secrets Manager's: with a
 * recovery window the secret is scheduled for deletion and its name stays taken (CreateSecret and GetSecretValue on it
 * fail with InvalidRequestException); with ForceDeleteWithoutRecovery it is gone and the name is free.
 */
export class FakeClientSecretStore {
  readonly client = new SecretsManagerClient(AWS_TEST_CLIENT_CONFIG);
  readonly stub = mockClient(this.client);
  readonly secrets = new Map<string, string>();
  /** Names of secrets scheduled for deletion (in their recovery window). */
  readonly scheduled = new Set<string>();

  constructor() {
    this.reset();
  }

  /** Restores the working behaviour of every command (after a test made one fail). */
  reset(): void {
    this.stub.reset();
    const scheduledForDeletion = (message: string) =>
      new SecretsManagerServiceException({ name: 'InvalidRequestException', $fault: 'client', message, $metadata: {} });
    this.stub.on(CreateSecretCommand).callsFake((input: CreateSecretCommandInput) => {
      if (this.scheduled.has(input.Name!))
        throw scheduledForDeletion("You can't create this secret because a secret with this name is already scheduled for deletion.");
      if (this.secrets.has(input.Name!)) throw new ResourceExistsException({ message: 'The secret already exists.', $metadata: {} });
      this.secrets.set(input.Name!, input.SecretString!);
      return { ARN: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${input.Name}-AbCdEf`, Name: input.Name };
    });
    this.stub.on(RotateSecretCommand).resolves({});
    this.stub.on(DeleteSecretCommand).callsFake((input: DeleteSecretCommandInput) => {
      const name = input.SecretId!;
      if (input.ForceDeleteWithoutRecovery) this.scheduled.delete(name);
      else if (this.secrets.has(name)) this.scheduled.add(name);
      this.secrets.delete(name);
      return {};
    });
    this.stub.on(GetSecretValueCommand).callsFake((input: GetSecretValueCommandInput) => {
      if (this.scheduled.has(input.SecretId!)) throw scheduledForDeletion("You can't perform this operation on the secret because it was marked for deletion.");
      const value = this.secrets.get(input.SecretId!);
      if (value === undefined)
        throw new SecretsManagerServiceException({ name: 'ResourceNotFoundException', $fault: 'client', message: 'not found', $metadata: {} });
      return { Name: input.SecretId, SecretString: value, VersionStages: ['AWSCURRENT'] };
    });
  }

  snapshot(): string {
    return JSON.stringify([[...this.secrets].sort(([a], [b]) => a.localeCompare(b)), [...this.scheduled].sort()]);
  }
}

export interface FaultPlane {
  /** The real AWS adapters (DynamoRegistry, SecretsVault, SecretsManagerClientSecrets, SfnWorkflow, SesMailer). */
  readonly services: Services & { readonly clock: TestClock; readonly log: RecordingLog; readonly metrics: MemoryMetrics };
  /** The services one function's entry builds: with `notice:send` its mailer starts notice executions instead of calling SES. */
  readonly servicesOf: (name: HandlerFunctionName) => FaultPlane['services'];
  readonly ddb: FaultyTable;
  /** The signing-key secret the vault reads (a Secrets Manager fake holding one ES256 key as AWSCURRENT). */
  readonly vaultSm: AwsClientStub<SecretsManagerClient>;
  /** Puts the signing-key secret back to working order (after a test made GetSecretValue fail). */
  readonly healVault: () => void;
  readonly clientSecrets: FakeClientSecretStore;
  readonly ses: AwsClientStub<SESv2Client>;
  readonly sfn: AwsClientStub<SFNClient>;
  /** Table and secret store together: equal before and after a refused request when nothing was written. */
  readonly state: () => string;
  /** Emails SES was asked to send. */
  readonly sentEmails: () => SendEmailCommandInput[];
}

/** Every AWS adapter the Lambda functions build in lambdas/adapters/aws/services.ts, over mocked clients and a fake table. */
export async function faultPlane(options: { readonly jwks?: { keys: JWK[] } } = {}): Promise<FaultPlane> {
  const ddb = new FaultyTable();

  const vaultClient = new SecretsManagerClient(AWS_TEST_CLIENT_CONFIG);
  const vaultSm = mockClient(vaultClient);
  const signingKey = JSON.stringify(await generateSigningKey());
  const healVault = (): void => {
    vaultSm.reset();
    secretsManagerFake(vaultSm, SIGNING_SECRET_ID).simulateSecret({ 'version-1': { value: signingKey, stages: ['AWSCURRENT'] } });
  };
  healVault();

  const clientSecrets = new FakeClientSecretStore();

  const sesClient = new SESv2Client(AWS_TEST_CLIENT_CONFIG);
  const ses = mockClient(sesClient);
  ses.on(SendEmailCommand).resolves({ MessageId: 'message-1' });

  const sfnClient = new SFNClient(AWS_TEST_CLIENT_CONFIG);
  const sfn = mockClient(sfnClient);
  sfn.on(StartExecutionCommand).callsFake((input: { name?: string }) => ({
    executionArn: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${input.name}`,
    startDate: new Date(),
  }));
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});

  const services = {
    ...dynamoStores({ tableName: TABLE, documentClient: ddb.documentClient }),
    vault: new SecretsVault({ secretId: SIGNING_SECRET_ID, client: vaultClient }),
    clientSecrets: new SecretsManagerClientSecrets({
      namePrefix: CLIENT_SECRET_PREFIX,
      kmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000',
      rotationLambdaArn: 'arn:aws:lambda:eu-west-1:123456789012:function:gatehouse-client-secret-rotation',
      client: clientSecrets.client,
    }),
    workflow: new SfnWorkflow({ stateMachineArn: STATE_MACHINE_ARN, client: sfnClient }),
    mailer: new SesMailer({ from: MAIL_FROM, client: sesClient }),
    linkMailer: new SesMailer({ from: MAIL_FROM, client: sesClient }),
    clock: new TestClock(),
    policy: defaultPolicy,
    config: testConfig(options.jwks ?? { keys: [] }),
    log: recordingLog(),
    metrics: new MemoryMetrics(),
  };

  const notices = new NoticeWorkflowMailer({ stateMachineArn: NOTICE_STATE_MACHINE_ARN, client: sfnClient });
  return {
    services,
    servicesOf: (name) => (FUNCTIONS[name].capabilities.includes('notice:send') ? { ...services, mailer: notices } : services),
    ddb,
    vaultSm,
    healVault,
    clientSecrets,
    ses,
    sfn,
    state: () => `${ddb.snapshot()}\n${clientSecrets.snapshot()}`,
    sentEmails: () => ses.commandCalls(SendEmailCommand).map((c) => c.args[0].input),
  };
}

/** The 503 every refused-for-now request gets: Retry-After in whole seconds and the body in the route's format. */
export function expectUnavailable(response: APIGatewayProxyResult, format: 'problem' | 'oauth' | 'html', retryAfter?: string): void {
  const contentType = { problem: 'application/problem+json', oauth: 'application/json', html: 'text/html; charset=utf-8' }[format];
  expect({ status: response.statusCode, contentType: response.headers?.['content-type'] }, response.body.slice(0, 300)).toEqual({ status: 503, contentType });
  expect(String(response.headers?.['retry-after'])).toMatch(retryAfter === undefined ? /^[1-9]\d*$/ : new RegExp(`^${retryAfter}$`));
  if (format === 'problem') expect(JSON.parse(response.body)).toMatchObject({ type: 'https://gatehouse.dev/problems/service-unavailable', status: 503 });
  if (format === 'oauth') expect(JSON.parse(response.body)).toMatchObject({ error: 'temporarily_unavailable' });
}

/**
 * Seeds a pending consumer with an open review round, opens Alice's review page like a browser, and returns the form
 * post of her approval (with the page's CSRF cookie and field) to call as often as a test needs.
 */
export async function openApproval(plane: FaultPlane): Promise<() => Promise<APIGatewayProxyResult>> {
  plane.ddb.table.putConsumer(pendingConsumer());
  plane.ddb.table.putAudit(auditTrailFor(CLIENT_ID, NOW.toISOString()));
  plane.ddb.table.putReview(reviewFixture());
  const handler = createReviewHandler(plane.services);
  const t = await linkFor(new SigningKeyCache(plane.services.vault, plane.services.clock), plane.services.config.issuer, reviewFixture(), ALICE);
  const event = (method: string, init: Partial<Parameters<typeof httpEvent>[0]>) =>
    httpEvent({ method, resource: '/reviews/{review_id}', path: `/reviews/${REVIEW_ID}`, pathParameters: { review_id: REVIEW_ID }, ...init });
  const page = await handler(event('GET', { queryStringParameters: { t } }), lambdaContext);
  expect(page.statusCode).toBe(200);
  const csrf = /name="csrf" value="([^"]*)"/.exec(page.body)![1]!;
  const cookie = String(page.headers!['set-cookie']).split(';')[0]!;
  const form = { 'Content-Type': 'application/x-www-form-urlencoded', origin: new URL(plane.services.config.issuer).origin, cookie };
  return () => handler(event('POST', { headers: form, body: new URLSearchParams({ decision: 'approve', comment: '', t, csrf }).toString() }), lambdaContext);
}

/** The IAM identity of the operator behind the admin calls of the fault tests. */
export const OPERATOR = 'arn:aws:iam::123456789012:user/ops-oncall';

/** OPERATOR's suspension of CLIENT_ID through the admin API, to call as often as a test needs. */
export function operatorSuspension(plane: FaultPlane): () => Promise<APIGatewayProxyResult> {
  const event = httpEvent({
    method: 'POST',
    resource: '/admin/consumers/{client_id}/suspend',
    path: `/admin/consumers/${CLIENT_ID}/suspend`,
    pathParameters: { client_id: CLIENT_ID },
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ reason: 'Credential leak reported by the partner' }),
  });
  const asOperator = { ...event, requestContext: { ...event.requestContext, identity: { userArn: OPERATOR } } as APIGatewayProxyEvent['requestContext'] };
  return () => createAdminHandler(plane.servicesOf('admin'))(asOperator, lambdaContext);
}
