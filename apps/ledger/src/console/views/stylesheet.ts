// The console's one stylesheet, served at STYLESHEET_PATH. Mobile first: one column and tables that
// scroll sideways at a phone's width; wider screens get more room. The font stack reaches a CJK font
// (Simplified Chinese first) on every common system, so subjects and reasons in Chinese display.

export const CONSOLE_STYLESHEET = `
:root {
  --ink: #1d2129; --muted: #5c6370; --line: #d9dde3; --bg: #f6f7f9; --card: #fff;
  --accent: #1a56db; --ok: #067647; --warn: #b54708; --bad: #b42318;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "PingFang SC", "Hiragino Sans GB",
    "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif;
  color: var(--ink); background: var(--bg); font-size: 15px; line-height: 1.45;
}
* { box-sizing: border-box; }
body { margin: 0; }
a { color: var(--accent); }
header.top { background: #111827; color: #fff; padding: .5rem .75rem; display: flex; flex-wrap: wrap;
  gap: .4rem .8rem; align-items: center; }
header.top a { color: #fff; text-decoration: none; }
header.top .brand { font-weight: 700; }
header.top nav { display: flex; flex-wrap: wrap; gap: .2rem .8rem; order: 3; width: 100%; }
header.top nav a { opacity: .85; padding: .15rem 0; }
header.top nav a[aria-current="page"] { opacity: 1; border-bottom: 2px solid #fff; }
header.top .signout { margin-left: auto; display: flex; gap: .5rem; align-items: center; }
header.top .operator { opacity: .8; font-size: .9rem; }
.mode { font-size: .75rem; padding: .05rem .45rem; border-radius: 1rem; text-transform: uppercase; }
.mode-demo { background: #fef0c7; color: #93370d; }
.mode-live { background: #d1fadf; color: #05603a; }
main { padding: .75rem; max-width: 78rem; margin: 0 auto; overflow-wrap: anywhere; }
footer { color: var(--muted); font-size: .8rem; padding: 1rem .75rem; text-align: center; }
h1 { font-size: 1.3rem; margin: .4rem 0 .8rem; word-break: break-all; }
h2 { font-size: 1.1rem; margin: 1.4rem 0 .5rem; }
h3 { font-size: 1rem; margin: .8rem 0 .4rem; }
section, .card { background: var(--card); border: 1px solid var(--line); border-radius: .5rem; padding: .75rem;
  margin: 0 0 1rem; }
.table-scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { overflow-wrap: normal; text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f0f2f5; white-space: nowrap; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.nowrap { white-space: nowrap; }
dl.facts { display: grid; grid-template-columns: minmax(7rem, max-content) 1fr; gap: .25rem .75rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; word-break: break-all; }
form.filters { display: grid; grid-template-columns: 1fr; gap: .5rem; }
label { display: block; font-size: .85rem; color: var(--muted); }
input[type=text], input[type=password], input[type=datetime-local], input[type=date], select, textarea {
  width: 100%; padding: .45rem; font: inherit; border: 1px solid var(--line); border-radius: .35rem;
  background: #fff; }
textarea { min-height: 4rem; }
button, .button { display: inline-block; padding: .45rem .9rem; font: inherit; border-radius: .35rem;
  border: 1px solid var(--line); background: #fff; color: var(--ink); cursor: pointer; text-decoration: none; }
button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
button.danger { background: var(--bad); color: #fff; border-color: var(--bad); }
button.link { background: none; border: none; color: inherit; text-decoration: underline; padding: 0; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin-top: .6rem; }
.flash { padding: .6rem .75rem; border-radius: .4rem; margin: 0 0 1rem; }
.flash-success { background: #ecfdf3; color: var(--ok); border: 1px solid #abefc6; }
.flash-error { background: #fef3f2; color: var(--bad); border: 1px solid #fecdca; }
.badge { display: inline-block; font-size: .78rem; padding: 0 .4rem; border-radius: .3rem; background: #eef2f6;
  white-space: nowrap; }
.badge.ok { background: #ecfdf3; color: var(--ok); }
.badge.warn { background: #fffaeb; color: var(--warn); }
.badge.bad { background: #fef3f2; color: var(--bad); }
.muted { color: var(--muted); }
h2 .badge { margin-left: .4rem; vertical-align: middle; }
.totals { display: flex; flex-wrap: wrap; gap: .3rem 1.2rem; margin: .5rem 0; }
ol.timeline { list-style: none; padding: 0; margin: 0; }
ol.timeline > li { border-left: 3px solid var(--accent); padding: .3rem 0 .6rem .75rem; margin-left: .3rem; }
ol.timeline .event-type { font-weight: 700; }
details { margin: .3rem 0; }
summary { cursor: pointer; color: var(--accent); }
pre { background: #f6f8fa; padding: .5rem; overflow-x: auto; font-size: .8rem; white-space: pre-wrap;
  word-break: break-all; margin: .3rem 0; }
.pager { display: flex; gap: 1rem; margin: .75rem 0; }
.confirm .summary { margin-bottom: .5rem; }
.rebuild { display: flex; flex-wrap: wrap; gap: .2rem .6rem; align-items: center; }
progress { width: 10rem; max-width: 100%; }
.grid { display: grid; grid-template-columns: 1fr; gap: 1rem; }
.rows .row { display: grid; grid-template-columns: 1fr; gap: .4rem; border-bottom: 1px dashed var(--line);
  padding: .5rem 0; }
@media (min-width: 48rem) {
  main { padding: 1rem 1.5rem; }
  header.top { padding: .6rem 1.5rem; }
  header.top nav { order: 0; width: auto; }
  form.filters { grid-template-columns: repeat(4, minmax(0, 1fr)); align-items: end; }
  .grid { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  .rows .row { grid-template-columns: 2fr 1fr 3fr; }
}
`;
