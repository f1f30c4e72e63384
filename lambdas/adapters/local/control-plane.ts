import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FunctionName } from '../../contracts/functions.js';
import { HTTP_HANDLERS, type HttpHandlerName } from '../../contracts/routes.js';
import type { GatehouseConfig, ReviewerGroups } from '../../core/config.js';
import type { Consumer } from '../../core/consumer/consumer.js';
import { loadPolicyFile } from '../../core/policy/load.js';
import { clientSecretRotationDue, rotateClientSecretFully } from '../../core/rotation/client-secret-rotation.js';
import { rotateSigningKeyFully } from '../../core/rotation/signing-key-rotation.js';
import { previousOverlapMs } from '../../core/tokens/signing-keys.js';
import type { RotationKind } from '../../core/metrics.js';
import type { Clock, Email } from '../../core/ports.js';
import type { Log, Services } from '../../core/services.js';
import { HTTP_HANDLER_FACTORIES } from '../../handlers/http-handlers.js';
import type { HttpLambda } from '../../handlers/http/http-handler.js';
import { createReviewTaskHandler } from '../../handlers/review-task.js';
import { createSweepHandler } from '../../handlers/sweep.js';
import type { SweepResult } from '../../core/lifecycle/sweep.js';
import type { ChangeRequest } from '../../core/requests/change-request.js';
import { dynamoStores, type DynamoStores } from '../aws/dynamo-registry.js';
import { dynamoRegistrationQuota } from '../aws/dynamo-registration-quota.js';
import { dynamoSoftwareConsumers } from '../aws/dynamo-software-consumers.js';
import { httpsKeySets } from '../net/https-key-sets.js';
import { consoleLog } from './console-log.js';
import { checkDataDirectory, checkSigningKeyFile } from './data-dir.js';
import { startDynalite } from './dynalite.js';
import { FileClientSecrets } from './file-client-secrets.js';
import { functionServices } from './function-services.js';
import { FileVault } from './file-vault.js';
import { LOCAL_ADMIN_ARN, startHttpServer } from './http-server.js';
import { LocalNoticeWorkflow } from './local-notices.js';
import { LocalWorkflow } from './local-workflow.js';
import { MemoryMetrics } from './memory-metrics.js';
import { OutboxMailer } from './outbox-mailer.js';
import { localSoftwareStatementSigner, type SoftwareStatementSigner } from './software-statement-signer.js';

/** Local mode's reviewers: their links arrive in the outbox and on the console. */
export const LOCAL_REVIEWERS: ReviewerGroups = { default: ['alice.reviewer@bank.example', 'bob.reviewer@bank.example', 'carol.reviewer@bank.example'] };

/** The person local mode's admin token stands for, unless configured otherwise. */
export const LOCAL_OPERATOR = 'operator@bank.example';

const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

export interface LocalOptions {
  /** 0 picks a free port. @default 3000 */
  readonly port?: number;
  /** Where dynalite, keys and the outbox live; undefined runs everything in memory (tests). */
  readonly dataDir?: string | undefined;
  /** @default policy/policy.json */
  readonly policyFile?: string;
  readonly clock?: Clock;
  readonly log?: Log;
  /** @default 5000 */
  readonly consumerCacheMs?: number;
  /** @default https://api.bank.example */
  readonly tokenAudience?: string;
  /** Published as RFC 8414 `service_documentation`. @default none */
  readonly serviceDocumentation?: string | undefined;
  /** Reviewer groups. @default three local reviewers for every risk */
  readonly reviewers?: ReviewerGroups;
  /** Rotates the signing key on its own once the current key is this old (checked periodically). @default never */
  readonly signingKeyRotationEveryMs?: number;
  /**
   * Checks this often whether a consumer's client secret is due for rotation under the policy, and rotates it (what
   * Secrets Manager's rotation rules do in AWS). @default never
   */
  readonly clientSecretRotationCheckMs?: number;
  /** Runs the lifecycle sweep this often (what the EventBridge schedule does in AWS). @default never */
  readonly sweepEveryMs?: number;
  /** Overrides the review SLA of the local workflow (seconds), e.g. to watch a request expire. */
  readonly reviewTimeoutSeconds?: number;
  /** The token that stands in for IAM on admin routes. @default a random one, kept in `<dataDir>/admin-token` */
  readonly adminToken?: string;
  /**
   * The person the admin token stands for (their change requests are never theirs to review).
   * @default the GATEHOUSE_OPERATOR environment variable, else operator@bank.example
   */
  readonly operator?: string;
  /** Called for each email written to the outbox. */
  readonly onEmail?: (file: string, email: Email) => void;
  /** Replaces the consumer-notice workflow's retry intervals (milliseconds), e.g. so a test sees a notice retried at once. @default the definition's */
  readonly noticeRetryIntervalMs?: number;
  /** Replaces the review workflow's retry intervals (milliseconds), so a test can watch its retries without waiting. */
  readonly reviewRetryIntervalMs?: number;
  /** How long an HTTP request may run before it is answered as a timed-out function. @default 10 s */
  readonly requestTimeoutMs?: number;
  /**
   * Tests only: `jwks_uri` fetches may reach these host names on loopback (only there), trusting `trustedCa` instead of
   * the public roots, so a test can serve a client's key set from its own HTTPS server. Everything else stays refused;
   * `npm start` and the Lambda entries never set it. @default none: loopback is refused like any private address
   */
  readonly jwksFetchTestOnly?: { readonly loopbackHosts: readonly string[]; readonly trustedCa: string };
  /** Runs after the k-th item of each table transaction is written (where a crash test kills the process). */
  readonly afterTransactionItem?: (k: number) => void | Promise<void>;
}

