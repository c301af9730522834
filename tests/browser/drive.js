#!/usr/bin/env node
// Drives Debian's chromium with puppeteer-core for the end-to-end tests: one
// browser, one tab, commands as JSON lines on standard input, one JSON line
// answered on standard output for each. tests/e2e/browser.py (class Driver)
// speaks it, so a Python case reads as what a user does.
//
//   node drive.js CHROMIUM NODE_MODULES BASE_URL
//
// Every answer is {"ok": true, ...} or {"ok": false, "error": "..."}, and
// carries the page as it then stands: "url", "status" (of the last
// navigation), "title", "text" (what the page shows) and "html".
// Commands ({"cmd": NAME, ...}):
//   goto {path}                 load BASE_URL + path
//   open_html {html}            a page of another site (about:blank's opaque
//                               origin) with this HTML, as an attacker's is
//   fill {selector, value}      type into a field, replacing what is there
//   click {selector}            press a button or follow a link, and wait for
//                               the page it loads
//   back                        the back button
//   eval {js}                   the value of an expression in the page
//   cookies                     every cookie the browser holds, with its flags
//   inject_script {js}          add an inline <script> to the page as an
//                               attacker would; answers whether it ran and
//                               which securitypolicyviolation events fired
//   axe {tags}                  axe-core's violations on the page
//   close
//   press {selector}            click something that loads no page (open a
//                               <details>, tick a box), as a user does
//   screenshot {path, width, height}  a picture of the whole page, PNG
//   type_date {selector, value} type a date (YYYY-MM-DD) into a date field,
//                               its parts in the order the browser's locale
//                               shows them
//   download {selector}         press a link or button whose answer is a
//                               download, and wait for the file: answers
//                               "filename" (the name the browser was given)
//                               and "content" (the file's text)
"use strict";
const path = require("path");
const readline = require("readline");

const [chromium, modules, base] = process.argv.slice(2);
if (!chromium || !modules || !base) {
  process.stderr.write("usage: drive.js CHROMIUM NODE_MODULES BASE_URL\n");
  process.exit(2);
}
const puppeteer = require(path.join(modules, "puppeteer-core"));
const axeSource = require("fs").readFileSync(path.join(modules, "axe-core", "axe.min.js"), "utf8");

let browser, page, status = null;

async function state() {
  if (!page) return {};
  let text = "", html = "", title = "";
  try {
    html = await page.content();
    title = await page.title();
    text = await page.evaluate(() => (document.body ? document.body.innerText : ""));
  } catch (e) {
    text = "(the page cannot be read: " + e.message + ")";
  }
  return {url: page.url(), status, title, text, html};
}

async function navigated(p) {
  const r = await p;
  status = r ? r.status() : null;
}

