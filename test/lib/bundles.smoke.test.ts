import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoStores } from '../../lambdas/adapters/aws/dynamo-registry.js';
import { ENV } from '../../lambdas/adapters/aws/env.js';
import { startDynalite, type LocalDynamo } from '../../lambdas/adapters/local/dynalite.js';
import { STALLED_REVIEW_MS } from '../../lambdas/core/lifecycle/attention.js';
import type { SigningKey } from '../../lambdas/core/ports.js';
import { generateSigningKey } from '../../lambdas/core/tokens/generate-key.js';
import { BUNDLE_FILE, ESM_REQUIRE_BANNER } from '../../lib/bundling.js';
import { FUNCTIONS } from '../../lambdas/contracts/functions.js';
import { pendingConsumer } from '../lambdas/core/review/fixtures.js';
import { auditTrailFor, NOW } from '../lambdas/fixtures.js';
import { httpEvent } from '../lambdas/handlers/fixtures.js';
import { DEPLOY_TIME_VALUES, lambdaEnvironment, synthBuiltBundles, type BuiltBundle } from './built-bundles.js';
import { defaultConfig } from './stack-fixture.js';

/** Every bundle the stacks deploy, built once for this file (a synth with bundling is the slow part). */
let bundles: Map<string, BuiltBundle>;

beforeAll(() => {
  bundles = new Map(synthBuiltBundles().map((b) => [b.name, b]));
}, 300_000);

const bundle = (name: string): BuiltBundle => {
  const found = bundles.get(name);
  if (!found) throw new Error(`no built bundle named ${name}`);
  return found;
};

/** The files a bundle holds code from, as its source map names them (relative to the asset directory). */
const sourcesOf = (b: BuiltBundle): string[] => (JSON.parse(readFileSync(`${b.file}.map`, 'utf8')) as { sources: string[] }).sources;
/** The npm packages a bundle holds code from. */
const packagesOf = (b: BuiltBundle): Set<string> => new Set(sourcesOf(b).flatMap((path) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)?.[1] ?? []));

describe('built Lambda bundles: contents', () => {
  const config = defaultConfig();

  it('is one minified ESM file per function, with the createRequire banner and a source map', () => {
    expect([...bundles.keys()].sort()).toEqual([...Object.keys(FUNCTIONS), 'authorizer', 'signing-key-init', 'signing-key-rotation'].sort());
    for (const b of bundles.values()) {
      expect(b.file, b.name).toBe(join(b.dir, BUNDLE_FILE));
      expect(readFileSync(b.file, 'utf8').startsWith(ESM_REQUIRE_BANNER), b.name).toBe(true);
      expect(existsSync(`${b.file}.map`), b.name).toBe(true);
      expect(b.runtime, b.name).toBe('nodejs24.x');
    }
  });

  it('compiles the validated policy into every handler bundle', () => {
    for (const name of Object.keys(FUNCTIONS)) expect(readFileSync(bundle(name).file, 'utf8'), name).toContain(config.policy.document.id);
  });

  it('gives every AWS client the Lambda-only credential chain, and leaves the SDK default chain out', () => {
    const withClients = [...bundles.values()].filter((b) => [...packagesOf(b)].some((p) => p.startsWith('@aws-sdk/client-')));
    expect(withClients.map((b) => b.name)).toContain('token');
    for (const b of withClients) {
      const packages = packagesOf(b);
      expect(
        sourcesOf(b).some((path) => path.endsWith('lambdas/adapters/aws/lambda-credentials.ts')),
        b.name,
      ).toBe(true);
      expect(packages.has('@aws-sdk/credential-provider-env'), b.name).toBe(true);
      for (const chainPart of [
        '@aws-sdk/credential-provider-node',
        '@aws-sdk/nested-clients',
        '@aws-sdk/credential-provider-ini',
        '@smithy/credential-provider-imds',
      ]) {
        expect(packages.has(chainPart), `${b.name}: ${chainPart}`).toBe(false);
      }
    }
  });

  it('holds zod only where a function validates with it, and then only zod/mini with its English messages', () => {
    // The token function reads the policy compiled in at synth (lambdas/core/policy/compiled.ts).
    expect(packagesOf(bundle('token')).has('zod')).toBe(false);
    for (const name of ['review-task', 'register', 'admin']) {
      const zodFiles = sourcesOf(bundle(name)).filter((path) => path.includes('node_modules/zod/'));
      expect(
        zodFiles.some((path) => path.includes('/v4/mini/')),
        name,
      ).toBe(true);
      expect(
        zodFiles.filter((path) => path.includes('/v4/classic/')),
        name,
      ).toEqual([]);
      expect(
        zodFiles.filter((path) => path.includes('/v4/locales/') && !path.endsWith('/index.js')).map((path) => path.slice(path.indexOf('node_modules/'))),
        name,
      ).toEqual(['node_modules/zod/v4/locales/en.js']);
    }
  });
});