export interface LocalControlPlane {
  readonly url: string;
  /** The shared ports every function's own are taken from, and the table's system audit streams. */
  readonly services: Services & DynamoStores;
  readonly outboxDir: string;
  readonly dataDir: string | undefined;
  readonly softwareStatements: SoftwareStatementSigner;
  readonly workflow: LocalWorkflow;
  /** The consumer-notice workflow (lifecycle notices): `notices.drain()` waits for the notices under way. */
  readonly notices: LocalNoticeWorkflow;
  readonly tableName: string;
  /** What the plane counted since it started (the same metrics Lambda publishes as EMF): `metrics.snapshot()`, `metrics.total(name, dims)`. */
  readonly metrics: MemoryMetrics;
  /** Bearer token for the admin routes (IAM's stand-in locally). */
  readonly adminToken: string;
  /** Rotates the signing key with the same four steps Secrets Manager runs; returns the new version id. */
  rotateSigningKey(publishDelaySeconds?: number): Promise<string>;
  /** The scheduled check: rotates when the current key is older than `signingKeyRotationEveryMs`; true if it did. */
  rotateSigningKeyIfDue(): Promise<boolean>;
  /** Rotates one consumer's client secret with the same four steps Secrets Manager runs; returns the new version id. */
  rotateClientSecret(clientId: string): Promise<string>;
  /** The scheduled check: rotates every client secret the policy says is due; returns the consumers rotated. */
  rotateClientSecretsIfDue(): Promise<string[]>;
  /** Runs one lifecycle sweep now, with the same handler as the scheduled Lambda. */
  sweep(): Promise<SweepResult>;
  /** The local table's client, for tools and tests that look inside. */
  readonly documentClient: DynamoDBDocumentClient;
  /**
   * Stops gracefully: takes no more requests, lets the requests, workflow steps and scheduled jobs under way finish (for
   * up to `graceMs`), then closes the table. @default graceMs 10 s
   */
  close(graceMs?: number): Promise<void>;
}

/**
 * Local workflow executions live in this process only. After a restart, every request still pending review gets a new
 * execution: approvals already recorded count, the reviewers receive fresh links (the old ones answer "ended"), and the
 * review keeps its original deadline (the open round's, or the request's creation plus the SLA): the new execution starts
 * "when the review began", as the one execution in AWS would have.
 */