const commands = {
  async start() {
    browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      pipe: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--hide-scrollbars"],
    });
    page = await browser.newPage();
    await page.setViewport({width: 1000, height: 900});
    page.setDefaultTimeout(30000);
    return {version: await browser.version()};
  },
  async goto(c) {
    await navigated(page.goto(base + c.path, {waitUntil: "load"}));
  },
  async open_html(c) {
    await page.goto("about:blank");
    await page.setContent(c.html, {waitUntil: "load"});
    status = null;
  },
  async fill(c) {
    const el = await page.$(c.selector);
    if (!el) throw new Error("no field " + c.selector + " on the page");
    await el.click({clickCount: 3});
    await el.evaluate((e) => { e.value = ""; });
    await el.type(c.value);
  },
  async click(c) {
    const el = await page.$(c.selector);
    if (!el) throw new Error("nothing to press at " + c.selector + " on the page");
    await navigated(Promise.all([page.waitForNavigation({waitUntil: "load"}), el.click()])
      .then((a) => a[0]));
  },
  async back() {
    await navigated(page.goBack({waitUntil: "load"}));
  },
  async eval(c) {
    return {value: await page.evaluate(c.js)};
  },
  async cookies() {
    const cdp = await page.createCDPSession();
    const r = await cdp.send("Network.getAllCookies");
    await cdp.detach();
    return {cookies: r.cookies};
  },
  async inject_script(c) {
    const r = await page.evaluate(async (js) => {
      const seen = [];
      document.addEventListener("securitypolicyviolation", (e) => {
        seen.push({directive: e.violatedDirective, blocked: e.blockedURI});
      });
      window.__custos_ran = false;
      const s = document.createElement("script");
      s.textContent = js;
      document.body.appendChild(s);
      await new Promise((res) => setTimeout(res, 200));
      return {ran: window.__custos_ran === true, violations: seen};
    }, c.js);
    return r;
  },
  async axe(c) {
    await page.evaluate(axeSource);
    const v = await page.evaluate((tags) =>
      window.axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]})
        .then((r) => r.violations.map((x) => [x.id, x.impact, x.help,
          x.nodes.slice(0, 5).map((n) => n.target.join(" "))])), c.tags);
    return {violations: v};
  },
  async close() {
    if (browser) await browser.close();
    browser = null;
  },
  async press(c) {
    const el = await page.$(c.selector);
    if (!el) throw new Error("nothing to press at " + c.selector + " on the page");
    await el.click();
  },
  async screenshot(c) {
    await page.setViewport({width: c.width || 1000, height: c.height || 900});
    await page.screenshot({path: c.path, fullPage: true});
    await page.setViewport({width: 1000, height: 900});
  },
  async type_date(c) {
    const el = await page.$(c.selector);
    if (!el) throw new Error("no field " + c.selector + " on the page");
    const [year, month, day] = c.value.split("-");
    const order = await page.evaluate(() => new Intl.DateTimeFormat()
      .formatToParts(new Date(2000, 10, 22)).filter((p) => p.type !== "literal")
      .map((p) => p.type));
    await el.evaluate((e) => { e.value = ""; e.focus(); });
    for (const part of order) await page.keyboard.type({year, month, day}[part]);
  },
  async download(c) {
    const fs = require("fs");
    const os = require("os");
    const el = await page.$(c.selector);
    if (!el) throw new Error("nothing to press at " + c.selector + " on the page");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "custos-download-"));
    const cdp = await browser.target().createCDPSession();
    try {
      await cdp.send("Browser.setDownloadBehavior",
                     {behavior: "allowAndName", downloadPath: dir, eventsEnabled: true});
      let filename = null;
      const done = new Promise((resolve, reject) => {
        cdp.on("Browser.downloadWillBegin", (e) => { filename = e.suggestedFilename; });
        cdp.on("Browser.downloadProgress", (e) => {
          if (e.state === "completed") resolve(e.guid);
          else if (e.state === "canceled") reject(new Error("the download was cancelled"));
        });
      });
      let timer;
      const late = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("no download within 30 s")), 30000);
      });
      await el.click();
      const guid = await Promise.race([done, late]).finally(() => clearTimeout(timer));
      const content = fs.readFileSync(path.join(dir, guid), "utf8");
      return {filename, content};
    } finally {
      await cdp.send("Browser.setDownloadBehavior", {behavior: "default"}).catch(() => {});
      await cdp.detach().catch(() => {});
      fs.rmSync(dir, {recursive: true, force: true});
    }
  },
};

function send(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

const rl = readline.createInterface({input: process.stdin});
let queue = Promise.resolve();
rl.on("line", (line) => {
  queue = queue.then(async () => {
    let c;
    try {
      c = JSON.parse(line);
      const f = commands[c.cmd];
      if (!f) throw new Error("no command " + c.cmd);
      const out = (await f(c)) || {};
      send(Object.assign({ok: true}, c.cmd === "close" ? {} : await state(), out));
      if (c.cmd === "close") process.exit(0);
    } catch (e) {
      send(Object.assign({ok: false, error: String(e && e.stack || e)}, await state()));
    }
  });
});
rl.on("close", () => {
  queue.then(async () => {
    if (browser) await browser.close();
    process.exit(0);
  });
});
