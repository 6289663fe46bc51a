// Preloaded with --import by run-cli.test.ts: the process fails if anything imports the index of
// @kubernetes/client-node (its whole generated API), so the in-cluster path is proven not to load it.
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, next) {
    if (specifier === '@kubernetes/client-node') throw new Error('@kubernetes/client-node was imported');
    return next(specifier, context);
  },
});
