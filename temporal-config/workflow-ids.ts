/** Workflow id = business key: one order can only ever have one saga. */
export const orderWorkflowId = (orderId: string): string => `order-${orderId}`;

export const orderIdFromWorkflowId = (workflowId: string): string | undefined =>
  workflowId.startsWith('order-') ? workflowId.slice('order-'.length) : undefined;
