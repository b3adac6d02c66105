// The widget's stylesheet. It lives in the widget's shadow root, so the host page's CSS neither
// reaches in nor is touched. Colours are custom properties so that dark mode only swaps values.
// Positions and sizes that change at run time are set through `el.style` (CSSOM), never through
// style attributes, so a strict `style-src` CSP does not interfere. The sheet itself is a
// constructed stylesheet, which CSP does not govern; where a browser has none, a <style> that
// carries the nonce of the widget's own script tag (or its `data-nonce`).

const DARK =
  "--bg:#161b22;--fg:#e6edf3;--mut:#9198a1;--bd:#3d444d;--ac:#4493f8;--ok:#3fb950;--bad:#f85149;" +
  "--tr:#262c36;--on:#0d1117;--in:#0d1117";

export const CSS = `
:host{display:block}
*{box-sizing:border-box}
.hg{--bg:#f9fafb;--fg:#1f2328;--mut:#59636e;--bd:#d1d9e0;--ac:#0969da;--ok:#1a7f37;--bad:#cf222e;
--tr:#e8ecf0;--on:#fff;--in:#fff;
width:100%;max-width:342px;padding:10px;border:1px solid var(--bd);
border-radius:8px;background:var(--bg);color:var(--fg);text-align:left;
font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"PingFang SC","Microsoft YaHei",
"Noto Sans CJK SC",sans-serif}
.dark{${DARK}}
@media (prefers-color-scheme:dark){.auto{${DARK}}}
.row{display:flex;align-items:center;gap:8px;min-height:36px}
.ic{flex:none;display:flex;align-items:center;justify-content:center;
width:22px;height:22px;border-radius:50%;font-size:14px;font-weight:700;color:var(--on)}
[data-state=loading] .ic,[data-state=solving] .ic,[data-state=checking] .ic{
border:3px solid var(--tr);border-top-color:var(--ac);animation:hgspin .8s linear infinite}
[data-state=success] .ic{background:var(--ok)}
[data-state=success] .ic::after{content:"\\2713"}
[data-state=failed] .ic,[data-state=error] .ic{background:var(--bad)}
[data-state=failed] .ic::after,[data-state=error] .ic::after{content:"!"}
[data-state=puzzle] .ic{display:none}
[data-state=failed] .msg,[data-state=error] .msg{color:var(--bad)}
.msg{flex:1;min-width:0;overflow-wrap:anywhere;outline:none}
.brand{display:block;margin-top:2px;font-size:11px;color:var(--mut);text-align:right;
text-decoration:none}
.brand:hover{text-decoration:underline}
button{margin:0;font:inherit;color:inherit;cursor:pointer}
button:disabled{opacity:.45;cursor:default}
.bar{display:flex;align-items:center;gap:4px;margin-top:8px}
.sp{flex:1}
.b{display:flex;align-items:center;justify-content:center;width:32px;height:32px;padding:0;
border:0;border-radius:6px;background:none;color:var(--mut)}
.b:enabled:hover{color:var(--fg);background:var(--tr)}
.ok{min-height:32px;padding:4px 16px;border:0;border-radius:6px;background:var(--ac);
color:var(--on);font-weight:600}
.pz{margin-top:6px;user-select:none;-webkit-user-select:none}
[data-state=checking] .pz,[data-state=loading] .pz,[data-state=checking] .bar,
[data-state=loading] .bar{opacity:.6;pointer-events:none}
.img{position:relative;height:0;overflow:hidden;border-radius:6px;background:var(--tr)}
.img img{position:absolute;display:block;max-width:none}
.img .bg{top:0;left:0;width:100%;height:100%}
.pc{cursor:grab;touch-action:none;filter:drop-shadow(0 0 2px rgba(0,0,0,.8))}
.tr{position:relative;height:40px;margin-top:8px;border-radius:6px;background:var(--tr)}
.fill{position:absolute;top:0;bottom:0;left:0;border-radius:6px;background:var(--ac);opacity:.3}
.hint{position:absolute;top:0;bottom:0;left:0;right:0;display:flex;align-items:center;
justify-content:center;padding:0 8px 0 20%;font-size:12px;line-height:1.2;color:var(--mut);
text-align:center;pointer-events:none}
.hd{position:absolute;top:0;bottom:0;left:0;display:flex;align-items:center;justify-content:center;
border-radius:6px;background:var(--ac);color:var(--on);cursor:grab;touch-action:none}
.drag .hd,.drag .pc,.drag .dk img{cursor:grabbing}
.dk{display:flex;justify-content:center}
.dk img{display:block;max-width:62%;height:auto;border-radius:50%;cursor:grab;touch-action:none}
.pr{display:flex;flex-wrap:wrap;align-items:center;gap:4px 8px;margin-bottom:6px}
.pi{display:block;max-width:100%;height:auto;border-radius:4px}
.ci{cursor:crosshair;touch-action:manipulation}
.mk,.cx{position:absolute;width:24px;height:24px;margin:-12px 0 0 -12px;pointer-events:none}
.mk{border:2px solid #fff;border-radius:50%;background:var(--ac);color:#fff;
font:700 12px/20px system-ui,sans-serif;text-align:center;box-shadow:0 1px 3px rgba(0,0,0,.6)}
.cx{z-index:1;display:none;width:32px;height:32px;margin:-16px 0 0 -16px}
.ci:focus-visible .cx{display:block}
.cx::before,.cx::after{content:"";position:absolute;background:#fff;box-shadow:0 0 0 1px #000}
.cx::before{left:15px;width:2px;height:32px}
.cx::after{top:15px;width:32px;height:2px}
.ti{display:block;max-width:100%;height:auto;margin:0 auto;border-radius:6px}
.in{display:block;width:100%;height:40px;margin-top:8px;padding:0 10px;border:1px solid var(--bd);
border-radius:6px;background:var(--in);color:var(--fg);font:16px/1 ui-monospace,Menlo,Consolas,
monospace;letter-spacing:.12em;text-transform:uppercase}
.in::placeholder{font:14px system-ui,sans-serif;letter-spacing:0;text-transform:none;
color:var(--mut)}
.play{display:flex;align-items:center;justify-content:center;gap:8px;width:100%;min-height:44px;
border:1px solid var(--bd);border-radius:6px;background:var(--tr);font-weight:600}
audio{display:none}
button:focus-visible,.hd:focus-visible,.ci:focus-visible,.in:focus{outline:2px solid var(--ac);
outline-offset:2px}
.hd:focus-visible{box-shadow:0 0 0 2px var(--bg) inset}
.in:focus{outline-offset:-1px}
.sr{position:absolute;width:1px;height:1px;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);
white-space:nowrap}
[hidden]{display:none!important}
@keyframes hgspin{to{transform:rotate(1turn)}}
@media (prefers-reduced-motion:reduce){.ic{animation-duration:2.4s!important}}
`;

let sheet;

/** Style a shadow root: a shared constructed sheet, or a <style> with the page's nonce. */
export function adoptStyle(root, nonce) {
  try {
    if (!sheet) {
      const made = new CSSStyleSheet();
      made.replaceSync(CSS);
      sheet = made;
    }
    root.adoptedStyleSheets = [sheet];
  } catch (e) {
    const style = document.createElement("style");
    if (nonce) style.nonce = nonce;
    style.textContent = CSS;
    root.prepend(style);
  }
}