/** One AWS API call the scripted endpoint answered. */
interface AwsCall {
  readonly target: string;
  readonly path: string;
  readonly input: Record<string, unknown>;
}

/**
 * A loopback stand-in for the AWS JSON APIs the exercised functions call: Secrets Manager holds the signing key (AWSCURRENT
 * only), Step Functions answers every StartExecution with ExecutionAlreadyExists as the service does (HTTP 400, `__type`),
 * SES v2 accepts any email. Anything else is refused, so an unexpected call shows in the function's result.
 */
async function startScriptedAws(signingKey: SigningKey): Promise<{ endpoint: string; calls: AwsCall[]; close(): Promise<void> }> {
  const calls: AwsCall[] = [];
  const answer = (req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': req.headers['content-type'] ?? 'application/json', 'x-amzn-requestid': 'smoke-request' });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const input = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
      calls.push({ target, path: req.url ?? '', input });
      if (target === 'secretsmanager.GetSecretValue') {
        if ((input['VersionStage'] ?? 'AWSCURRENT') !== 'AWSCURRENT') {
          return answer(req, res, 400, {
            __type: 'ResourceNotFoundException',
            message: "Secrets Manager can't find the specified secret value for staging label",
          });
        }
        // The public-key secret holds only the public halves, as the seeding and rotation write them.
        const publicKeys = input['SecretId'] === DEPLOY_TIME_VALUES[ENV.publicKeysSecretId];
        return answer(req, res, 200, {
          ARN: input['SecretId'],
          Name: publicKeys ? 'gatehouse/signing-public-keys' : 'gatehouse/signing-key',
          VersionId: 'v1',
          VersionStages: ['AWSCURRENT'],
          SecretString: JSON.stringify(publicKeys ? { current: { kid: signingKey.kid, publicJwk: signingKey.publicJwk }, published: [] } : signingKey),
          CreatedDate: 1_700_000_000,
        });
      }
      // The sweep's orphaned-secret clean-up lists the client secrets: none here.
      if (target === 'secretsmanager.ListSecrets') return answer(req, res, 200, { SecretList: [] });
      if (target === 'AWSStepFunctions.StartExecution') {
        return answer(req, res, 400, { __type: 'ExecutionAlreadyExists', message: `Execution Already Exists: '${String(input['name'])}'` });
      }
      if (req.method === 'POST' && req.url === '/v2/email/outbound-emails') return answer(req, res, 200, { MessageId: 'smoke-message' });
      answer(req, res, 400, { __type: 'UnknownOperationException', message: `the smoke test scripts no ${target || `${req.method} ${req.url}`}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const RESULT_MARK = '@@smoke-result ';
const ERROR_MARK = '@@smoke-error ';

/** Runs in a fresh `node`: imports the bundle, invokes its handler once with the event, prints the result or the error. */
const CHILD_SCRIPT = `
const [url, event] = process.argv.slice(1);
const context = {
  callbackWaitsForEmptyEventLoop: false, functionName: process.env.AWS_LAMBDA_FUNCTION_NAME, functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:' + process.env.AWS_LAMBDA_FUNCTION_NAME,
  memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, awsRequestId: 'smoke-1', logGroupName: '/aws/lambda/smoke', logStreamName: 'smoke',
  getRemainingTimeInMillis: () => 20000, done() {}, fail() {}, succeed() {},
};
try {
  const { handler } = await import(url);
  const result = await handler(JSON.parse(event), context);
  process.stdout.write('\\n${RESULT_MARK}' + JSON.stringify(result ?? null) + '\\n');
  process.exit(0);
} catch (error) {
  process.stdout.write('\\n${ERROR_MARK}' + JSON.stringify({ name: error?.name, message: error?.message }) + '\\n');
  process.exit(1);
}
`;

/** How long one invocation may take, import included, before the child is killed. */
const INVOKE_TIMEOUT_MS = 30_000;

interface Invocation {
  readonly result?: unknown;
  readonly error?: { readonly name: string; readonly message: string };
  readonly output: string;
}

/** Invokes a built bundle's handler once in its own `node` process, with the Lambda environment and `extra` on top. */
function invoke(bundle: BuiltBundle, event: unknown, extra: Record<string, string>): Promise<Invocation> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD_SCRIPT, pathToFileURL(bundle.file).href, JSON.stringify(event)], {
      cwd: bundle.dir,
      env: lambdaEnvironment(bundle, extra),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${bundle.name}: no answer within ${INVOKE_TIMEOUT_MS} ms:\n${output}`));
    }, INVOKE_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      const line = (mark: string) =>
        output
          .split('\n')
          .find((l) => l.startsWith(mark))
          ?.slice(mark.length);
      const result = line(RESULT_MARK);
      const error = line(ERROR_MARK);
      if (result !== undefined) resolve({ result: JSON.parse(result), output });
      else if (error !== undefined) resolve({ error: JSON.parse(error) as Invocation['error'] & object, output });
      else reject(new Error(`${bundle.name}: the handler neither returned nor threw:\n${output}`));
    });
  });
}

