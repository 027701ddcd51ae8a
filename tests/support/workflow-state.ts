import type { WorkflowHandle } from '@temporalio/client';
import { until } from './until';
import { temporal } from '@temporalio/proto';

const EventType = temporal.api.enums.v1.EventType;

/**
 * What a workflow is doing, in a few lines, for the message of a test that
 * waited on it in vain: its status, the activities it waits on (attempt, last
 * failure), a workflow task that keeps failing, and its last events. A wait
 * that times out says why instead of only that it did.
 */
export async function workflowState(handle: WorkflowHandle, lastEvents = 15): Promise<string> {
  try {
    const { raw, status } = await handle.describe();
    const lines = [`workflow ${handle.workflowId}: ${status.name}`];
    for (const a of raw.pendingActivities ?? []) {
      lines.push(`  pending activity ${a.activityType?.name} attempt ${a.attempt}${a.lastFailure?.message ? `, last failure: ${a.lastFailure.message}` : ''}`);
    }
    const task = raw.pendingWorkflowTask;
    if (task) lines.push(`  pending workflow task, attempt ${task.attempt}`);
    const events = (await handle.fetchHistory()).events ?? [];
    for (const e of events.slice(-lastEvents)) {
      const name = EventType[e.eventType ?? 0]?.replace(/^EVENT_TYPE_/, '') ?? String(e.eventType);
      const failure = e.workflowTaskFailedEventAttributes?.failure?.message ?? e.activityTaskFailedEventAttributes?.failure?.message;
      const detail =
        e.activityTaskScheduledEventAttributes?.activityType?.name ??
        e.workflowExecutionSignaledEventAttributes?.signalName ??
        e.markerRecordedEventAttributes?.markerName ??
        (e.timerStartedEventAttributes ? `timer ${e.timerStartedEventAttributes.timerId}` : undefined);
      lines.push(`  #${String(e.eventId)} ${name}${detail ? ` ${detail}` : ''}${failure ? `: ${failure}` : ''}`);
    }
    return lines.join('\n');
  } catch (err) {
    return `workflow ${handle.workflowId}: not described (${(err as Error).message})`;
  }
}

/** until(), for a wait on one workflow: a timeout's message carries workflowState(handle). */
export async function untilWorkflow<T>(handle: WorkflowHandle, what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs?: number): Promise<T> {
  try {
    return await until(what, fn, timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${await workflowState(handle)}`, { cause: err });
  }
}
