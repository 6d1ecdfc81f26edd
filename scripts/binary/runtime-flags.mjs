// The Node/V8 flags the release binary starts with (build.mjs puts them in the SEA config's
// execArgv); the benchmarks run the bundle with the same flags, so they measure what ships.
//
// The plugin waits on the API server most of the time and keeps little alive (the heap's live set
// was 26 MB in a batch of 10 claims), while a batch parses many short-lived lists and journals, so
// V8's defaults, tuned for throughput, let the heap grow far beyond what is alive:
// --max-semi-space-size=1: the young generation at most 3 x 1 MiB instead of 3 x 16 MiB;
// --optimize-for-size: V8 favours memory over speed (smaller heap growth steps, less eager JIT).
// The batch bench of 50 claims peaked at 283 MB RSS with neither, 200 MB with the first and 128 MB
// with both, in runs of the same code on the same test bed (docs/performance.md).
export const RUNTIME_FLAGS = ['--max-semi-space-size=1', '--optimize-for-size'];
