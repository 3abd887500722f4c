// Loaded into the servers under benchmark only (NODE_OPTIONS): SIGUSR2 runs a full garbage
// collection, so that idle memory is measured without the garbage connection setup left behind.
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  globalThis.gc?.();
});
