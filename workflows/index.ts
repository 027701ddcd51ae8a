// Entry point the workers bundle: every workflow type this app runs.
export { placeOrder } from './place-order';
