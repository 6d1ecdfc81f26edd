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
//
// --single-threaded: V8 runs its compile jobs and GC on the main thread, never as tasks on Node's
// platform workers. Node can deadlock at exit when a worker is inside a concurrent compile job that
// waits for a main-thread GC while the main thread, exiting, waits to join that worker
// (nodejs/node#54918, open; seen on Node 26: nodejs/node#64274). It happened once to this binary
// (`cleanup --help` printed its text and never exited), and a small young generation makes GCs,
// hence that wait, more frequent. Without background jobs there is nothing to join. A CLI that
// waits on the network gains nothing from them: same start-up, same memory (docs/binary.md).
export const RUNTIME_FLAGS = ['--max-semi-space-size=1', '--optimize-for-size', '--single-threaded'];
