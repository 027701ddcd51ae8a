import { TestWorkflowEnvironment, type LocalTestWorkflowEnvironmentOptions } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { inject } from 'vitest';
import { devServerFlags } from '../../temporal-config/dev-server';
import { searchAttributeKeys } from '../../temporal-config/place-order';

/**
 * Temporal's Java time-skipping test server (provisioned by global setup):
 * timers of minutes or days pass in milliseconds once the workflow waits.
 */
export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: inject('testServer') } },
  });
  // The Java test server knows no custom search attributes until told.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      searchAttributeKeys.map((k) => [k.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
    ),
  });
  return env;
}

/** The real Temporal CLI's dev server, for tests that need the CLI or a persistent server. */
export async function devServerEnv(client?: LocalTestWorkflowEnvironmentOptions['client']): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    client,
    server: {
      executable: { type: 'existing-path', path: inject('temporalCli') },
      extraArgs: devServerFlags(),
    },
  });
}
