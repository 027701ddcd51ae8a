// Replays the recorded histories of real PlaceOrder runs against today's
// workflow code: a change that would break a running order (a command added,
// removed or reordered) fails here, before it ships. No server needed.
//
// The histories come from place-order.test.ts (the saga: scenarios a..n) and
// fulfilment.test.ts (delivery, overdue, returns, notification outages, split
// shipments), one file per scenario. Regenerate them, only when a change is
// meant to be incompatible and versioned, from both files at once (delete the
// old ones first, so no stale scenario lingers):
//   rm tests/workflows/histories/*.json
//   RECORD_HISTORIES=1 npx vitest run tests/workflows/place-order.test.ts tests/workflows/fulfilment.test.ts
// A compatible change behind patched() keeps the old files and adds a new generation
// beside them (local-writes-*.json: the orders context's writes as local activities):
//   RECORD_HISTORIES=1 RECORD_HISTORIES_DIR=/tmp/h npx vitest run <both files>
//   for f in /tmp/h/*.json; do cp "$f" tests/workflows/histories/<prefix>-"$(basename "$f")"; done
// (or only the scenarios the change adds, as refund-on-receipt-*.json did: fulfilment-return-on-day-29.json
// and its local-writes twin keep the refund-on-request path of runs that took a return before it).
// per-shipment-*.json come from tests/integration/per-shipment.test.ts (authorise at checkout,
// capture per shipment, partial cancel, line returns; real activities on PostgreSQL):
//   RECORD_HISTORIES=1 RECORD_HISTORIES_DIR=/tmp/h npx vitest run tests/integration/per-shipment.test.ts
// notifications-on-feed-*.json are the runs that leave customer notifications to the order event feed
// (patch notifications-on-feed: the kind in the STATUS_CHANGED event's detail, no notification activity),
// the n-* scenarios of place-order.test.ts. Every file above was recorded before that patch and replays
// the saga's own sending; re-recorded, the other place-order and fulfilment scenarios keep it
// (notifications: 'activities' in harness.ts), while per-shipment.test.ts would record the feed's path.
// Recorded as above, copying only /tmp/h/n-*.json to notifications-on-feed-<name>.
// confirm-at-payment-*.json are the runs confirmed as soon as the payment is secured (patch
// confirm-at-payment: commitStock and planShipments then side by side): per-shipment.test.ts's nine
// and the n-* scenarios of place-order.test.ts (onTheFeed inputs), recorded as above with that prefix.
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { temporal } from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';
import { Worker, type ReplayResult, type ReplayWorkerOptions } from '@temporalio/worker';
import { makeWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import { Resource } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { workflowsPath } from '../../workers/contexts';
import { newPayloadCodecKey, temporalDataConverter } from '../../platform/payload-codec';
import { workflowTracingModule } from '../../workers/observability';

const HISTORIES_DIR = fileURLToPath(new URL('./histories/', import.meta.url));
// 15 from place-order.test.ts (a..l, f in four variants) + 8 from fulfilment.test.ts, twice: before
// and with local order writes; + 2 returns refunded on receipt (refund-on-receipt-*.json: received, lapsed);
// + 1 saga refused for an order id another saga placed (order-placed-by-run-*.json)
// + 9 per-shipment scenarios (per-shipment-*.json)
// + 3 with notifications on the order event feed (notifications-on-feed-*.json: delivered, payment declined, cancelled)
// + 13 confirmed at the payment (confirm-at-payment-*.json: the 9 per-shipment scenarios and 4 n-* ones)
const MIN_HISTORIES = 74;

// The SDK would parse these files with historyFromJSON, which throws "type must be a
// Type" in this install (@temporalio/common and @temporalio/proto each carry their own
// protobufjs). Parsing with the ProtoJSON of the copy @temporalio/proto loads works in
// any layout, and hands the replayer History messages it takes as they are.
const require = createRequire(import.meta.url);
const protoRoot = require('@temporalio/proto') as typeof import('@temporalio/proto');
const protojson = createRequire(require.resolve('@temporalio/proto'))('protobufjs/ext/protojson') as {
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
};
const historyType = (patchProtobufRoot(protoRoot) as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');
type History = temporal.api.history.v1.IHistory;

async function loadHistories(): Promise<{ file: string; workflowId: string; history: History }[]> {
  const files = (await readdir(HISTORIES_DIR)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => {
      const json: unknown = JSON.parse(await readFile(path.join(HISTORIES_DIR, file), 'utf8'));
      const history = protojson.fromJson(historyType, json, { ignoreUnknownFields: true }) as History;
      const workflowId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowId || path.basename(file, '.json');
      return { file, workflowId, history };
    }),
  );
}

async function replayAll(options: ReplayWorkerOptions) {
  const histories = await loadHistories();
  expect(histories.length).toBeGreaterThanOrEqual(MIN_HISTORIES);

  const fileOf = new Map(histories.map((h) => [h.workflowId, h.file]));
  const results: ReplayResult[] = [];
  for await (const result of Worker.runReplayHistories(
    options,
    histories.map(({ workflowId, history }) => ({ workflowId, history })),
  )) {
    results.push(result);
  }

  const failures = results.filter((r) => r.error).map((r) => `${fileOf.get(r.workflowId) ?? r.workflowId}: ${r.error?.message}`);
  expect(failures).toEqual([]);
  expect(results.map((r) => fileOf.get(r.workflowId)).sort()).toEqual(histories.map((h) => h.file));
}

describe('recorded PlaceOrder histories', () => {
  it('all replay against the current workflow code without a determinism error', async () => {
    await replayAll({ workflowsPath, replayName: 'place-order-histories' });
  });

  // Tracing (OTEL_EXPORTER_OTLP_ENDPOINT) may be turned on while orders are
  // running: the OpenTelemetry workflow interceptors must not change what
  // the workflow does. Their span ids draw on the workflow's seeded random
  // stream, so workflow code draws nothing random (eslint.config.js): a return's
  // id made with uuid4() was another under tracing, and the signal naming it
  // missed its return.
  it('also replay with the OpenTelemetry workflow interceptors a traced worker bundles', async () => {
    await replayAll({
      workflowsPath,
      replayName: 'place-order-histories-traced',
      interceptors: { workflowModules: [workflowTracingModule] },
      sinks: { exporter: makeWorkflowExporter(new SimpleSpanProcessor(new InMemorySpanExporter()), new Resource({ 'service.name': 'replay' })) },
    });
  });

  // Workers encrypt payloads once PAYLOAD_CODEC_KEYS is set; orders started before that (and these
  // histories) carry plain payloads, which the codec must hand through untouched.
  it('also replay, written in clear, on a worker with the payload codec', async () => {
    await replayAll({ workflowsPath, replayName: 'place-order-histories-codec', dataConverter: temporalDataConverter({ PAYLOAD_CODEC_KEYS: newPayloadCodecKey('replay') }) });
  });
});
