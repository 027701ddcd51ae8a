/**
 * A worker process with the fault suite's hooks: the product's worker
 * (workers/process.ts) plus fault injection set by environment, all off unless
 * set. The fault suite's stacks run their workers through this file
 * (StackOptions.workerEntry); nothing in the product path knows these switches.
 */
import { log } from '@temporalio/activity';
import { z } from 'zod';
import { SimulatedGateway, simulatedGatewayOptions, type PaymentGateway } from '../../../activities/payments/gateway';
import { int, loadConfig } from '../../../platform/config';
import { runWorkerProcess } from '../../../workers/process';
import { holdAfterActivities } from './hold-after-activities';

const faultConfig = z.object({
  /** fault injection for the fault suite; all off in normal use */
  FAULT_PAYMENT_HOLD_AFTER_CHARGE_MS: int(0),
  /** comma-separated activity names whose result the worker holds for FAULT_HOLD_MS before reporting it */
  FAULT_HOLD_AFTER_ACTIVITIES: z.string().default(''),
  FAULT_HOLD_MS: int(0),
  /** a simulated gateway outage: every call fails (error = 5xx, timeout = no answer, lost_response = done but the answer is lost) or is slow */
  PAYMENT_FAULT: z.enum(['none', 'error', 'timeout', 'slow', 'lost_response']).default('none'),
  /** how long the outage lasts from the moment the worker is ready (ms); 0 = it never ends */
  PAYMENT_FAULT_FOR_MS: int(0),
});

/**
 * The gateway's answer to a charge, authorisation or capture that went
 * through is held back: the provider has taken the money, the worker has not
 * recorded it. (The payments activity heartbeats while the gateway answers, so
 * a crash now is noticed in seconds.)
 */
function holdAfterCharge(gateway: PaymentGateway, holdMs: number): PaymentGateway {
  const hold = async <T extends { status: string }>(what: string, key: string, result: T): Promise<T> => {
    if (result.status === 'succeeded' || result.status === 'authorised' || result.status === 'captured') {
      log.warn(`fault injection: holding a ${what} that went through (${key}) for ${holdMs} ms`);
      await new Promise((r) => setTimeout(r, holdMs));
    }
    return result;
  };
  return {
    charge: async (req) => hold('charge', req.idempotencyKey, await gateway.charge(req)),
    authorise: async (req) => hold('authorisation', req.idempotencyKey, await gateway.authorise(req)),
    capture: async (req) => hold('capture', req.idempotencyKey, await gateway.capture(req)),
    void: (req) => gateway.void(req),
    refund: (req) => gateway.refund(req),
    refundCapture: (req) => gateway.refundCapture(req),
  };
}

const faults = loadConfig(faultConfig);
const held = faults.FAULT_HOLD_AFTER_ACTIVITIES.split(',').map((s) => s.trim()).filter(Boolean);

await runWorkerProcess(process.argv[2], (config, db) => {
  const outage = faults.PAYMENT_FAULT === 'none' ? undefined : { mode: faults.PAYMENT_FAULT, until: faults.PAYMENT_FAULT_FOR_MS ? Date.now() + faults.PAYMENT_FAULT_FOR_MS : Infinity };
  const simulated = new SimulatedGateway(db, { ...simulatedGatewayOptions(config), fault: outage });
  return {
    gateway: faults.FAULT_PAYMENT_HOLD_AFTER_CHARGE_MS ? holdAfterCharge(simulated, faults.FAULT_PAYMENT_HOLD_AFTER_CHARGE_MS) : simulated,
    activityInterceptors: held.length && faults.FAULT_HOLD_MS ? [holdAfterActivities(held, faults.FAULT_HOLD_MS, (msg) => log.warn(msg))] : [],
  };
});
