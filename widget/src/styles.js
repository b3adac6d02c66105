// The widget's stylesheet. It lives in the widget's shadow root, so the host page's CSS neither
// reaches in nor is touched. Colours are custom properties so that dark mode only swaps values.

const DARK =
  "--bg:#161b22;--fg:#e6edf3;--mut:#9198a1;--bd:#3d444d;--ac:#4493f8;--ok:#3fb950;--bad:#f85149;" +
  "--tr:#262c36;--on:#0d1117";

export const CSS = `
:host{display:block}
.hg{--bg:#f9fafb;--fg:#1f2328;--mut:#59636e;--bd:#d1d9e0;--ac:#0969da;--ok:#1a7f37;--bad:#cf222e;
--tr:#e8ecf0;--on:#fff;
box-sizing:border-box;width:100%;max-width:342px;padding:10px;border:1px solid var(--bd);
border-radius:8px;background:var(--bg);color:var(--fg);text-align:left;
font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.dark{${DARK}}
@media (prefers-color-scheme:dark){.auto{${DARK}}}
.row{display:flex;align-items:center;gap:8px;min-height:36px}
.ic{flex:none;display:flex;align-items:center;justify-content:center;box-sizing:border-box;
width:22px;height:22px;border-radius:50%;font-size:14px;font-weight:700;color:var(--on)}
[data-state=loading] .ic,[data-state=solving] .ic,[data-state=checking] .ic{
border:3px solid var(--tr);border-top-color:var(--ac);animation:hgspin .8s linear infinite}
[data-state=success] .ic{background:var(--ok)}
[data-state=success] .ic::after{content:"\\2713"}
[data-state=failed] .ic,[data-state=error] .ic{background:var(--bad)}
[data-state=failed] .ic::after,[data-state=error] .ic::after{content:"!"}
[data-state=puzzle] .ic{display:none}
[data-state=failed] .msg,[data-state=error] .msg{color:var(--bad)}
.msg{flex:1;outline:none}
.rf{flex:none;display:flex;padding:4px;border:0;border-radius:6px;background:none;color:var(--mut);
cursor:pointer}
.rf:hover{color:var(--fg);background:var(--tr)}
[data-state=success] .rf,[data-state=solving] .rf{display:none}
.brand{font-size:11px;color:var(--mut)}
.pz{margin-top:6px;user-select:none;-webkit-user-select:none}
[data-state=checking] .pz,[data-state=loading] .pz{opacity:.6;pointer-events:none}
.img{position:relative;height:0;overflow:hidden;border-radius:6px;background:var(--tr)}
.img img{position:absolute;display:block;max-width:none}
.bg{top:0;left:0;width:100%;height:100%}
.pc{cursor:grab;touch-action:none;filter:drop-shadow(0 0 2px rgba(0,0,0,.8))}
.tr{position:relative;height:40px;margin-top:8px;border-radius:6px;background:var(--tr)}
.fill{position:absolute;top:0;bottom:0;left:0;border-radius:6px;background:var(--ac);opacity:.3}
.hint{position:absolute;top:0;bottom:0;left:0;right:0;display:flex;align-items:center;
justify-content:center;font-size:12px;color:var(--mut);pointer-events:none}
.hd{position:absolute;top:0;bottom:0;left:0;display:flex;align-items:center;justify-content:center;
box-sizing:border-box;border-radius:6px;background:var(--ac);color:var(--on);cursor:grab;
touch-action:none}
.drag .hd,.drag .pc{cursor:grabbing}
.rf:focus-visible,.hd:focus-visible{outline:2px solid var(--ac);outline-offset:2px}
.hd:focus-visible{box-shadow:0 0 0 2px var(--bg) inset}
.sr{position:absolute;width:1px;height:1px;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);
white-space:nowrap}
[hidden]{display:none!important}
@keyframes hgspin{to{transform:rotate(1turn)}}
@media (prefers-reduced-motion:reduce){.ic{animation-duration:2.4s!important}}
`;
