import { CfnOutput, Stack, Validations, type Duration, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { JSONWebKeySet } from 'jose';
import { TABLE_SCHEMA } from '../lambdas/adapters/aws/table-schema.js';
import type { ReviewerGroups } from '../lambdas/core/config.js';
import type { OperatorEntry } from '../lambdas/core/admin/operators.js';
import type { LoadedPolicy } from '../lambdas/core/policy/load.js';
import { AlarmTopic } from './alarm-topic.js';
import { ApplicationAlarms } from './application-alarms.js';
import { GatehouseApi } from './api.js';
import type { RateLimitedRoute, WafBodyLimitKiB } from './api-firewall.js';
import type { RouteThrottling } from './api-throttling.js';
import { ClientSecrets } from './client-secrets.js';
import { GatehouseDashboard } from './dashboard.js';
import { checkEnvironmentSizes } from './environment-size.js';
import { FUNCTIONS } from '../lambdas/contracts/functions.js';
import { HandlerFunctions, type HandlerFunctionName } from './handler-functions.js';
import { LifecycleSweep } from './lifecycle-sweep.js';
import { LogEncryptionKey } from './log-encryption-key.js';
import { MailSender } from './mail-sender.js';
import { NoticeWorkflow } from './notice-workflow.js';
import { OperationalAlarms } from './operational-alarms.js';
import { RegistryTable } from './registry-table.js';
import { ReviewWorkflow } from './review-workflow.js';
import { ROUTES } from '../lambdas/contracts/routes.js';
import { SigningKey } from './signing-key.js';

export interface GatehouseStackProps extends StackProps {
  /** The validated policy, compiled into every function bundle. */
  readonly policy: LoadedPolicy;
  /** `aud` of the access tokens: the bank API(s) they are for. */
  readonly tokenAudience: string;
  /** `iss` of software statements (the commercial side). */
  readonly softwareStatementIssuer: string;
  /** Public keys that verify software statements. */
  readonly softwareStatementJwks: JSONWebKeySet;
  /** Who reviews onboarding requests: reviewer email addresses by risk, `default` for the rest. */
  readonly reviewers: ReviewerGroups;
  /**
   * Operators: each person's email and the IAM principals they call the admin API as.
   * @default - none; only IAM Identity Center sessions named by email are known people
   */
  readonly operators?: readonly OperatorEntry[];
  /** Sender address of Gatehouse emails (review requests, outcomes); IAM allows sending from it only. */
  readonly mailFrom: string;
  /**
   * The verified SES identity mailFrom sends through: the address itself or its domain.
   * @default - the domain of mailFrom
   */
  readonly sesIdentity?: string;
  /**
   * Whether this stack creates the SES identity (it still needs DNS/DKIM or address verification).
   * @default false - the identity is managed outside Gatehouse
   */
  readonly createSesIdentity?: boolean;
  /**
   * The SES configuration set mail is sent with (e.g. the identity's default configuration set); the send grants cover it.
   * @default - none
   */
  readonly sesConfigurationSet?: string;
  /**
   * Documentation for client developers, published in the authorization server metadata (RFC 8414 `service_documentation`).
   * @default - none published
   */
  readonly serviceDocumentation?: string;
  /**
   * Issuer identifier when the API is served from a custom domain.
   * @default - the execute-api URL of the `v1` stage
   */
  readonly issuer?: string;
  /**
   * How long the token endpoint may serve a consumer record from memory (bounds how late a revocation bites), in ms.
   * @default 5000
   */
  readonly consumerCacheMs?: number;
  /**
   * Stage-wide API request rate limit (requests per second).
   * @default 50
   */
  readonly apiThrottlingRateLimit?: number;
  /**
   * Stage-wide API burst limit (requests).
   * @default 100
   */
  readonly apiThrottlingBurstLimit?: number;
  /**
   * How long every Gatehouse log group keeps events.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * How often Secrets Manager rotates the token-signing key.
   * @default Duration.days(30)
   */
  readonly signingKeyRotation?: Duration;
  /**
   * How long a new signing key is published in JWKS before it signs.
   * @default Duration.seconds(900)
   */
  readonly signingKeyPublishDelay?: Duration;
  /**
   * How often the lifecycle sweep runs (whole minutes, 5 to 1440).
   * @default Duration.minutes(60)
   */
  readonly sweepInterval?: Duration;
  /**
   * Topic told when any Gatehouse alarm fires or clears (function faults, SES, DynamoDB, Step Functions, API 5xx,
   * rotations, the sweep).
   * @default - a new KMS-encrypted AlarmTopic, with `alarmEmails` subscribed
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Email addresses subscribed to the alarm topic this stack creates (ignored when `alarmTopic` is given).
   * @default - none
   */
  readonly alarmEmails?: readonly string[];
  /**
   * Whether the functions reserve concurrency (each its spec's, the token function `tokenReservedConcurrency`). Off, no
   * function reserves any: a new account's Lambda concurrency quota (as low as 10) cannot hold the reservations, and the
   * token route stays throttled by API Gateway.
   * @default false
   */
  readonly reservedConcurrency?: boolean;
  /**
   * Concurrent executions reserved for the token function (the hot path) when `reservedConcurrency` is on; the other
   * functions keep their spec's.
   * @default FUNCTIONS.token.reservedConcurrency (100)
   */
  readonly tokenReservedConcurrency?: number;
  /**
   * Method-level API throttling by route selector, on top of the stage-wide limits.
   * @default each route's own throttle (Route.throttle in the route table)
   */
  readonly apiRouteThrottling?: RouteThrottling;
  /**
   * The API's request body limit enforced by AWS WAF (and how much of a body WAF inspects), in KiB.
   * @default 64
   */
  readonly apiMaxBodyKiB?: WafBodyLimitKiB;
  /**
   * Requests one client IP may send to the API in any 5 minutes before WAF answers 429.
   * @default 3000
   */
  readonly apiRequestsPerIpPer5Minutes?: number;
  /**
   * Per-IP WAF limits (requests in any 5 minutes) of the route groups with their own: `oauth2` (token, introspection,
   * revocation), `register`, `reviews`; `apiRequestsPerIpPer5Minutes` covers the other routes.
   * @default DEFAULT_ROUTE_RATE_LIMITS (300,000; 100; 300)
   */
  readonly apiRouteRequestsPerIpPer5Minutes?: Readonly<Partial<Record<RateLimitedRoute, number>>>;
  /**
   * Whether the stack backs the registry table up with AWS Backup (false only where an organisation backup policy does).
   * @default true
   */
  readonly registryBackup?: boolean;
  /**
   * Whether to create the account-level API Gateway logging role and set it as the account's (AWS::ApiGateway::Account,
   * one per account and region): one stack per account and region owns it (context `manageApiGatewayAccount`); the
   * others, or every stack where the landing zone sets it, pass false.
   * @default true
   */
  readonly apiCloudWatchRole?: boolean;
}

/**
 * Gatehouse on AWS: registry table (with AWS Backup), signing key, client secrets, mail sender, handler functions, review
 * workflow, the scheduled lifecycle sweep, the API (public routes and the IAM-authorised admin routes, behind AWS WAF,
 * throttled per stage and per route), an alarm per fault class notifying one KMS-encrypted topic, and a CloudWatch dashboard.
 */
export class GatehouseStack extends Stack {
  public readonly logEncryptionKey: LogEncryptionKey;
  public readonly registry: RegistryTable;
  public readonly signingKey: SigningKey;
  public readonly clientSecrets: ClientSecrets;
  public readonly mail: MailSender;
  public readonly handlers: HandlerFunctions;
  public readonly reviewWorkflow: ReviewWorkflow;
  /** Sends consumers' lifecycle notices through SES, with retries. */
  public readonly noticeWorkflow: NoticeWorkflow;
  public readonly lifecycleSweep: LifecycleSweep;
  public readonly api: GatehouseApi;
  /** The topic every alarm notifies. */
  public readonly alarmTopic: sns.ITopic;
  /** The per-fault-class alarms (functions, SES, DynamoDB, Step Functions, API). */
  public readonly alarms: OperationalAlarms;
  /** Alarms on Gatehouse's own metrics (reviews expired unreviewed, the sweep not running). */
  public readonly applicationAlarms: ApplicationAlarms;
  /** The CloudWatch dashboard of the stack. */
  public readonly dashboard: GatehouseDashboard;

  constructor(scope: Construct, id: string, props: GatehouseStackProps) {
    super(scope, id, props);
    const logRetention = props.logRetention;

    this.logEncryptionKey = new LogEncryptionKey(this, 'LogEncryption');
    const logEncryptionKey = this.logEncryptionKey.key;

    this.alarmTopic = props.alarmTopic ?? new AlarmTopic(this, 'AlarmTopic', { emails: props.alarmEmails }).topic;
    const alarmTopic = this.alarmTopic;

    this.registry = new RegistryTable(this, 'Registry', { backup: props.registryBackup });
    this.signingKey = new SigningKey(this, 'SigningKey', {
      policy: props.policy,
      table: this.registry.table,
      logEncryptionKey,
      logRetention,
      rotationInterval: props.signingKeyRotation,
      publishDelay: props.signingKeyPublishDelay,
      alarmTopic,
    });
    // Named gatehouse/<stack name>/clients/<client_id>, so two Gatehouse stacks in one account never share secrets.
    this.clientSecrets = new ClientSecrets(this, 'ClientSecrets', { alarmTopic });
    this.mail = new MailSender(this, 'Mail', {
      from: props.mailFrom,
      identity: props.sesIdentity,
      createIdentity: props.createSesIdentity,
      configurationSet: props.sesConfigurationSet,
    });
    this.noticeWorkflow = new NoticeWorkflow(this, 'NoticeWorkflow', { mail: this.mail, logEncryptionKey, logRetention });

    this.handlers = new HandlerFunctions(this, 'Handlers', {
      policy: props.policy,
      table: this.registry.table,
      signingKey: this.signingKey,
      config: {
        tokenAudience: props.tokenAudience,
        softwareStatementIssuer: props.softwareStatementIssuer,
        softwareStatementJwks: props.softwareStatementJwks,
        consumerCacheMs: props.consumerCacheMs ?? 5000,
        reviewers: props.reviewers,
        ...(props.operators?.length ? { operators: props.operators } : {}),
        ...(props.serviceDocumentation ? { serviceDocumentation: props.serviceDocumentation } : {}),
      },
      mail: this.mail,
      noticeWorkflow: this.noticeWorkflow.stateMachine,
      clientSecrets: this.clientSecrets,
      logEncryptionKey,
      logRetention,
      reservedConcurrency: props.tokenReservedConcurrency === undefined ? undefined : { token: props.tokenReservedConcurrency },
    });

    this.reviewWorkflow = new ReviewWorkflow(this, 'ReviewWorkflow', {
      reviewTaskFunction: this.handlers.functions['review-task'],
      logEncryptionKey,
      logRetention,
    });
    this.handlers.allowWorkflowStart(this.reviewWorkflow.stateMachine);

    this.lifecycleSweep = new LifecycleSweep(this, 'LifecycleSweep', {
      sweepFunction: this.handlers.functions.sweep,
      interval: props.sweepInterval,
      alarmTopic,
    });

    this.api = new GatehouseApi(this, 'Api', {
      handlers: this.handlers.functions,
      issuer: props.issuer,
      throttlingRateLimit: props.apiThrottlingRateLimit,
      throttlingBurstLimit: props.apiThrottlingBurstLimit,
      cloudWatchRole: props.apiCloudWatchRole,
      logEncryptionKey,
      logRetention,
      routeThrottling: props.apiRouteThrottling,
      maxBodyKiB: props.apiMaxBodyKiB,
      requestsPerIpPer5Minutes: props.apiRequestsPerIpPer5Minutes,
      routeRequestsPerIpPer5Minutes: props.apiRouteRequestsPerIpPer5Minutes,
    });
    this.handlers.useIssuer(this.api.issuerUrl);

    const handlerNames = Object.keys(FUNCTIONS) as HandlerFunctionName[];
    this.alarms = new OperationalAlarms(this, 'Alarms', {
      alarmTopic,
      functions: { ...this.handlers.constructsByName, 'signing-key-rotation': this.signingKey.rotationFunction },
      // Their errors raise the rotation and sweep alarms already.
      errorsAlarmedElsewhere: ['client-secret-rotation', 'sweep', 'signing-key-rotation'],
      mailSenders: handlerNames.filter((n) => FUNCTIONS[n].capabilities.some((c) => c === 'mail:send' || c === 'link-mail:send')),
      table: this.registry.table,
      tableIndexes: TABLE_SCHEMA.indexes.map((index) => index.name),
      stateMachine: this.reviewWorkflow.stateMachine,
      noticeStateMachine: this.noticeWorkflow.stateMachine,
      restApi: this.api.restApi,
    });

    this.applicationAlarms = new ApplicationAlarms(this, 'ApplicationAlarms', { alarmTopic, sweepInterval: this.lifecycleSweep.interval });

    const tokenRoute = ROUTES.find((route) => route.handler === 'token')!;
    this.dashboard = new GatehouseDashboard(this, 'Dashboard', {
      tokenMethod: this.api.methods[`${tokenRoute.method} ${tokenRoute.path}`]!,
      stage: this.api.restApi.deploymentStage,
      tokenFunction: this.handlers.functions.token,
      table: this.registry.table,
      tableIndexes: TABLE_SCHEMA.indexes.map((index) => index.name),
      stateMachine: this.reviewWorkflow.stateMachine,
      noticeStateMachine: this.noticeWorkflow.stateMachine,
      // Every alarm of the stack, whichever construct made it.
      alarms: this.node.findAll().filter((c): c is cloudwatch.Alarm => c instanceof cloudwatch.Alarm),
    });

    new CfnOutput(this, 'ApiUrl', { description: 'Base URL of the v1 stage', value: this.api.restApi.url });
    new CfnOutput(this, 'Issuer', { description: 'Issuer identifier (RFC 8414) and iss of access tokens', value: this.api.issuerUrl });
    new CfnOutput(this, 'TableName', { description: 'Registry table', value: this.registry.table.tableName });
    new CfnOutput(this, 'StateMachineArn', { description: 'Onboarding review workflow', value: this.reviewWorkflow.stateMachine.stateMachineArn });
    new CfnOutput(this, 'NoticeStateMachineArn', {
      description: 'Consumer notice workflow (failed notices can be redriven here)',
      value: this.noticeWorkflow.stateMachine.stateMachineArn,
    });
    new CfnOutput(this, 'SigningKeySecretArn', { description: 'Token-signing key set', value: this.signingKey.secret.secretArn });
    new CfnOutput(this, 'SigningKeyRotationAlarmName', {
      description: 'In alarm when a signing-key rotation fails',
      value: this.signingKey.rotationAlarm.alarmName,
    });
    new CfnOutput(this, 'ClientSecretPrefix', {
      description: 'Client secrets are the Secrets Manager secrets named <prefix><client_id>',
      value: this.clientSecrets.prefix,
    });
    new CfnOutput(this, 'ClientSecretRotationAlarmName', {
      description: 'In alarm when a client-secret rotation step fails',
      value: this.clientSecrets.rotationAlarm.alarmName,
    });
    new CfnOutput(this, 'SweepAlarmName', { description: 'In alarm when a lifecycle sweep run fails', value: this.lifecycleSweep.errorsAlarm.alarmName });
    new CfnOutput(this, 'AlarmTopicArn', { description: 'Every Gatehouse alarm notifies this topic (in alarm and OK)', value: alarmTopic.topicArn });
    if (!(props.reservedConcurrency ?? false)) releaseReservedConcurrency(this);
    checkEnvironmentSizes(this);
    new CfnOutput(this, 'ReservedConcurrency', {
      description: 'Lambda concurrency this stack reserves; the account needs at least this plus 100 unreserved',
      value: String(this.reservedConcurrency()),
    });
    new CfnOutput(this, 'SweepDeadLetterAlarmName', {
      description: 'In alarm when EventBridge could not invoke the lifecycle sweep (its event is in the dead-letter queue)',
      value: this.lifecycleSweep.deadLetterAlarm.alarmName,
    });
  }

  /** The Lambda concurrency every function of this stack reserves together. */
  public reservedConcurrency(): number {
    let total = 0;
    for (const fn of this.node.findAll()) {
      if (fn instanceof lambda.CfnFunction && typeof fn.reservedConcurrentExecutions === 'number') total += fn.reservedConcurrentExecutions;
    }
    return total;
  }
}

/**
 * Clears the reserved concurrency every function construct sets by default (specs, the custom-resource framework), so a
 * deployment reserves none unless it asks to, and acknowledges the NIST rule that wants it on each function.
 */
function releaseReservedConcurrency(stack: Stack): void {
  for (const fn of stack.node.findAll()) {
    if (!(fn instanceof lambda.CfnFunction)) continue;
    fn.reservedConcurrentExecutions = undefined;
    Validations.of(fn).acknowledge({
      id: 'NIST.800.53.R5-LambdaConcurrency',
      reason:
        "reserved concurrency is off for this deployment (the reservedConcurrency context value): a new account's Lambda concurrency quota cannot hold the reservations and the stack would fail to create; API Gateway throttles every route (stage and per-route limits) and WAF rate-limits per IP, which bound the load on each function instead.",
    });
  }
}
