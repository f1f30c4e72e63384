import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { GetAccountCommand, GetConfigurationSetCommand, GetEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { loadAppConfig } from '../lib/app-config.js';
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
}

const errorName = (error: unknown) => (error as { name?: string }).name ?? 'Error';

/**
 * Read-only checks of a target account before `cdk deploy`, with the caller's credentials: SES identity, production access
 * (or, in the sandbox, every reviewer address verified), the configuration set, and the alarm addresses. It calls only
 * SES v2 Get* APIs.
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
  checks.push({
    name: 'CDK bootstrap',
    status: 'skipped',
    detail:
      'not checked here (no SSM client in this project): aws ssm get-parameter --name /cdk-bootstrap/hnb659fds/version must succeed, else run npx cdk bootstrap',
  });
  return checks;
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
  const checks = await preflight({
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
