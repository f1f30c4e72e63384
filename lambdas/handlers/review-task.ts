import * as z from 'zod/mini';
import '../core/util/zod-messages.js';
import { withLogKeys } from '../core/log-context.js';
import { reviewExecutionName } from '../core/review/execution-name.js';
import { runReviewStep, type ReviewStep, type ReviewStepResult, type ReviewStepServices } from '../core/review/workflow-step.js';
import { signingKeysFor } from '../core/tokens/signing-keys.js';

/** The payloads the review state machine sends (statemachines/onboarding.asl.json); `requestId` is null for onboarding. */
const nonEmpty = () => z.string().check(z.minLength(1));
const base = { clientId: nonEmpty(), requestId: z._default(z.nullable(nonEmpty()), null) };
export const ReviewTaskSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('count_approvals'), ...base, startedAt: z.optional(z.iso.datetime()) }),
  z.object({ action: z.literal('request_approval'), ...base, taskToken: nonEmpty(), startedAt: z.optional(z.iso.datetime()) }),
  z.object({ action: z.literal('activate'), ...base }),
  z.object({ action: z.literal('deny'), ...base, cause: z.optional(z.string()) }),
  z.object({ action: z.literal('expire'), ...base }),
  z.object({ action: z.literal('fail'), ...base, error: z.unknown() }),
  z.object({ action: z.literal('notify'), ...base }),
]);
export type ReviewTask = z.infer<typeof ReviewTaskSchema>;
export type ReviewTaskResult = ReviewStepResult;

/**
 * The review workflow's task function: parses the step, runs it in the core, and publishes the metrics it recorded. Its
 * log lines carry the workflow execution as `correlation_id` (and the consumer and step).
 */
export function createReviewTaskHandler(services: ReviewStepServices): (event: unknown) => Promise<ReviewTaskResult> {
  const keys = signingKeysFor(services);
  return async (event) => {
    const task: ReviewStep = ReviewTaskSchema.parse(event);
    return withLogKeys({ correlation_id: reviewExecutionName(task), clientId: task.clientId, action: task.action }, async () => {
      try {
        return await runReviewStep(services, keys, task);
      } finally {
        services.metrics.flush();
      }
    });
  };
}
