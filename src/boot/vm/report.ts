/**
 * The guest's report channel (the second serial port). Once multi-user.target is
 * reached the guest writes
 *
 *   JEOS_REPORT_BEGIN
 *   <systemctl list-units --state=failed --plain --no-legend --no-pager>
 *   JEOS_REPORT_END
 *
 * one failed unit per line, its name first. Lines may end in \r\n; anything outside
 * the markers is ignored. A guest may report again later (when a unit fails after
 * the boot, say): the newest report is the guest's current state.
 */
export const REPORT_BEGIN = 'JEOS_REPORT_BEGIN';
export const REPORT_END = 'JEOS_REPORT_END';

export interface GuestReport {
  failedUnits: string[];
}

/** The failed units of one report body (the lines between the markers). */
export function parseReportBody(lines: string[]): string[] {
  const units: string[] = [];
  for (const raw of lines) {
    // systemctl marks failed units with a bullet (● or *) unless --plain; accept either.
    const line = raw.replace(/\r$/, '').trim().replace(/^(?:●|\*)\s*/, '');
    if (!line) continue;
    const name = line.split(/\s+/)[0]!;
    if (!units.includes(name)) units.push(name);
  }
  return units;
}

/** Reads the channel as it arrives; `report` is the newest whole report seen. */
export class ReportReader {
  report: GuestReport | undefined;
  count = 0;
  private buffer = '';
  private body: string[] | undefined;
  private readonly decoder = new TextDecoder('utf-8');

  /** Returns the newest report when this chunk completed one. */
  feed(chunk: Uint8Array): GuestReport | undefined {
    let completed: GuestReport | undefined;
    this.buffer += this.decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      const trimmed = line.trim();
      if (trimmed === REPORT_BEGIN) this.body = [];
      else if (trimmed === REPORT_END && this.body) {
        completed = this.report = { failedUnits: parseReportBody(this.body) };
        this.body = undefined;
        this.count++;
      } else this.body?.push(line);
    }
    return completed;
  }
}