/** The parts of an API Gateway proxy result the assertions read. */
interface HttpResult {
  readonly statusCode: number;
  readonly headers?: Record<string, string>;
  readonly body: string;
}

/**
 * The Lambda bundles exactly as `cdk synth` builds them (NodejsFunction, the cloud assembly's asset directories), each
 * invoked once in a fresh `node` with its template environment, against dynalite and a scripted AWS endpoint: a bundling
 * change that breaks what a function does at run time fails here, not in AWS.
 */
describe('built Lambda bundles: one invocation each', () => {
  const TABLE = DEPLOY_TIME_VALUES[ENV.tableName]!;
  let dynamo: LocalDynamo;
  let aws: Awaited<ReturnType<typeof startScriptedAws>>;
  let signingKey: SigningKey;
  let endpoints: Record<string, string>;

  beforeAll(async () => {
    signingKey = await generateSigningKey();
    [dynamo, aws] = await Promise.all([startDynalite({ tableName: TABLE }), startScriptedAws(signingKey)]);
    // Every service the SDK would reach goes to the scripted endpoint, DynamoDB to dynalite.
    endpoints = { AWS_ENDPOINT_URL: aws.endpoint, AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint };
  });

  afterAll(async () => {
    await Promise.all([dynamo?.close(), aws?.close()]);
  });

  it('exports a handler from every bundle the stacks deploy, once imported with its Lambda environment', async () => {
    const script = `for (const url of JSON.parse(process.argv[1])) if (typeof (await import(url)).handler !== 'function') throw new Error(url + ' exports no handler');`;
    const env = Object.assign({}, ...[...bundles.values()].map((b) => lambdaEnvironment(b, endpoints))) as Record<string, string>;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, JSON.stringify([...bundles.values()].map((b) => pathToFileURL(b.file).href))], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(0);
  });

  it('serves the public signing key from the public-key secret, never reading the private one (discovery: GET /.well-known/jwks.json)', async () => {
    const { result, output } = await invoke(bundle('discovery'), httpEvent({ method: 'GET', resource: '/.well-known/jwks.json' }), endpoints);
    const response = result as HttpResult;
    expect(response?.statusCode, output).toBe(200);
    const jwks = JSON.parse(response.body) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys.map((k) => k['kid'])).toEqual([signingKey.kid]);
    expect(jwks.keys[0]).not.toHaveProperty('d');
    const read = aws.calls.filter((c) => c.target === 'secretsmanager.GetSecretValue').map((c) => c.input['SecretId']);
    expect(read).toContain(DEPLOY_TIME_VALUES[ENV.publicKeysSecretId]);
    expect(read).not.toContain(DEPLOY_TIME_VALUES[ENV.signingKeySecretId]);
  });

  it('refuses an unknown client with invalid_client, having looked it up in the table (token: POST /oauth2/token)', async () => {
    const event = httpEvent({
      method: 'POST',
      resource: '/oauth2/token',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from('gh_nosuchclient00000:wrong-secret').toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
    });
    const { result, output } = await invoke(bundle('token'), event, endpoints);
    const response = result as HttpResult;
    expect(response?.statusCode, output).toBe(401);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'invalid_client' });
  });

  it('answers a review link that does not verify with a page, not a server error (review: GET /reviews/{review_id})', async () => {
    const reviewId = '0'.repeat(32);
    const event = httpEvent({
      method: 'GET',
      resource: '/reviews/{review_id}',
      path: `/reviews/${reviewId}`,
      pathParameters: { review_id: reviewId },
      queryStringParameters: { t: 'not-a-review-token' },
    });
    const { result, output } = await invoke(bundle('review'), event, endpoints);
    const response = result as HttpResult;
    expect(response?.statusCode, output).toBeGreaterThanOrEqual(400);
    expect(response.statusCode, output).toBeLessThan(500);
    expect(response.headers?.['content-type'] ?? response.headers?.['Content-Type']).toMatch(/^text\/html/);
  });

  it('resumes a stalled review whose execution already exists (sweep: Step Functions answers ExecutionAlreadyExists)', async () => {
    // Registration stored the request but neither started the workflow nor recorded a failure, long enough ago.
    const clientId = 'gh_stalledsmoke00000';
    const createdAt = new Date(Date.now() - STALLED_REVIEW_MS - 60_000).toISOString();
    const stalled = pendingConsumer({
      clientId,
      openReviewId: undefined,
      reviewExecution: undefined,
      createdAt,
      attentionAt: new Date(Date.parse(createdAt) + STALLED_REVIEW_MS).toISOString(),
      expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    });
    const { consumers } = dynamoStores({ tableName: TABLE, documentClient: dynamo.documentClient });
    await consumers.createConsumer(stalled, auditTrailFor(clientId, NOW.toISOString()));

    const { result, output } = await invoke(bundle('sweep'), { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }, endpoints);

    expect(result, output).toMatchObject({ reviewsResumed: 1, failed: 0, orphanSecrets: { checked: 0, deleted: 0, complete: true } });
    expect(aws.calls.filter((c) => c.target === 'secretsmanager.ListSecrets').map((c) => c.input['Filters'])).toEqual([
      [{ Key: 'name', Values: ['gatehouse/Gatehouse/clients/'] }],
    ]);
    const starts = aws.calls.filter((c) => c.target === 'AWSStepFunctions.StartExecution');
    expect(starts.map((c) => [c.input['stateMachineArn'], c.input['name']])).toEqual([[DEPLOY_TIME_VALUES[ENV.stateMachineArn], `review-${clientId}`]]);
    const execution = `${DEPLOY_TIME_VALUES[ENV.stateMachineArn]!.replace(':stateMachine:', ':execution:')}:review-${clientId}`;
    expect(await consumers.getConsumer(clientId)).toMatchObject({ status: 'pending_review', reviewExecution: execution });
    expect((await consumers.listAudit(clientId)).at(-1)).toMatchObject({ type: 'consumer.review_started', data: { execution, resumed: true } });
  });
});
