/**
 * A test hook, read here and nowhere else: JEOS_TEST_CRASH_AT=disk-add:<point> kills this
 * process (SIGKILL, as a power cut or the OOM killer would) when `jeos disk add` reaches that
 * point, so a test can check the disk it leaves. The points are the `step` names add.ts passes.
 */
export function crashPoint(step: string): void {
  const at = process.env.JEOS_TEST_CRASH_AT;
  if (at && at === `disk-add:${step}`) process.kill(process.pid, 'SIGKILL');
}
