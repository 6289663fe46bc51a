// Public surface of the generic controller runtime (no Stack knowledge here).
export * from './backoff.ts';
export * from './clock.ts';
export * from './conditions.ts';
export * from './controller.ts';
export * from './errors.ts';
export * from './events.ts';
export * from './finalizers.ts';
export * from './informer.ts';
export * from './kube-client.ts';
export * from './leader-election.ts';
export * from './logging.ts';
export * from './manager.ts';
export * from './metrics.ts';
export * from './server.ts';
export * from './status.ts';
export * from './workqueue.ts';
export * from './merge-patch.ts';
