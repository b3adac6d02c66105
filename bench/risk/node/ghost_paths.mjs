// Drives ghost-cursor's own GhostCursor class (v1.4.2) against a recording stand-in for a
// puppeteer Page, so the real move/moveTo/mouseDown/mouseUp code decides every CDP
// Input.dispatchMouseEvent a bot would send; no browser and no puppeteer are involved.
//
// stdin:  {"items": [{"seed": int, "viewport": [w, h], "handle": {x, y, width, height},
//                     "distance": px}, ...]}
// stdout: {"items": [{"events": [[type, x, y], ...]}, ...]} where type is "mouseMoved",
//         "mousePressed" or "mouseReleased", in dispatch order, page coordinates.
//
// The script a bot author writes with ghost-cursor for a slider: `cursor.move(handle)`,
// `cursor.mouseDown()`, `cursor.moveTo({x: here.x + distance, y: here.y})`, `cursor.mouseUp()`,
// all with the library's defaults (cursor starting at {0, 0}, no moveSpeed, moveDelay 0).
// Timing is not decided here: each dispatch is awaited, so the Python side places one event
// per rendered frame (see bench/risk/sampling.py).
import { GhostCursor } from 'ghost-cursor'

/** mulberry32: a small seeded PRNG standing in for Math.random, which ghost-cursor calls. */
function seededRandom (seed) {
  let state = seed >>> 0
  return function random () {
    state = (state + 0x6d2b79f5) >>> 0
    let mixed = Math.imul(state ^ (state >>> 15), state | 1)
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61)
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296
  }
}

function recordingPage (viewport, handle, events) {
  const [width, height] = viewport
  const cdp = {
    async send (method, params) {
      if (method === 'Input.dispatchMouseEvent') {
        events.push([params.type, params.x, params.y])
        return {}
      }
      if (method === 'DOM.getContentQuads') {
        const { x, y, width: w, height: h } = handle
        return { quads: [[x, y, x + w, y, x + w, y + h, x, y + h]] }
      }
      if (method === 'DOM.scrollIntoViewIfNeeded') return {}
      throw new Error(`unexpected CDP method ${method}`)
    }
  }
  return {
    _client: () => cdp,
    browser: () => ({ connected: true }),
    // Only getPageState calls evaluate on this path: the handle is already in view.
    evaluate: async () => ({
      viewportWidth: width,
      viewportHeight: height,
      docHeight: height,
      docWidth: width,
      scrollPositionTop: 0,
      scrollPositionLeft: 0
    })
  }
}

const handleElement = {
  remoteObject: () => ({ objectId: 'slider-handle' }),
  asElement () { return this }
}

async function dragEvents (item) {
  Math.random = seededRandom(item.seed)
  const events = []
  const page = recordingPage(item.viewport, item.handle, events)
  const cursor = new GhostCursor(page)
  await cursor.move(handleElement)
  await cursor.mouseDown()
  const here = cursor.getLocation()
  await cursor.moveTo({ x: here.x + item.distance, y: here.y })
  await cursor.mouseUp()
  return { events }
}

async function main () {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  const request = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  const items = []
  for (const item of request.items) items.push(await dragEvents(item))
  process.stdout.write(JSON.stringify({ items }))
}

await main()
