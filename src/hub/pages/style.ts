// The hub's only stylesheet, served at <base>hub/static/style.css. System fonts, no external assets.
// Colour pairs are chosen for WCAG AA contrast (text ≥ 4.5:1) in both light and dark schemes.
export const styleCss = `:root {
  color-scheme: light dark;
  --bg: #f5f6f8; --surface: #ffffff; --text: #1d232b; --muted: #55606e; --border: #d5dae1;
  --accent: #0b5cad; --accent-text: #ffffff; --accent-hover: #094a8c;
  --danger: #b42318; --danger-bg: #fdecea; --info-bg: #e8f1fb; --track: #e2e6eb; --focus: #f2b705;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #15181c; --surface: #1e2228; --text: #e7eaee; --muted: #a9b2bd; --border: #3a414b;
    --accent: #6cb0f5; --accent-text: #0d1117; --accent-hover: #94c6f8;
    --danger: #ff8a80; --danger-bg: #3a1f1d; --info-bg: #1b2a3a; --track: #2e343c; --focus: #f2b705;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { font-size: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--text); line-height: 1.5;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
a { color: var(--accent); }
a:hover { color: var(--accent-hover); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.skip-link { position: absolute; left: -9999px; top: 0; }
.skip-link:focus { left: 1rem; top: 1rem; background: var(--surface); padding: .5rem 1rem; z-index: 10; }
.site-header {
  display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: .5rem 1rem;
  padding: .75rem 1.25rem; background: var(--surface); border-bottom: 1px solid var(--border);
}
.brand { font-weight: 700; font-size: 1.15rem; text-decoration: none; color: var(--text); letter-spacing: .02em; }
.account { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; color: var(--muted); }
main { max-width: 44rem; margin: 2rem auto; padding: 0 1rem; }
main:focus { outline: none; }
.card { background: var(--surface); border: 1px solid var(--border); border-radius: .5rem; padding: 1.5rem; }
.card.narrow { max-width: 26rem; margin: 0 auto; }
h1 { font-size: 1.5rem; margin: 0 0 1rem; line-height: 1.25; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .75rem; }
p, form { margin: 0 0 1rem; }
.muted { color: var(--muted); }
label { display: block; font-weight: 600; margin-bottom: .25rem; }
input[type="text"], input[type="password"], select {
  display: block; width: 100%; padding: .55rem .7rem; font: inherit; color: var(--text);
  background: var(--surface); border: 1px solid var(--muted); border-radius: .35rem;
}
.field { margin-bottom: 1rem; }
.button, button {
  display: inline-block; padding: .55rem 1.1rem; font: inherit; font-weight: 600; text-decoration: none;
  border-radius: .35rem; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-text);
  cursor: pointer;
}
.button:hover, button:hover { background: var(--accent-hover); border-color: var(--accent-hover); color: var(--accent-text); }
.button.secondary, button.secondary { background: transparent; color: var(--accent); }
.button.danger, button.danger { background: transparent; color: var(--danger); border-color: var(--danger); }
button:disabled { opacity: .6; cursor: default; }
.actions { display: flex; flex-wrap: wrap; gap: .75rem; align-items: center; margin-top: 1rem; }
.alert { padding: .75rem 1rem; border-radius: .35rem; margin-bottom: 1rem; border-left: 4px solid; }
.alert.error { background: var(--danger-bg); border-color: var(--danger); }
.alert.info { background: var(--info-bg); border-color: var(--accent); }
.progress { height: 1.25rem; background: var(--track); border-radius: 999px; overflow: hidden; margin: 1rem 0; }
.progress-bar { height: 100%; width: 0; background: var(--accent); transition: width .4s ease; }
.progress.failed .progress-bar { background: var(--danger); }
.progress-log { margin: .5rem 0 0; padding-left: 1.25rem; color: var(--muted); font-size: .95rem; }
details summary { cursor: pointer; color: var(--muted); }
fieldset { border: 0; padding: 0; margin: 0 0 1rem; }
legend { font-weight: 600; margin-bottom: .5rem; }
.choice { display: flex; gap: .6rem; align-items: flex-start; padding: .75rem; border: 1px solid var(--border);
  border-radius: .35rem; margin-bottom: .5rem; font-weight: normal; cursor: pointer; }
.choice input { margin-top: .3rem; }
.choice .description { display: block; color: var(--muted); }
table { width: 100%; border-collapse: collapse; font-size: .95rem; }
th, td { text-align: left; padding: .5rem; border-bottom: 1px solid var(--border); vertical-align: top; }
td .actions { margin-top: 0; }
.token-value { display: block; width: 100%; font-family: ui-monospace, Menlo, Consolas, monospace; word-break: break-all;
  padding: .6rem; background: var(--bg); border: 1px solid var(--border); border-radius: .35rem; }
.status-code { color: var(--muted); font-size: .95rem; margin-bottom: .25rem; }
.table-wrap { overflow-x: auto; }
main:has(.card.wide) { max-width: 76rem; }
form.inline { display: inline; margin: 0; }
.button.small, button.small { padding: .2rem .6rem; font-size: .9rem; }
ul.plain { list-style: none; margin: 0; padding: 0; }
ul.plain li { margin-bottom: .25rem; }
.add-group input[type="text"] { display: inline-block; width: 8rem; padding: .2rem .4rem; }
.search input[type="text"] { flex: 1 1 12rem; width: auto; }
textarea { display: block; width: 100%; font: inherit; padding: .55rem .7rem; color: var(--text); background: var(--surface);
  border: 1px solid var(--muted); border-radius: .35rem; }
label.check { font-weight: normal; }
@media (max-width: 30rem) {
  main { margin: 1rem auto; }
  .card { padding: 1rem; }
}
@media (prefers-reduced-motion: reduce) { .progress-bar { transition: none; } }
`;
