import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, StartExecutionCommand, type SFNClientConfig } from '@aws-sdk/client-sfn';
import type { ReviewRequest, Workflow } from '../../core/ports.js';
import { reviewExecutionName } from '../../core/review/execution-name.js';
import { ENV } from './env.js';
import { abortWithCaller } from './caller-abort.js';

export type SfnWorkflowOptions =
  | { readonly stateMachineArn: string; readonly client: SFNClient; readonly clientConfig?: never }
  | { readonly stateMachineArn: string; readonly clientConfig?: SFNClientConfig; readonly client?: never };

/** The Workflow port over Step Functions (Standard); executions are named after the consumer (onboarding) or the change request, so a retry cannot start two. */
export class SfnWorkflow implements Workflow {
  readonly #arn: string;
  readonly #client: SFNClient;

  constructor(options: SfnWorkflowOptions) {
    this.#arn = options.stateMachineArn;
    this.#client = options.client ?? abortWithCaller(new SFNClient(options.clientConfig ?? {}));
  }

  async startReview(request: ReviewRequest): Promise<string> {
    const name = reviewExecutionName(request);
    try {
      const out = await this.#client.send(new StartExecutionCommand({ stateMachineArn: this.#arn, name, input: JSON.stringify(request) }));
      return out.executionArn ?? name;
    } catch (error) {
      // By name: the SDK's documented contract, which holds whether or not the error's class is in the client's registry.
      if ((error as Error).name === 'ExecutionAlreadyExists') return `${this.#arn.replace(':stateMachine:', ':execution:')}:${name}`;
      throw error;
    }
  }

  async sendTaskSuccess(taskToken: string, output: Readonly<Record<string, unknown>>): Promise<void> {
    await this.#client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
  }

  async sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void> {
    await this.#client.send(new SendTaskFailureCommand({ taskToken, error, cause }));
  }
}

/** The workflow of a function with a `workflow:*` capability, from the state machine ARN the stack sets. */
export function sfnWorkflowFromEnv(): SfnWorkflow {
  return new SfnWorkflow({ stateMachineArn: process.env[ENV.stateMachineArn] ?? '' });
}
