/** The report's stylesheet, inline: the file must open anywhere with nothing fetched (fonts are the system's). */
export const STYLE = `
:root { color-scheme: light; --ink: #1d2430; --muted: #5b6472; --line: #d9dde3; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); background: #fff; }
header { padding: 18px 28px 10px; background: var(--bg); border-bottom: 1px solid var(--line); }
h1 { margin: 0 0 4px; font-size: 26px; }
h1 small { font-weight: 400; color: var(--muted); font-size: 18px; }
h2 { margin: 30px 0 10px; font-size: 20px; border-bottom: 2px solid var(--line); padding-bottom: 4px; }
h3 { margin: 18px 0 6px; font-size: 16px; }
h4 { margin: 10px 0 4px; font-size: 14px; color: var(--muted); }
main { padding: 0 28px 40px; max-width: 1280px; }
nav a { margin-right: 14px; color: #1f5fbf; text-decoration: none; }
nav a:hover { text-decoration: underline; }
.meta { color: var(--muted); margin: 0 0 8px; }
.figures { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0 0; padding: 0; list-style: none; }
.figures li { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 150px; }
.figures b { display: block; font-size: 20px; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 14px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px 4px 0; text-align: left; vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
table.packages { width: 100%; table-layout: fixed; }
table.packages td { overflow-wrap: anywhere; }
table.packages th:nth-child(1) { width: 15%; }
table.packages th:nth-child(2) { width: 14%; }
table.packages th:nth-child(3) { width: 6%; }
table.packages th:nth-child(4) { width: 27%; }
table.packages th:nth-child(5) { width: 19%; }
table.packages td:nth-child(n+4) { font-size: 12.5px; }
details.licence, details.licence[open] { border: 0; padding: 0; margin: 0; background: none; }
details.licence summary, details.units summary { font-weight: 400; }
table.licences td:first-child { font-size: 12.5px; max-width: 900px; }
code { font: 13px/1.3 ui-monospace, "DejaVu Sans Mono", monospace; overflow-wrap: anywhere; }
.pkg { font-weight: 600; }
.n { color: var(--muted); font-weight: 400; font-size: 13px; }
.warn { color: #9a3b00; }
figure { margin: 8px 0 18px; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
svg.treemap { width: 100%; height: auto; display: block; background: #fff; border: 1px solid var(--line); }
svg.treemap rect { stroke: #fff; stroke-width: 0.5; }
svg.treemap rect.x { fill: #8c8c8c; }
svg.treemap rect.xd { fill: #b4b4b4; }
svg.treemap rect:hover { stroke: #000; stroke-width: 1.5; }
svg.treemap text { font: 600 11px system-ui, "DejaVu Sans", sans-serif; fill: #fff; pointer-events: none; }
svg.treemap text.fl { font: 400 9px system-ui, "DejaVu Sans", sans-serif; fill: #1d2430; }
.legend span { display: inline-block; width: 12px; height: 12px; vertical-align: -1px; margin: 0 4px 0 12px; border: 1px solid #0003; }
details { border: 1px solid var(--line); border-radius: 4px; margin: 4px 0; padding: 2px 10px; }
details[open] { background: var(--bg); }
summary { cursor: pointer; font-weight: 600; }
ul.chain { margin: 6px 0; padding-left: 18px; font-size: 13px; }
ul.chain li { margin: 3px 0; }
footer { color: var(--muted); font-size: 13px; padding: 12px 28px 30px; border-top: 1px solid var(--line); }
`;
