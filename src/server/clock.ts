// The registry's clock. Tests that need time to pass (lifecycle rules over days, token expiry) start the server
// with BERTH_TEST_CLOCK=1 and move it forward through the admin action `advance-clock`; otherwise it is the
// system clock.
export class Clock {
  private offsetMs = 0;
  readonly adjustable: boolean;

  constructor(adjustable: boolean) {
    this.adjustable = adjustable;
  }

  readonly now = (): number => Date.now() + this.offsetMs;

  advance(ms: number): void {
    if (!this.adjustable) throw new Error('this registry runs on the system clock (start it with BERTH_TEST_CLOCK=1 to adjust it)');
    this.offsetMs += ms;
  }
}
