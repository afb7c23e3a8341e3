/** Run `stop` once on SIGINT/SIGTERM, then exit. Returns a promise that resolves when a signal arrived. */
export function onShutdown(stop: () => Promise<void>): Promise<string> {
  return new Promise((resolve) => {
    let done = false;
    const handler = (sig: NodeJS.Signals): void => {
      if (done) return;
      done = true;
      resolve(sig);
      const force = setTimeout(() => process.exit(0), 3_000);
      force.unref();
      void stop().finally(() => process.exit(0));
    };
    process.once('SIGINT', handler);
    process.once('SIGTERM', handler);
  });
}