async function resumePendingReviews(
  db: DynamoDBDocumentClient,
  tableName: string,
  workflow: LocalWorkflow,
  reviews: Pick<Services['reviews'], 'getReview'>,
): Promise<number> {
  let resumed = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: '(#kind = :consumer OR #kind = :request) AND #status = :pending',
        ExpressionAttributeNames: { '#kind': 'kind', '#status': 'status' },
        ExpressionAttributeValues: { ':consumer': 'consumer', ':request': 'request', ':pending': 'pending_review' },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      const request = item['kind'] === 'request' ? (item as unknown as ChangeRequest) : undefined;
      const consumer = item as unknown as Consumer;
      const slaSeconds = request ? request.reviewSlaHours * 3600 : consumer.requirements.reviewSlaHours * 3600;
      const open = (request ?? consumer).openReviewId;
      const deadline = open === undefined ? undefined : (await reviews.getReview(open))?.deadline;
      const startedAt = deadline !== undefined ? new Date(Date.parse(deadline) - slaSeconds * 1000) : new Date((request ?? consumer).createdAt);
      await workflow.startReview(
        {
          clientId: consumer.clientId,
          requestId: request ? request.requestId : null,
          risk: (request ?? consumer).risk,
          approvals: request ? request.approvalsRequired : consumer.requirements.approvals,
          reviewSlaSeconds: slaSeconds,
        },
        { startedAt },
      );
      resumed++;
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return resumed;
}

/**
 * The admin token: kept (mode 0600) in the data directory so the operator CLI on this machine finds it, and stable across
 * restarts; random per process when there is no data directory.
 */
