import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetAccountCommand, GetConfigurationSetCommand, GetEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { App } from 'aws-cdk-lib';
import { loadAppConfig, loadStackName } from '../lib/app-config.js';
import { GatehouseStack } from '../lib/gatehouse-stack.js';
import { placeholderFindings } from '../lib/placeholders.js';

/** One line of the checklist: what was checked, whether it holds, and the fix when it does not. */
export interface Check {
  readonly name: string;
  readonly status: 'ok' | 'fail' | 'warn' | 'skipped';
  readonly detail: string;
}

export interface PreflightInput {
  readonly ses: SESv2Client;
  readonly sesIdentity: string;
  readonly mailFrom: string;
  readonly reviewers: readonly string[];
  readonly configurationSet?: string | undefined;
  readonly alarmEmails: readonly string[];
  readonly ssm: SSMClient;
  /** What the synthesized stack requires of the CDK bootstrap (`bootstrapRequirement` of its template). */
  readonly bootstrap: BootstrapRequirement;
  readonly lambda: LambdaClient;
  /** The Lambda concurrency the stack reserves (`GatehouseStack.reservedConcurrency()`); undefined when reservation is off. */
  readonly reservedConcurrency?: number | undefined;
}

/** The SSM parameter the bootstrap stack publishes its version in, and the lowest version the stack accepts. */
export interface BootstrapRequirement {
  readonly parameterName: string;
  readonly minVersion?: number | undefined;
}

/** AWS keeps at least this many executions unreserved in every account (Lambda rejects a reservation below it). */
export const MIN_UNRESERVED_CONCURRENCY = 100;

/** The Service Quotas code of Lambda's "Concurrent executions" quota. */
const LAMBDA_CONCURRENCY_QUOTA = 'L-B99A9384';

const errorName = (error: unknown) => (error as { name?: string }).name ?? 'Error';
const accessDenied = (error: unknown) => /^(AccessDenied|AccessDeniedException|UnauthorizedOperation)$/.test(errorName(error));

/**
 * The bootstrap requirement as CDK's DefaultStackSynthesizer writes it into a template: the `BootstrapVersion` parameter
 * (an SSM parameter name, qualifier included) and the `CheckBootstrapVersion` rule, which rejects the listed versions.
 * Reading the synthesized template keeps the minimum in step with the installed aws-cdk-lib instead of a copied number.
 */
export function bootstrapRequirement(template: unknown): BootstrapRequirement | undefined {
  const t = template as {
    Parameters?: { BootstrapVersion?: { Default?: unknown } };
    Rules?: { CheckBootstrapVersion?: { Assertions?: Array<{ Assert?: unknown }> } };
  };
  const parameterName = t.Parameters?.BootstrapVersion?.Default;
  if (typeof parameterName !== 'string') return undefined;
  const rejected = (t.Rules?.CheckBootstrapVersion?.Assertions ?? []).flatMap((a) => {
    const contains = (a.Assert as { 'Fn::Not'?: Array<{ 'Fn::Contains'?: [unknown, unknown] }> } | undefined)?.['Fn::Not']?.[0]?.['Fn::Contains'];
    return Array.isArray(contains?.[0]) ? (contains[0] as unknown[]).map(Number).filter(Number.isInteger) : [];
  });
  return { parameterName, ...(rejected.length > 0 ? { minVersion: Math.max(...rejected) + 1 } : {}) };
}

/**
 * Read-only checks of a target account before `cdk deploy`, with the caller's credentials: SES identity, production access
 * (or, in the sandbox, every reviewer address verified), the configuration set, the alarm addresses, the CDK bootstrap
 * version, and (when the stack reserves concurrency) the Lambda concurrency quota. It calls only SES v2 Get*,
 * ssm:GetParameter and lambda:GetAccountSettings.
 */
