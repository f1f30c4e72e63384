import { Stack, Validations, type RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { JSONWebKeySet } from 'jose';
import { ENV, MAIL_FROM_ENV, METRICS_NAMESPACE_ENV } from '../lambdas/adapters/aws/env.js';
import type { ReviewerGroups } from '../lambdas/core/config.js';
import type { OperatorEntry } from '../lambdas/core/admin/operators.js';
import { stackMetricsNamespace } from '../lambdas/core/metrics.js';
import type { LoadedPolicy } from '../lambdas/core/policy/load.js';
import { FUNCTIONS, type Capability, type FunctionSpec } from '../lambdas/contracts/functions.js';
import { GatehouseFunction } from './gatehouse-function.js';
import { grantTableAccess } from './registry-table.js';

/** Name of a handler function in FUNCTIONS. */
export type HandlerFunctionName = keyof typeof FUNCTIONS;

/** Deployment settings every handler reads at start-up (GatehouseConfig); all of them are public values. */
export interface HandlerConfig {
  /** `aud` of the access tokens. */
  readonly tokenAudience: string;
  /** `iss` of software statements (the commercial side). */
  readonly softwareStatementIssuer: string;
  /** Public keys that verify software statements. */
  readonly softwareStatementJwks: JSONWebKeySet;
  /** How long the token endpoint may serve a consumer record from memory, in milliseconds. */
  readonly consumerCacheMs: number;
  /** Who reviews requests, by risk (email addresses; not secret). */
  readonly reviewers: ReviewerGroups;
  /**
   * Operators and the IAM principals they call the admin API as (not secret).
   * @default - none
   */
  readonly operators?: readonly OperatorEntry[];
  /**
   * Documentation for client developers, published as RFC 8414 `service_documentation`.
   * @default - none published
   */
  readonly serviceDocumentation?: string;
}

/** How a function is given access to the token-signing key; implemented by SigningKey. */
export interface SigningKeyAccess {
  /** The secret holding the key set. */
  readonly secret: secretsmanager.ISecret;
  /** The secret holding only the public halves of the key set. */
  readonly publicSecret: secretsmanager.ISecret;
  /** Allows reading the key set. */
  grantRead(grantee: iam.IGrantable): void;
  /** Allows reading the public halves only (no grant on {@link secret}). */
  grantReadPublic(grantee: iam.IGrantable): void;
  /** Allows writing a new version of the key set. */
  grantWrite(grantee: iam.IGrantable): void;
}

/** How a function is allowed to send email; implemented by MailSender. */
export interface MailAccess {
  /** The sender address. */
  readonly from: string;
  /** Allows sending from that address only. */
  grantSend(grantee: iam.IGrantable): void;
}

/**
 * How functions are given access to consumers' client secrets (Secrets Manager secrets named `<prefix><client_id>`,
 * created at run time); implemented by ClientSecrets.
 */
export interface ClientSecretsAccess {
  /** Name prefix of every client secret. */
  readonly prefix: string;
  /** The customer-managed key the secrets are created under. */
  readonly encryptionKey: kms.IKey;
  /** Allows creating, tagging, turning on rotation of and deleting client secrets, with `rotationFunction` as their rotation function. */
  grantCreate(grantee: iam.IGrantable, rotationFunction: lambda.IFunction): void;
  /** Allows reading client secrets' values. */
  grantRead(grantee: iam.IGrantable): void;
  /** Allows rotating client secrets now and deleting them, with `rotationFunction` as the function a rotation invokes. */
  grantManage(grantee: iam.IGrantable, rotationFunction: lambda.IFunction): void;
  /** Allows scheduling client secrets' deletion, and nothing else. */
  grantDelete(grantee: iam.IGrantable): void;
  /** Allows running the rotation protocol on client secrets. */
  grantRotate(grantee: iam.IGrantable): void;
  /** Allows listing secrets (ListSecrets, which takes no resource), to find client secrets without a consumer. */
  grantList(grantee: iam.IGrantable): void;
  /** Makes `fn` the function Secrets Manager rotates client secrets with. */
  useRotationFunction(fn: lambda.IFunction): void;
}

/** The capabilities that touch client secrets; a function with any of them is told the prefix and the key. */
export const CLIENT_SECRET_CAPABILITIES: readonly Capability[] = [
  'client-secrets:create',
  'client-secrets:read',
  'client-secrets:manage',
  'client-secrets:delete',
  'client-secrets:list',
  'client-secrets:rotate',
];

/**
 * The actions `workflow:callback` needs to resume a parked review task. Neither SendTaskHeartbeat (reviews have no
 * heartbeat) nor any execution-level action is needed.
 */
export const TASK_CALLBACK_ACTIONS = ['states:SendTaskSuccess', 'states:SendTaskFailure'] as const;

export interface HandlerFunctionsProps {
  /** The validated policy compiled into every bundle. */
  readonly policy: LoadedPolicy;
  /** The registry table, for `table:*` capabilities. */
  readonly table: dynamodb.ITable;
  /** The token-signing key, for `signing-key:*` capabilities. */
  readonly signingKey: SigningKeyAccess;
  /** Settings every handler reads at start-up. */
  readonly config: HandlerConfig;
  /**
   * The email sender, for `mail:send` capabilities.
   * @default - none; required when a function has `mail:send`
   */
  readonly mail?: MailAccess;
  /**
   * The consumer-notice state machine (lib/notice-workflow.ts), for `notice:send` capabilities.
   * @default - none; required when a function has `notice:send`
   */
  readonly noticeWorkflow?: sfn.IStateMachine;
  /**
   * Consumers' client secrets, for `client-secrets:*` capabilities.
   * @default - none; required when a function has a `client-secrets:*` capability
   */
  readonly clientSecrets?: ClientSecretsAccess;
  /** Key the functions' log groups are encrypted with. */
  readonly logEncryptionKey: kms.IKey;
  /**
   * How long function logs are kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to function log groups when the stack is deleted.
   * @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * The functions to create.
   * @default FUNCTIONS
   */
  readonly functions?: Readonly<Record<HandlerFunctionName, FunctionSpec>>;
  /**
   * Reserved concurrency by handler, overriding the specs' (e.g. `{ token: 200 }`).
   * @default - each spec's reservedConcurrency
   */
  readonly reservedConcurrency?: Readonly<Partial<Record<HandlerFunctionName, number>>>;
}

/**
 * One Lambda per handler in FUNCTIONS. Each function gets the environment and grants its declared capabilities need and
 * nothing more: `table:read` and `table:write` → table name + the DynamoDB actions of the registry operations it lists (or,
 * without a list, grantReadData and grantWriteData),
 * `table:append-system-audit` → table name + Query/PutItem on the signing-key audit partition only,
 * `table:count-software-consumers` → Query on the table's `software` index only,
 * `signing-key:read|write` → secret id + the signing key's grantRead|grantWrite, `signing-key:read-public` → the
 * public-key secret's id + grantReadPublic (GetSecretValue on that secret, kms:Decrypt bound to its ARN), `workflow:start` → state machine ARN +
 * grantStartExecution (wired by {@link HandlerFunctions.allowWorkflowStart}, because the workflow needs the review-task
 * function first), `workflow:callback` → states:SendTaskSuccess/SendTaskFailure (resource `*`: see
 * {@link allowTaskCallback}), `mail:send` → sender address + the mail sender's grantSend (ses:SendEmail on its identity,
 * from that address only), `notice:send` → the notice state machine's ARN + grantStartExecution on it,
 * `client-secrets:*` → the secret name prefix and key ARN + the client secrets' grantCreate, grantRead, grantManage,
 * grantDelete, grantList or grantRotate (see {@link HandlerFunctions.wireClientSecrets}). The deployment settings
 * (issuer, audience, software statement issuer and JWKS, consumer cache, reviewer groups) are public values that every
 * handler's start-up configuration reads, so every handler gets them; the issuer is added by
 * {@link HandlerFunctions.useIssuer} once the API exists.
 */
export class HandlerFunctions extends Construct {
  /** The functions, by handler name. */
  public readonly functions: Readonly<Record<HandlerFunctionName, lambda.Function>>;
  /** The function constructs (role, log group), by handler name. */
  public readonly constructsByName: Readonly<Record<HandlerFunctionName, GatehouseFunction>>;

  private readonly specs: Readonly<Record<HandlerFunctionName, FunctionSpec>>;
  private issuerSet = false;
  private workflowBound = false;

  constructor(scope: Construct, id: string, props: HandlerFunctionsProps) {
    super(scope, id);
    this.specs = props.functions ?? FUNCTIONS;
    const names = Object.keys(this.specs) as HandlerFunctionName[];

    const configEnvironment: Record<string, string> = {
      [METRICS_NAMESPACE_ENV]: stackMetricsNamespace(Stack.of(this).stackName),
      [ENV.tokenAudience]: props.config.tokenAudience,
      [ENV.softwareStatementIssuer]: props.config.softwareStatementIssuer,
      [ENV.softwareStatementJwks]: JSON.stringify(props.config.softwareStatementJwks),
      [ENV.consumerCacheMs]: String(props.config.consumerCacheMs),
      [ENV.reviewers]: JSON.stringify(props.config.reviewers),
      ...(props.config.operators?.length ? { [ENV.operators]: JSON.stringify(props.config.operators) } : {}),
      ...(props.config.serviceDocumentation ? { [ENV.serviceDocumentation]: props.config.serviceDocumentation } : {}),
    };

    const built = {} as Record<HandlerFunctionName, GatehouseFunction>;
    for (const name of names) {
      const spec = this.specs[name];
      if (has(spec, 'signing-key:rotate')) {
        throw new Error(`HandlerFunctions: ${name} has the signing-key:rotate capability, which only SigningKey's rotation function holds`);
      }
      const environment: Record<string, string> = { ...configEnvironment };
      if (has(spec, 'table:read') || has(spec, 'table:write') || has(spec, 'table:append-system-audit')) environment[ENV.tableName] = props.table.tableName;
      if (has(spec, 'signing-key:read') || has(spec, 'signing-key:write')) environment[ENV.signingKeySecretId] = props.signingKey.secret.secretArn;
      if (has(spec, 'signing-key:read-public')) environment[ENV.publicKeysSecretId] = props.signingKey.publicSecret.secretArn;
      if (has(spec, 'mail:send') || has(spec, 'link-mail:send')) {
        if (!props.mail) throw new Error(`HandlerFunctions: ${name} has a mail:send capability but no mail sender was given`);
        environment[MAIL_FROM_ENV] = props.mail.from;
      }
      if (has(spec, 'notice:send')) {
        if (!props.noticeWorkflow) throw new Error(`HandlerFunctions: ${name} has the notice:send capability but no notice workflow was given`);
        // One mailer per function: its entry builds either the SES mailer or the notice-workflow one.
        if (has(spec, 'mail:send')) throw new Error(`HandlerFunctions: ${name} has both mail:send and notice:send; a function sends email one way`);
        environment[ENV.noticeStateMachineArn] = props.noticeWorkflow.stateMachineArn;
      }
      if (CLIENT_SECRET_CAPABILITIES.some((c) => has(spec, c))) {
        if (!props.clientSecrets) throw new Error(`HandlerFunctions: ${name} has a client-secrets capability but no client secrets were given`);
        environment[ENV.clientSecretPrefix] = props.clientSecrets.prefix;
        environment[ENV.clientSecretKeyId] = props.clientSecrets.encryptionKey.keyArn;
      }

      const fn = new GatehouseFunction(this, constructId(name), {
        spec,
        policy: props.policy,
        logEncryptionKey: props.logEncryptionKey,
        logRetention: props.logRetention,
        logRemovalPolicy: props.logRemovalPolicy,
        environment,
        description: `Gatehouse ${name} handler`,
        reservedConcurrency: props.reservedConcurrency?.[name],
      });
      grantTableAccess(fn, props.table, {
        read: has(spec, 'table:read'),
        write: has(spec, 'table:write'),
        appendSystemAudit: has(spec, 'table:append-system-audit'),
        countSoftwareConsumers: has(spec, 'table:count-software-consumers'),
        operations: spec.registry,
      });
      if (has(spec, 'signing-key:read')) props.signingKey.grantRead(fn.function);
      if (has(spec, 'signing-key:read-public')) props.signingKey.grantReadPublic(fn.function);
      if (has(spec, 'signing-key:write')) props.signingKey.grantWrite(fn.function);
      if (has(spec, 'workflow:callback')) allowTaskCallback(fn);
      if (has(spec, 'mail:send') || has(spec, 'link-mail:send')) props.mail?.grantSend(fn.function);
      if (has(spec, 'notice:send')) props.noticeWorkflow?.grantStartExecution(fn.function);
      built[name] = fn;
    }
    this.constructsByName = built;
    this.functions = Object.fromEntries(names.map((n) => [n, built[n].function])) as Record<HandlerFunctionName, lambda.Function>;
    if (props.clientSecrets) this.wireClientSecrets(props.clientSecrets, names);

    this.node.addValidation({
      validate: () => {
        const errors: string[] = [];
        if (!this.issuerSet) errors.push('HandlerFunctions: useIssuer() was never called; the handlers need GATEHOUSE_ISSUER');
        if (!this.workflowBound && names.some((n) => has(this.specs[n], 'workflow:start'))) {
          errors.push('HandlerFunctions: a function has the workflow:start capability but allowWorkflowStart() was never called');
        }
        return errors;
      },
    });
  }

  /**
   * The client-secret grants. They need every function built first: the one function with `client-secrets:rotate` is the
   * rotation function Secrets Manager invokes, and a `client-secrets:create` or `client-secrets:manage` function calls
   * RotateSecret, which invokes it (so it gets its ARN and may invoke exactly that function).
   */
  private wireClientSecrets(clientSecrets: ClientSecretsAccess, names: readonly HandlerFunctionName[]): void {
    const holding = (capability: Capability) => names.filter((n) => has(this.specs[n], capability));
    const rotators = holding('client-secrets:rotate');
    if (rotators.length > 1) {
      throw new Error(
        `HandlerFunctions: only one function may have client-secrets:rotate (Secrets Manager invokes one rotation function), got ${rotators.join(', ')}`,
      );
    }
    const creators = holding('client-secrets:create');
    const managers = holding('client-secrets:manage');
    const rotator = rotators[0];
    for (const [capability, holders] of [
      ['client-secrets:create', creators],
      ['client-secrets:manage', managers],
    ] as const) {
      if (holders.length > 0 && rotator === undefined) {
        throw new Error(
          `HandlerFunctions: ${holders.join(', ')} has ${capability} but no function has client-secrets:rotate (the rotation function RotateSecret invokes)`,
        );
      }
    }
    if (rotator !== undefined) {
      const rotationFunction = this.functions[rotator];
      clientSecrets.grantRotate(rotationFunction);
      clientSecrets.useRotationFunction(rotationFunction);
      for (const name of creators) clientSecrets.grantCreate(this.functions[name], rotationFunction);
      for (const name of managers) clientSecrets.grantManage(this.functions[name], rotationFunction);
      for (const name of new Set([...creators, ...managers])) this.functions[name].addEnvironment(ENV.clientSecretRotationArn, rotationFunction.functionArn);
    }
    for (const name of holding('client-secrets:read')) clientSecrets.grantRead(this.functions[name]);
    for (const name of holding('client-secrets:delete')) clientSecrets.grantDelete(this.functions[name]);
    for (const name of holding('client-secrets:list')) clientSecrets.grantList(this.functions[name]);
  }

  /** Sets the issuer (the API's base URL) on every handler. */
  public useIssuer(issuer: string): void {
    for (const fn of Object.values(this.functions)) fn.addEnvironment(ENV.issuer, issuer);
    this.issuerSet = true;
  }

  /** Lets the functions with the `workflow:start` capability start executions of the state machine, and tells them its ARN. */
  public allowWorkflowStart(stateMachine: sfn.IStateMachine): void {
    for (const name of Object.keys(this.specs) as HandlerFunctionName[]) {
      if (!has(this.specs[name], 'workflow:start')) continue;
      const fn = this.functions[name];
      fn.addEnvironment(ENV.stateMachineArn, stateMachine.stateMachineArn);
      stateMachine.grantStartExecution(fn);
    }
    this.workflowBound = true;
  }
}

/**
 * `workflow:callback`: SendTaskSuccess / SendTaskFailure. These actions name no resource, only a task token: the Service
 * Authorization Reference lists no resource type for them ("If there is no value for this column, you must specify all
 * resources ("*")"), so a statement scoped to the state machine ARN is not what IAM documents and may be denied. The
 * token itself is the scope: an opaque value Step Functions issues to one waiting task, which only review-task stores in
 * the registry table. Hence no dependency on the state machine here, and no cycle (the workflow depends on review-task).
 */
function allowTaskCallback(fn: GatehouseFunction): void {
  fn.function.addToRolePolicy(new iam.PolicyStatement({ actions: [...TASK_CALLBACK_ACTIONS], resources: ['*'] }));
  Validations.of(fn.role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'workflow:callback: states:SendTaskSuccess and states:SendTaskFailure take a task token and support no resource-level permissions (Service Authorization Reference: no resource type, so "*"). The function only holds tokens review-task parked in the registry table for the review state machine; it has no other states:* action (asserted in test/lib/handler-functions.test.ts).',
  });
}

function has(spec: FunctionSpec, capability: Capability): boolean {
  return spec.capabilities.includes(capability);
}

/** `registration-read` → `RegistrationRead`. */
function constructId(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
