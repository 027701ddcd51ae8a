import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes the Web UI and `temporal workflow list` filter on. */
export const OrderStatusKey = defineSearchAttributeKey('OrderStatus', SearchAttributeType.KEYWORD);
export const CustomerIdKey = defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD);

/** name=Type pairs, as `temporal server start-dev --search-attribute` takes them. */
export const searchAttributeDefinitions: ReadonlyArray<readonly [string, 'Keyword']> = [
  [OrderStatusKey.name, 'Keyword'],
  [CustomerIdKey.name, 'Keyword'],
];

export const searchAttributeKeys = [OrderStatusKey, CustomerIdKey];