export async function preflight(input: PreflightInput): Promise<Check[]> {
  const checks: Check[] = [];
  const identityStatus = async (identity: string): Promise<'verified' | 'pending' | 'missing'> => {
    try {
      const out = await input.ses.send(new GetEmailIdentityCommand({ EmailIdentity: identity }));
      return out.VerifiedForSendingStatus ? 'verified' : 'pending';
    } catch (error) {
      if (errorName(error) === 'NotFoundException') return 'missing';
      throw error;
    }
  };

  const identity = await identityStatus(input.sesIdentity);
  checks.push(
    identity === 'verified'
      ? { name: 'SES identity', status: 'ok', detail: `${input.sesIdentity} is verified for sending (mailFrom ${input.mailFrom})` }
      : {
          name: 'SES identity',
          status: 'fail',
          detail:
            identity === 'missing'
              ? `${input.sesIdentity} does not exist in this region: create it (SES console, or -c createSesIdentity=true) and publish its DKIM records`
              : `${input.sesIdentity} is not verified yet: publish its DKIM DNS records (domain) or click the verification link (address)`,
        },
  );

  const account = await input.ses.send(new GetAccountCommand({}));
  const production = account.ProductionAccessEnabled === true;
  checks.push(
    production
      ? { name: 'SES production access', status: 'ok', detail: 'the account is out of the SES sandbox' }
      : {
          name: 'SES production access',
          status: 'warn',
          detail:
            'the account is in the SES sandbox: it sends only to verified addresses. Request production access (SES console, Account dashboard) before the first real review',
        },
  );
  if (!production) {
    for (const reviewer of input.reviewers) {
      const status = await identityStatus(reviewer);
      checks.push(
        status === 'verified'
          ? { name: `reviewer ${reviewer}`, status: 'ok', detail: 'verified: receives review links while in the sandbox' }
          : {
              name: `reviewer ${reviewer}`,
              status: 'fail',
              detail: `not verified: in the sandbox SES refuses mail to it. Verify it (aws sesv2 create-email-identity --email-identity ${reviewer}) or get production access`,
            },
      );
    }
  }

  if (input.configurationSet !== undefined) {
    try {
      await input.ses.send(new GetConfigurationSetCommand({ ConfigurationSetName: input.configurationSet }));
      checks.push({ name: 'SES configuration set', status: 'ok', detail: `${input.configurationSet} exists` });
    } catch (error) {
      if (errorName(error) !== 'NotFoundException') throw error;
      checks.push({
        name: 'SES configuration set',
        status: 'fail',
        detail: `${input.configurationSet} does not exist in this region: create it or drop -c sesConfigurationSet`,
      });
    }
  } else {
    const fromIdentity = await input.ses.send(new GetEmailIdentityCommand({ EmailIdentity: input.sesIdentity })).catch(() => undefined);
    const defaultSet = fromIdentity?.ConfigurationSetName;
    if (defaultSet) {
      checks.push({
        name: 'SES configuration set',
        status: 'fail',
        detail: `${input.sesIdentity} sends with the default configuration set ${defaultSet}, which the send grants do not cover: set -c sesConfigurationSet=${defaultSet}`,
      });
    }
  }

  checks.push(
    input.alarmEmails.length > 0
      ? {
          name: 'alarm subscription',
          status: 'warn',
          detail: `after deploying, each of ${input.alarmEmails.join(', ')} must confirm the SNS subscription email (aws sns list-subscriptions-by-topic --topic-arn <AlarmTopicArn>)`,
        }
      : { name: 'alarm subscription', status: 'fail', detail: 'no alarmEmails: the alarms would notify nobody; set -c alarmEmails=<on-call addresses>' },
  );
  checks.push(await bootstrapCheck(input));
  if (input.reservedConcurrency !== undefined) checks.push(await concurrencyCheck(input.lambda, input.reservedConcurrency));
  return checks;
}

async function bootstrapCheck(input: PreflightInput): Promise<Check> {
  const name = 'CDK bootstrap';
  const region = await input.ssm.config.region().catch(() => '<region>');
  const fix = `run npx cdk bootstrap aws://<account>/${region}`;
  let version: number;
  try {
    const out = await input.ssm.send(new GetParameterCommand({ Name: input.bootstrap.parameterName }));
    version = Number(out.Parameter?.Value);
  } catch (error) {
    if (errorName(error) === 'ParameterNotFound')
      return { name, status: 'fail', detail: `${input.bootstrap.parameterName} not found: the account and region are not bootstrapped; ${fix}` };
    if (accessDenied(error)) return { name, status: 'fail', detail: `not checked: the credentials lack ssm:GetParameter on ${input.bootstrap.parameterName}` };
    throw error;
  }
  const min = input.bootstrap.minVersion;
  if (min !== undefined && !(version >= min))
    return {
      name,
      status: 'fail',
      detail: `bootstrap version ${String(version)} is older than the ${String(min)} this stack requires; ${fix} again to upgrade it`,
    };
  return { name, status: 'ok', detail: `bootstrap version ${String(version)}${min === undefined ? '' : ` (the stack requires ${String(min)})`}` };
}

