import './polyfills.js';
import { createHash, randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import type { Clock, ReviewRequest, Workflow } from '../../core/ports.js';
import { reviewExecutionName } from '../../core/review/execution-name.js';
import type { Log } from '../../core/services.js';

/** Calls the same task handler the Lambda runs, with the state's Payload. */
export type TaskHandler = (payload: Record<string, unknown>) => Promise<unknown>;

interface StateDef {
  readonly Type: string;
  readonly Resource?: string;
  readonly TimeoutSeconds?: number;
  readonly TimeoutSecondsPath?: string;
}
type Definition = { States: Record<string, StateDef> };

const TOKEN_PLACEHOLDER = '__gatehouse_local_task_token__';

/**
 * Definitions (as JSON text) this process has already validated. Validating compiles the ASL JSON schema: about 0.3 s of
 * CPU in a warm process and about 1 s at start-up, a third of `npm start`'s. A definition that passed once passes again,
 * so a restart in the same process (tests, a drain and start) skips it, and so does a later process that finds it in the
 * validation record. A changed file is different text and is validated again.
 */
const validatedDefinitions = new Set<string>();

/** Definitions validated by earlier processes, by digest: see fileValidationRecord. */
export interface ValidationRecord {
  has(digest: string): boolean;
  add(digest: string): void;
}

const VALIDATOR_PACKAGE = 'aws-local-stepfunctions';
const VALIDATION_OPTIONS = { checkArn: true, checkPaths: true } as const;
/** Past this many digests the record starts again from empty: a few definitions change now and then. */
const MAX_RECORDED = 500;

/** The validator's package directory (node_modules/aws-local-stepfunctions), from what Node resolves for it. */
const VALIDATOR_DIR = (() => {
  const main = createRequire(import.meta.url).resolve(VALIDATOR_PACKAGE);
  return main.slice(0, main.lastIndexOf(`node_modules/${VALIDATOR_PACKAGE}/`) + `node_modules/${VALIDATOR_PACKAGE}`.length);
})();

/** The validator's version and options, so a record made by another version or other options is not trusted. */
const VALIDATION_SALT = `${VALIDATOR_PACKAGE}@${(JSON.parse(readFileSync(join(VALIDATOR_DIR, 'package.json'), 'utf8')) as { version: string }).version} ${JSON.stringify(VALIDATION_OPTIONS)}\n`;

/** The digest under which a definition is recorded as validated. */
export function validationDigest(definitionText: string): string {
  return createHash('sha256').update(VALIDATION_SALT).update(definitionText).digest('hex');
}

/**
 * A record of validated definitions kept in `file` (one hex digest a line, appended), read once. It is a cache: a record
 * that cannot be read or written is an empty one, and the definition is validated as if it had never been seen.
 */
export function fileValidationRecord(file: string): ValidationRecord {
  let digests: Set<string> | undefined;
  const load = (): Set<string> => {
    if (digests) return digests;
    try {
      const lines = readFileSync(file, 'utf8').split('\n');
      digests = new Set(lines.filter((line) => /^[0-9a-f]{64}$/.test(line)));
      if (digests.size > MAX_RECORDED) {
        digests = new Set();
        writeFileSync(file, '');
      }
    } catch {
      digests = new Set();
    }
    return digests;
  };
  return {
    has: (digest) => load().has(digest),
    add: (digest) => {
      load().add(digest);
      try {
        mkdirSync(dirname(file), { recursive: true });
        // One short line with O_APPEND: processes recording at once each add their own line whole.
        appendFileSync(file, `${digest}\n`);
      } catch {
        // A read-only install still works; it only validates at every start.
      }
    },
  };
}

let defaultRecord: ValidationRecord | undefined;
/** node_modules/.cache/gatehouse/asl-validated, next to the project's other tool caches. */
function projectValidationRecord(): ValidationRecord {
  return (defaultRecord ??= fileValidationRecord(join(dirname(VALIDATOR_DIR), '.cache', 'gatehouse', 'asl-validated')));
}

/**
 * A state machine for an ASL definition, which fails fast (paths and ARNs included) the first time it sees a bad one.
 * A bad definition is never recorded, so it is refused every time.
 */
export function validatedStateMachine(definition: object, record: ValidationRecord = projectValidationRecord()): StateMachine {
  const text = JSON.stringify(definition);
  if (validatedDefinitions.has(text)) return new StateMachine(definition as never, { validationOptions: { noValidate: true } });
  const digest = validationDigest(text);
  if (record.has(digest)) {
    validatedDefinitions.add(text);
    return new StateMachine(definition as never, { validationOptions: { noValidate: true } });
  }
  const machine = new StateMachine(definition as never, { validationOptions: VALIDATION_OPTIONS });
  validatedDefinitions.add(text);
  record.add(digest);
  return machine;
}

/** An ASL file with its `${Name}` placeholders replaced, as CloudFormation's definition substitutions replace them. */
export function substitutedDefinition<T>(file: string, substitutions: Readonly<Record<string, string>>): T {
  let text = readFileSync(file, 'utf8');
  for (const [name, value] of Object.entries(substitutions)) text = text.replaceAll(`\${${name}}`, value);
  return JSON.parse(text) as T;
}

class TaskFailure extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

/**
 * The Workflow port for local mode: runs the very ASL file the stack deploys with aws-local-stepfunctions.
 * Lambda tasks call the shared task handler; `.waitForTaskToken` tasks park until SendTaskSuccess/Failure arrives here.
 */
export class LocalWorkflow implements Workflow {
  readonly #definition: Definition;
  readonly #overrides: Record<string, (input: unknown) => Promise<unknown>>;
  readonly #waiting = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly #running = new Map<string, Promise<unknown>>();
  readonly #aborts = new Map<string, () => void>();
  /** Task invocations under way (a review-task step writing records or sending links). */
  readonly #steps = new Set<Promise<unknown>>();
  #closed = false;
  readonly #log: Log;

  readonly #timeoutOverride: number | undefined;
  readonly #retryIntervalMs: number | undefined;
  readonly #clock: Clock;

  constructor(options: {
    readonly definitionFile: string;
    readonly substitutions: Readonly<Record<string, string>>;
    readonly task: TaskHandler;
    readonly log: Log;
    /** Replaces every task timeout (seconds), so a test can watch a review expire. */
    readonly taskTimeoutSeconds?: number | undefined;
    /** The time executions start at (`$$.Execution.StartTime`, which sets a review's deadline). */
    readonly clock?: Clock | undefined;
    /** Replaces every retry interval (milliseconds), so a test can watch retries without waiting for them. */
    readonly retryIntervalMs?: number | undefined;
  }) {
    this.#retryIntervalMs = options.retryIntervalMs;
    this.#timeoutOverride = options.taskTimeoutSeconds;
    this.#clock = options.clock ?? { now: () => new Date() };
    const definition = substitutedDefinition<Definition>(options.definitionFile, options.substitutions);
    this.#definition = definition;
    validatedStateMachine(definition); // fail fast on a bad file
    this.#log = options.log;
    this.#overrides = {};
    for (const [stateName, state] of Object.entries(definition.States)) {
      if (state.Type !== 'Task' || !state.Resource) continue;
      const waits = state.Resource.endsWith('.waitForTaskToken');
      this.#overrides[stateName] = async (input) => {
        const payload = { ...((input as { Payload?: Record<string, unknown> }).Payload ?? {}) };
        if (this.#closed) throw new Error('The local workflow is closed.');
        if (!waits) return { StatusCode: 200, Payload: await this.#step(options.task(payload)) };
        const token = randomUUID();
        for (const [k, v] of Object.entries(payload)) if (v === TOKEN_PLACEHOLDER) payload[k] = token;
        const parked = new Promise((resolve, reject) => this.#waiting.set(token, { resolve, reject }));
        try {
          await this.#step(options.task(payload));
          return await parked;
        } finally {
          this.#waiting.delete(token);
        }
      };
    }
  }

  /**
   * @param resume.startedAt when the review began, for an execution that continues one a restart ended: its rounds keep
   * that review's deadline (the input's reviewSlaSeconds is then what is left of it).
   */
  async startReview(request: ReviewRequest, resume?: { readonly startedAt: Date }): Promise<string> {
    const name = reviewExecutionName(request);
    if (this.#running.has(name)) return name;
    // aws-local-stepfunctions sets $$.Execution.StartTime from the wall clock, whatever the context says; the review
    // deadline derives from it, so local mode hands the tasks this execution's start on the plane's clock instead.
    const startedAt = (resume?.startedAt ?? this.#clock.now()).toISOString();
    const overrides = Object.fromEntries(
      Object.entries(this.#overrides).map(([state, handler]) => [state, (input: unknown) => handler(withStartTime(input, startedAt))]),
    );
    const execution = this.#machineFor(request).run(request as never, {
      overrides: {
        taskResourceLocalHandlers: overrides as never,
        ...(this.#retryIntervalMs === undefined
          ? {}
          : { retryIntervalOverrides: Object.fromEntries(Object.keys(this.#overrides).map((state) => [state, this.#retryIntervalMs!])) }),
      },
      context: { Execution: { Id: name, Name: name, Input: request, StartTime: startedAt }, Task: { Token: TOKEN_PLACEHOLDER } } as never,
    });
    const done = execution.result.then(
      (output: unknown) => this.#log.info('review workflow ended', { execution: name, output: output as Record<string, unknown> }),
      (error: unknown) => {
        // Closing abandons the executions waiting for reviewers: the next start resumes them from the table.
        if (!this.#closed) this.#log.error('review workflow failed', { execution: name, error: (error as Error).message });
      },
    );
    this.#running.set(name, done);
    this.#aborts.set(name, () => execution.abort());
    void done.finally(() => {
      this.#running.delete(name);
      this.#aborts.delete(name);
    });
    return name;
  }

  async sendTaskSuccess(taskToken: string, output: Readonly<Record<string, unknown>>): Promise<void> {
    this.#take(taskToken).resolve(output);
  }

  async sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void> {
    this.#take(taskToken).reject(new TaskFailure(error, cause));
  }

  /** Resolves when every running execution has ended (tests, shutdown). */
  async drain(): Promise<void> {
    await Promise.all([...this.#running.values()]);
  }

  /** Resolves when no task step is under way, so that a step is not cut half-way by a shutdown. */
  async settle(): Promise<void> {
    while (this.#steps.size > 0) await Promise.allSettled([...this.#steps]);
  }

  /** Starts no more steps and abandons the executions still waiting (a stopping plane). */
  close(): void {
    this.#closed = true;
    for (const abort of this.#aborts.values()) abort();
  }

  #step<T>(run: Promise<T>): Promise<T> {
    this.#steps.add(run);
    void run.then(
      () => this.#steps.delete(run),
      () => this.#steps.delete(run),
    );
    return run;
  }

  /**
   * aws-local-stepfunctions evaluates TimeoutSecondsPath against the task's Parameters output, where Step Functions uses
   * the state input. Our paths name execution-input fields that every state keeps, so they are resolved here instead.
   */
  #machineFor(input: ReviewRequest): StateMachine {
    const states = Object.fromEntries(
      Object.entries(this.#definition.States).map(([name, state]) => {
        if (!state.TimeoutSecondsPath) return [name, state];
        const field = /^\$\.([A-Za-z0-9_]+)$/.exec(state.TimeoutSecondsPath)?.[1];
        const value = field === undefined ? undefined : (input as unknown as Record<string, unknown>)[field];
        if (typeof value !== 'number') throw new Error(`Local mode cannot resolve ${state.TimeoutSecondsPath} in state ${name}`);
        const { TimeoutSecondsPath: _path, ...rest } = state;
        return [name, { ...rest, TimeoutSeconds: this.#timeoutOverride ?? value }];
      }),
    );
    // The file was validated once in the constructor and only TimeoutSeconds differs here; validating again per execution
    // blocked the event loop for ~200 ms (measured by bench/load.bench.ts).
    return new StateMachine({ ...this.#definition, States: states } as never, { validationOptions: { noValidate: true } });
  }

  #take(taskToken: string) {
    const waiting = this.#waiting.get(taskToken);
    // Step Functions answers an unknown or used token with TaskTimedOut / InvalidToken; so does local mode.
    if (!waiting) throw new TaskFailure('TaskTimedOut', 'The task token is unknown, used or timed out.');
    this.#waiting.delete(taskToken);
    return waiting;
  }
}

/** A task input whose payload carries the execution's start (`startedAt`), with `startedAt` set to the given time. */
function withStartTime(input: unknown, startedAt: string): unknown {
  const payload = (input as { Payload?: Record<string, unknown> }).Payload;
  if (!payload || !('startedAt' in payload)) return input;
  return { ...(input as object), Payload: { ...payload, startedAt } };
}