function localAdminToken(dataDir: string | undefined): string {
  if (dataDir === undefined) return randomBytes(32).toString('base64url');
  const file = join(dataDir, 'admin-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(32).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/** Runs the whole control plane on this machine: same handlers, route table, table schema and ASL file; local adapters. */
export async function startLocalControlPlane(options: LocalOptions = {}): Promise<LocalControlPlane> {
  // Fail fast on a broken policy, before anything listens.
  const policy = loadPolicyFile(options.policyFile ?? join(ROOT, 'policy', 'policy.json'));
  const log = options.log ?? consoleLog();
  const clock = options.clock ?? { now: () => new Date() };
  const dataDir = options.dataDir;
  const tableName = 'gatehouse';

  if (dataDir !== undefined) await checkDataDirectory(dataDir);
  const dynamo = await startDynalite({ path: dataDir && join(dataDir, 'dynamodb'), tableName, afterTransactionItem: options.afterTransactionItem });
  if (dataDir !== undefined) {
    try {
      const anyItem = await dynamo.documentClient.send(new ScanCommand({ TableName: tableName, Limit: 1, ProjectionExpression: 'pk' }));
      checkSigningKeyFile(join(dataDir, 'signing-keys.json'), (anyItem.Count ?? 0) > 0);
    } catch (error) {
      await dynamo.close();
      throw error;
    }
  }
  const adminToken = options.adminToken ?? localAdminToken(dataDir);
  const http = await startHttpServer({ port: options.port ?? 3000, adminToken, requestTimeoutMs: options.requestTimeoutMs }).catch(async (error: unknown) => {
    await dynamo.close();
    throw error;
  });
  const outboxDir = dataDir ? join(dataDir, 'outbox') : mkdtempSync(join(tmpdir(), 'gatehouse-outbox-'));
  const softwareStatements = await localSoftwareStatementSigner(dataDir && join(dataDir, 'software-statement-signer.json'));

  const config: GatehouseConfig = {
    issuer: http.url,
    tokenAudience: options.tokenAudience ?? 'https://api.bank.example',
    softwareStatement: { issuer: softwareStatements.issuer, jwks: softwareStatements.jwks },
    consumerCacheMs: options.consumerCacheMs ?? 5000,
    serviceDocumentation: options.serviceDocumentation,
    maxBodyBytes: 64 * 1024,
    reviewers: options.reviewers ?? LOCAL_REVIEWERS,
    operators: [{ email: options.operator ?? (process.env['GATEHOUSE_OPERATOR'] || LOCAL_OPERATOR), principals: [LOCAL_ADMIN_ARN] }],
  };

  const vault = new FileVault(dataDir && join(dataDir, 'signing-keys.json'));
  // Seeded before serving, so the key exists from the first request on and a later start can tell a lost file from a new one.
  await vault.getSigningKeys();
  const clientSecrets = new FileClientSecrets(dataDir && join(dataDir, 'client-secrets'));
  // eslint-disable-next-line prefer-const -- assigned once the handlers exist; the workflow's task closure reads it later
  let reviewTask: ((event: unknown) => Promise<unknown>) | undefined;
  const workflow = new LocalWorkflow({
    definitionFile: join(ROOT, 'statemachines', 'onboarding.asl.json'),
    substitutions: { ReviewTaskFunctionArn: 'arn:aws:lambda:local:000000000000:function:gatehouse-review-task' },
    task: (payload) => reviewTask!(payload),
    log,
    taskTimeoutSeconds: options.reviewTimeoutSeconds,
    retryIntervalMs: options.reviewRetryIntervalMs,
    clock,
  });
  const stores = dynamoStores({ tableName, documentClient: dynamo.documentClient });
  const metrics = new MemoryMetrics();
  const mailFrom = 'gatehouse@localhost';
  const mailer = new OutboxMailer({ dir: outboxDir, from: mailFrom, ...(options.onEmail ? { onSend: options.onEmail } : {}) });
  // Lifecycle notices go through the consumer-notice ASL file, as in AWS, its SES task writing to the same outbox.
  const notices = new LocalNoticeWorkflow({
    definitionFile: join(ROOT, 'statemachines', 'consumer-notice.asl.json'),
    substitutions: { MailFrom: mailFrom },
    deliver: mailer,
    log,
    retryIntervalMs: options.noticeRetryIntervalMs,
    dir: dataDir && join(dataDir, 'notices'),
  });
  const services: Services & DynamoStores = {
    ...stores,
    vault,
    clientSecrets,
    workflow,
    mailer,
    linkMailer: mailer,
    clock,
    policy,
    config,
    log,
    metrics,
  };
  let stopping = false;
  const jobs = new Set<Promise<unknown>>();
  /** A scheduled job: none starts once the plane stops, close() waits for the one under way, and a failure is logged, never thrown. */
  const scheduled = (what: string, run: () => Promise<unknown>) => (): void => {
    if (stopping) return;
    const job = run().catch((error: unknown) => log.error(`${what} failed`, { error: (error as Error).message }));
    jobs.add(job);
    void job.finally(() => jobs.delete(job));
  };
  // Each handler gets what its function has in AWS (the ports of its capabilities, the registry operations its role may send).
  const servicesOf = <N extends FunctionName>(name: N) => functionServices(name, services, notices);
  // Ports a handler takes besides its services (the register function's quota counter and software_id index, the key-set fetcher).
  const table = { name: tableName, db: dynamo.documentClient };
  const ports = {
    registrationQuota: dynamoRegistrationQuota(table),
    softwareConsumers: dynamoSoftwareConsumers(table),
    remoteKeySets: httpsKeySets(options.jwksFetchTestOnly ? { testOnly: options.jwksFetchTestOnly } : {}),
  };
  const httpHandlerOf = <N extends HttpHandlerName>(name: N): HttpLambda => HTTP_HANDLER_FACTORIES[name](servicesOf(name), ports);
  reviewTask = createReviewTaskHandler(servicesOf('review-task'));
  // Rotations run their four steps in process here (Secrets Manager invokes a function per step in AWS): counted the same way.
  const counted = async (kind: RotationKind, rotate: () => Promise<void>): Promise<void> => {
    try {
      await rotate();
      metrics.record('SecretRotations', { kind, outcome: 'success' });
    } catch (error) {
      metrics.record('SecretRotations', { kind, outcome: 'failure' });
      throw error;
    }
  };
  const rotateSigningKey = async (publishDelaySeconds = 900): Promise<string> => {
    await vault.getSigningKeys(); // seeded before the first rotation, as the stack's custom resource does
    const token = randomUUID();
    await counted('signing_key', () =>
      rotateSigningKeyFully(token, {
        secret: vault.secret,
        publicKeys: vault.publicKeys,
        now: clock.now(),
        publishDelayMs: publishDelaySeconds * 1000,
        previousOverlapMs: previousOverlapMs(policy),
        log,
        audit: stores.systemAudit,
      }),
    );
    return token;
  };
  const every = options.signingKeyRotationEveryMs;
  const rotateSigningKeyIfDue = async (): Promise<boolean> => {
    if (every === undefined) return false;
    const { current } = await vault.getSigningKeys();
    const since = current.activatesAt !== undefined ? Date.parse(current.activatesAt) : (vault.secret.currentSince()?.getTime() ?? 0);
    if (clock.now().getTime() - since < every) return false;
    try {
      const version = await rotateSigningKey();
      log.info('signing key rotated on schedule', { version });
      return true;
    } catch (error) {
      // The same failure leaves the current key working in AWS (and raises the rotation alarm there).
      log.error('scheduled signing-key rotation failed', { error: (error as Error).message });
      return false;
    }
  };
  const rotationTimer =
    every === undefined
      ? undefined
      : setInterval(scheduled('scheduled signing-key rotation', rotateSigningKeyIfDue), Math.min(Math.max(every / 4, 1000), 3_600_000));
  rotationTimer?.unref();
  const rotationServices = servicesOf('client-secret-rotation');
  const rotateClientSecret = async (clientId: string): Promise<string> => {
    const token = randomUUID();
    await counted('client_secret', () => rotateClientSecretFully(token, clientSecrets.staged(clientId), rotationServices));
    return token;
  };
  clientSecrets.setRotator(rotateClientSecret);
  const rotateClientSecretsIfDue = async (): Promise<string[]> => {
    const rotated: string[] = [];
    for (const clientId of clientSecrets.clientIds()) {
      const consumer = await stores.consumers.getConsumer(clientId);
      if (!consumer || !clientSecretRotationDue(services, consumer, clock.now())) continue;
      try {
        await rotateClientSecret(clientId);
        rotated.push(clientId);
        log.info('client secret rotated on schedule', { clientId });
      } catch (error) {
        // As in AWS: the rotation stalls, the consumer's current secret keeps working, and the next check retries.
        log.error('scheduled client-secret rotation failed', { clientId, error: (error as Error).message });
      }
    }
    return rotated;
  };
  const secretCheck = options.clientSecretRotationCheckMs;
  const secretTimer =
    secretCheck === undefined
      ? undefined
      : setInterval(scheduled('scheduled client-secret rotation check', rotateClientSecretsIfDue), Math.max(secretCheck, 1000));
  secretTimer?.unref();
  const sweepServices = servicesOf('sweep');
  const runSweep = createSweepHandler(sweepServices);
  const sweepNow = (): Promise<SweepResult> => runSweep({});
  const sweepTimer = options.sweepEveryMs === undefined ? undefined : setInterval(scheduled('lifecycle sweep', sweepNow), Math.max(options.sweepEveryMs, 1000));
  sweepTimer?.unref();
  // A crash between storing a client secret and committing its consumer leaves a secret nobody was given: removed
  // before serving, when no registration can be under way.
  for (const clientId of clientSecrets.clientIds()) {
    if (await stores.consumers.getConsumer(clientId)) continue;
    await clientSecrets.remove(clientId);
    log.info('removed the client secret of a registration that never committed', { clientId });
  }
  const noticesResumed = notices.resume();
  if (noticesResumed > 0) log.info('resumed consumer notices after restart', { count: noticesResumed });
  const resumed = await resumePendingReviews(dynamo.documentClient, tableName, workflow, stores.reviews);
  if (resumed > 0) log.info('resumed review workflows after restart', { count: resumed });
  http.setHandlers(Object.fromEntries(HTTP_HANDLERS.map((name) => [name, httpHandlerOf(name)])) as Record<HttpHandlerName, HttpLambda>);

  return {
    url: http.url,
    services,
    outboxDir,
    dataDir,
    softwareStatements,
    workflow,
    notices,
    tableName,
    metrics,
    adminToken,
    documentClient: dynamo.documentClient,
    rotateSigningKey,
    rotateSigningKeyIfDue,
    rotateClientSecret,
    rotateClientSecretsIfDue,
    sweep: sweepNow,
    close: async (graceMs = 10_000) => {
      stopping = true;
      if (sweepTimer) clearInterval(sweepTimer);
      if (rotationTimer) clearInterval(rotationTimer);
      if (secretTimer) clearInterval(secretTimer);
      const deadline = Date.now() + graceMs;
      await http.close(graceMs);
      // A step or job cut half-way could leave work for the next start to find; past the deadline, the table closes anyway.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))));
      await Promise.race([Promise.all([workflow.settle(), Promise.allSettled([...jobs])]), late]);
      clearTimeout(timer);
      workflow.close();
      notices.close();
      await dynamo.close();
    },
  };
}
