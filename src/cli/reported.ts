// An error the renderer has already shown; main.ts maps its cause to the exit code without
// printing it again.
export class Reported extends Error {
  constructor(readonly inner: unknown) {
    super(inner instanceof Error ? inner.message : String(inner));
    this.name = 'Reported';
  }
}