async function concurrencyCheck(lambda: LambdaClient, reserved: number): Promise<Check> {
  const name = 'Lambda concurrency quota';
  let quota: number | undefined;
  let unreserved: number | undefined;
  try {
    const out = await lambda.send(new GetAccountSettingsCommand({}));
    quota = out.AccountLimit?.ConcurrentExecutions;
    unreserved = out.AccountLimit?.UnreservedConcurrentExecutions;
  } catch (error) {
    if (accessDenied(error)) return { name, status: 'fail', detail: 'not checked: the credentials lack lambda:GetAccountSettings' };
    throw error;
  }
  if (quota === undefined || unreserved === undefined) return { name, status: 'warn', detail: 'Lambda did not report the account limits' };
  const left = unreserved - reserved;
  if (left >= MIN_UNRESERVED_CONCURRENCY)
    return {
      name,
      status: 'ok',
      detail: `quota ${String(quota)}, ${String(unreserved)} unreserved; the stack reserves ${String(reserved)}, leaving ${String(left)}`,
    };
  // Reservations other functions of the account already hold stay held; the quota must cover them too.
  const needed = quota - unreserved + reserved + MIN_UNRESERVED_CONCURRENCY;
  return {
    name,
    status: 'fail',
    detail:
      `the stack reserves ${String(reserved)} of ${String(unreserved)} unreserved executions (quota ${String(quota)}), leaving ${String(left)}, below the ${String(MIN_UNRESERVED_CONCURRENCY)} Lambda keeps unreserved: ` +
      `request a Service Quotas increase of Lambda "Concurrent executions" (${LAMBDA_CONCURRENCY_QUOTA}) to at least ${String(needed)}, or turn reserved concurrency off (-c reservedConcurrency=false)`,
  };
}

/**
 * Synthesizes the stack the context describes (without bundling) for what it asks of the account: the bootstrap version
 * and, when reservation is on, the concurrency it reserves. The same construct tree `cdk deploy` builds decides both.
 */
export function stackRequirements(context: Record<string, unknown>): { bootstrap: BootstrapRequirement; reservedConcurrency?: number } {
  // Only the template's bootstrap rule and the reserved concurrency are read: CDK's CloudFormation validation is for `cdk synth`.
  const app = new App({ builtinCloudFormationValidation: false, context: { ...context, 'aws:cdk:bundling-stacks': [], 'aws:cdk:disable-stack-trace': true } });
  const stackName = loadStackName((key) => app.node.tryGetContext(key));
  const config = loadAppConfig((key) => app.node.tryGetContext(key));
  const stack = new GatehouseStack(app, stackName, config);
  const bootstrap = bootstrapRequirement(app.synth({ validateOnSynthesis: false }).getStackByName(stackName).template);
  if (bootstrap === undefined) throw new Error(`the synthesized ${stackName} template names no BootstrapVersion parameter`);
  return { bootstrap, ...(config.reservedConcurrency ? { reservedConcurrency: stack.reservedConcurrency() } : {}) };
}

/** The checklist as text, one line a check. */
export function render(checks: readonly Check[]): string {
  const mark = { ok: 'OK  ', fail: 'FAIL', warn: 'WARN', skipped: 'SKIP' } as const;
  return checks.map((c) => `${mark[c.status]} ${c.name}: ${c.detail}`).join('\n');
}

async function main(): Promise<void> {
  // The context the CDK app reads: cdk.json, overridden by key=value arguments (as with -c).
  const cli = Object.fromEntries(
    process.argv
      .slice(2)
      .filter((a) => a.includes('='))
      .map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]),
  );
  const context: Record<string, unknown> = { ...(JSON.parse(readFileSync('cdk.json', 'utf8')) as { context: Record<string, unknown> }).context, ...cli };
  const config = loadAppConfig((key) => context[key]);
  const requirements = stackRequirements(context);
  const checks = await preflight({
    ssm: new SSMClient({}),
    lambda: new LambdaClient({}),
    ...requirements,
    ses: new SESv2Client({}),
    sesIdentity: config.sesIdentity ?? config.mailFrom,
    mailFrom: config.mailFrom,
    reviewers: [...new Set(Object.values(config.reviewers).flatMap((g) => g ?? []))],
    configurationSet: config.sesConfigurationSet,
    alarmEmails: config.alarmEmails ?? [],
  });
  const placeholders = placeholderFindings(config).map((detail): Check => ({ name: 'placeholders', status: 'fail', detail }));
  const all = [...placeholders, ...checks];
  process.stdout.write(`${render(all)}\n`);
  process.exit(all.some((c) => c.status === 'fail') ? 1 : 0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`preflight failed: ${(error as Error).name}: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
