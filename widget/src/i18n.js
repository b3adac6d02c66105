// Every visible string and screen-reader announcement, in English and Simplified Chinese.
// `{0}`, `{1}`… are filled in by `t()`. Keep both tables in the same order.

const EN = {
  group: "Human verification",
  loading: "Loading\u2026",
  verifying: "Verifying\u2026",
  ok: "Success",
  okSay: "Verification succeeded",
  failed: "Verification failed, try again",
  expired: "Verification expired",
  error: "Verification error.",
  "invalid-sitekey": "This site key is not valid.",
  "invalid-origin": "This website may not use this site key.",
  "rate-limited": "Too many attempts. Wait a moment and try again.",
  // The site's account cannot pay for verification: the visitor is never told why.
  "insufficient-balance": "Verification unavailable",
  network: "Could not reach the verification server.",
  refresh: "New challenge",
  audio: "Audio challenge",
  visual: "Visual challenge",
  verify: "Verify",
  undo: "Remove the last point",
  slide: "Drag the piece to fill the gap",
  slideSay: "Drag the piece to fill the gap, or use the arrow keys and press Enter",
  slideHint: "Slide to fit the piece",
  slideLabel: "Puzzle piece position",
  click: "Click the symbols in the order of their numbers:",
  clickSay:
    "Click the symbols in the order of the numbers above the picture. Keyboard: arrow keys " +
    "move the cursor, " +
    "Space places a point, Backspace removes one, Enter verifies",
  clickLabel: "Picture: arrow keys move the cursor, Space places a point",
  clickPos: "x {0}, y {1}; {2} of {3} placed",
  rotate: "Turn the picture upright",
  rotateSay:
    "Turn the picture until it is upright: drag it or the slider, " +
    "or use the arrow keys and press Enter",
  rotateHint: "Slide to turn the picture",
  rotateLabel: "Rotation",
  deg: "{0} degrees",
  text: "Type the characters you see",
  textSay: "Type the characters you see in the picture and press Enter",
  textLabel: "Characters in the picture",
  listen: "Play the audio and type the digits you hear",
  listenSay: "Press Play, then type the {0} digits you hear and press Enter",
  digits: "Digits you hear",
  play: "Play",
  pause: "Pause",
  check: "Slide to verify you are human",
  checkSay: "Drag the handle to the end of the track, or press Enter on it",
  checkHint: "Slide to verify",
  checkLabel: "Slide to verify",
  more: "One more step",
  privacy: "What HumanGate keeps about this device",
  privacyShort: "Privacy",
};

const ZH = {
  group: "人机验证",
  loading: "加载中\u2026",
  verifying: "验证中\u2026",
  ok: "验证成功",
  okSay: "验证成功",
  failed: "验证失败，请重试",
  expired: "验证已过期",
  error: "验证出错。",
  "invalid-sitekey": "此站点密钥无效。",
  "invalid-origin": "此网站不能使用该站点密钥。",
  "rate-limited": "尝试次数过多，请稍后再试。",
  "insufficient-balance": "验证暂不可用",
  network: "无法连接验证服务器。",
  refresh: "换一个",
  audio: "语音验证",
  visual: "图片验证",
  verify: "确认",
  undo: "撤销上一个点",
  slide: "拖动拼图块填充缺口",
  slideSay: "拖动拼图块填充缺口，或用方向键移动后按回车键",
  slideHint: "向右拖动完成拼图",
  slideLabel: "拼图块位置",
  click: "请按编号顺序点击图形：",
  clickSay:
    "请按图片上方的编号顺序点击图中的符号。" +
    "键盘：方向键移动光标，空格键放置点，退格键撤销，回车键确认",
  clickLabel: "验证图片：方向键移动光标，空格键放置点",
  clickPos: "x {0}，y {1}；已放置 {2}/{3}",
  rotate: "将图片转正",
  rotateSay: "拖动图片或滑块将图片转正，或用方向键调整后按回车键",
  rotateHint: "拖动滑块旋转图片",
  rotateLabel: "旋转角度",
  deg: "{0}度",
  text: "请输入图中的字符",
  textSay: "请输入图中的字符并按回车键",
  textLabel: "图中的字符",
  listen: "播放音频，输入听到的数字",
  listenSay: "按播放，然后输入听到的 {0} 个数字并按回车键",
  digits: "听到的数字",
  play: "播放",
  pause: "暂停",
  check: "向右滑动完成验证",
  checkSay: "将滑块拖到最右侧，或在滑块上按回车键",
  checkHint: "向右滑动验证",
  checkLabel: "滑动验证",
  more: "还需一步验证",
  privacy: "HumanGate 保存的本设备信息",
  privacyShort: "隐私",
};

/** "zh" for any Chinese language tag, otherwise "en". */
export const pickLang = (tag) => (/^zh/i.test(tag || "") ? "zh" : "en");

/** The string table of `lang` ("en" or "zh"), as a function: t("key", arg0, arg1…). */
export function strings(lang) {
  const table = lang == "zh" ? ZH : EN;
  return (key, ...args) => (table[key] || "").replace(/\{(\d)\}/g, (_, i) => args[i]);
}
