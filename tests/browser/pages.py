"""The accessibility and layout gate's tools (tests/browser/test_audit.py).

`Audit.page(...)` checks one page state the way a person would meet it: axe-core (WCAG 2.1 A and
AA rules, impacts "serious" and "critical") once at 1280 px, then the layout at each width
(nothing scrolls sideways, no element's content spills out of its box, dialogs and panels fit the
window), with a screenshot at 375 and 1280 px kept as a test artefact. Findings are collected, not
raised one by one, so a failing run lists every problem of every page at once.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe

ROOT = Path(__file__).resolve().parents[2]

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}
WIDTHS = (375, 768, 1280, 1920)
SCREENSHOT_WIDTHS = (375, 1280)
AXE_WIDTH = 1280
HEIGHT = 800

# Violations accepted on purpose: (axe rule id, page name or "admin:*" for every admin page) -> why.
# Add one only for markup we do not own; anything of ours is fixed instead.
ACCEPTED: dict[tuple[str, str], str] = {
    ("label", "admin:*"): "Django admin's own markup: a SplitDateTimeWidget's two inputs and a tabular inline's "
    "cells have no <label> of their own (the column header or the row's label names them visually)",
    ("select-name", "admin:*"): "Django admin's tabular inline: a row's <select> is named by its column header only",
    ("link-in-text-block", "admin:*"): "Django admin's breadcrumbs: white links in light text, Django's own styles",
}
# Django's admin is a desktop tool with its own responsive styles, whose markup we do not own: on its
# pages the layout check is "the page does not scroll sideways" at desktop widths only.
ADMIN_WIDTHS = (1280, 1920)

# What must fit inside the window when shown, and never scroll sideways inside.
FIT_SELECTOR = "dialog[open], .side-panel, [role=menu], details[open] > .pop"

# For every rendered element whose content spills sideways out of its box: its in-flow content (child
# boxes and text, not descending into boxes that clip or scroll) reaches past its padding box's right
# edge. `scrollWidth > clientWidth` finds the candidates; the in-flow test drops what only looks like
# an overflow: a popup (position absolute or fixed) hanging out of its anchor on purpose, a margin.
# Scroll containers (overflow auto/scroll) are fine, that is what they are for; `hidden` clips on
# purpose (ellipsis, line clamps, visually-hidden text); form controls scroll their value inside.
# Only the deepest are reported: an overflowing child makes each `overflow: visible` ancestor
# overflow too, which says nothing new.
LAYOUT_JS = """
(fitSelector) => {
  const rendered = (el) => el.checkVisibility
    ? el.checkVisibility({ visibilityProperty: true, contentVisibilityAuto: true })
    : el.getClientRects().length > 0;
  const name = (el) => {
    const parts = [];
    for (let node = el; node && node.nodeType === 1 && parts.length < 4; node = node.parentElement) {
      let part = node.tagName.toLowerCase();
      if (node.id) { parts.unshift(part + "#" + node.id); break; }
      const classes = [...node.classList].slice(0, 2);
      if (classes.length) part += "." + classes.join(".");
      parts.unshift(part);
    }
    return parts.join(" > ");
  };
  const outOfFlow = (el) => ["absolute", "fixed"].includes(getComputedStyle(el).position);
  const inFlowRight = (el) => {
    let right = -Infinity;
    const walk = (node) => {
      for (const child of node.childNodes) {
        if (child.nodeType === Node.TEXT_NODE && child.textContent.trim()) {
          const range = document.createRange();
          range.selectNodeContents(child);
          for (const r of range.getClientRects()) right = Math.max(right, r.right);
        } else if (child.nodeType === Node.ELEMENT_NODE && rendered(child) && !outOfFlow(child)) {
          const r = child.getBoundingClientRect();
          if (r.width || r.height) right = Math.max(right, r.right);
          if (!(child instanceof SVGElement) && getComputedStyle(child).overflowX === "visible") walk(child);
        }
      }
    };
    walk(el);
    return right;
  };
  const SKIP = new Set(["INPUT", "TEXTAREA", "SELECT", "OPTION", "VIDEO", "AUDIO", "IFRAME", "CANVAS", "IMG"]);
  const flagged = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (SKIP.has(el.tagName) || el instanceof SVGElement || !rendered(el)) continue;
    const overflowX = getComputedStyle(el).overflowX;
    if (overflowX !== "visible" && overflowX !== "clip") continue;
    if (el.clientWidth === 0 && getComputedStyle(el).display.startsWith("inline")) continue;  // inline boxes
    if (el.scrollWidth <= el.clientWidth + 1) continue;
    const edge = el.getBoundingClientRect().left + el.clientLeft + el.clientWidth;
    const reach = inFlowRight(el);
    if (reach > edge + 1) flagged.push([el, Math.round(reach - edge)]);
  }
  const overflows = flagged
    .filter(([el]) => !flagged.some(([other]) => other !== el && el.contains(other)))
    .map(([el, past]) => ({ target: name(el), past, scrollWidth: el.scrollWidth, clientWidth: el.clientWidth }));
  const unfit = [];
  const vw = document.documentElement.clientWidth, vh = window.innerHeight;
  for (const box of document.querySelectorAll(fitSelector)) {
    if (!rendered(box)) continue;
    const r = box.getBoundingClientRect();
    if (r.left < -1 || r.top < -1 || r.right > vw + 1 || r.bottom > vh + 1) {
      unfit.push({ target: name(box), detail: `box ${Math.round(r.left)},${Math.round(r.top)} to ` +
        `${Math.round(r.right)},${Math.round(r.bottom)} in a ${vw}x${vh} window` });
    }
    for (const el of [box, ...box.querySelectorAll("*")]) {
      const overflowX = getComputedStyle(el).overflowX;
      if ((overflowX === "auto" || overflowX === "scroll") && rendered(el) && el.scrollWidth > el.clientWidth + 1) {
        unfit.push({ target: name(el), detail: `scrolls sideways inside ${name(box)}: ` +
          `${el.scrollWidth} px of content in ${el.clientWidth} px` });
      }
    }
  }
  const root = document.documentElement;
  return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, overflows, unfit };
}
"""


def artefact_dir() -> Path:
    """Where the screenshots go: $TEST_ARTIFACTS_DIR/screens, else var/test-artifacts/screens (git-ignored)."""
    base = Path(os.environ.get("TEST_ARTIFACTS_DIR") or ROOT / "var" / "test-artifacts")
    return base / "screens"


@dataclass(frozen=True)
class Finding:
    page: str
    rule: str  # an axe rule id, or "page-scrolls-sideways" / "content-overflows-box" / "does-not-fit"
    impact: str
    targets: tuple[str, ...]
    detail: str = ""

    def __str__(self) -> str:
        where = "; ".join(self.targets[:6]) + (f" (+{len(self.targets) - 6} more)" if len(self.targets) > 6 else "")
        return f"[{self.impact}] {self.rule} on {self.page}: {where}" + (f" — {self.detail}" if self.detail else "")


@dataclass
class Audit:
    """Findings of one run over several page states."""

    findings: list[Finding] = field(default_factory=list)
    audited: list[str] = field(default_factory=list)
    axe: Axe = field(default_factory=Axe)

    def page(
        self,
        page,
        name: str,
        *,
        widths: tuple[int, ...] = WIDTHS,
        contrast_only: bool = False,
        elements: bool = True,
    ):
        """Audit the page as it is now, then at each width; it is left at 1280 px.

        `contrast_only`: axe's colour-contrast rule only (the dark pass); `elements=False`: the
        layout check looks at the page's width only, not at each element (Django's admin).
        """
        self.audited.append(name)
        page.set_viewport_size({"width": AXE_WIDTH, "height": HEIGHT})
        self.run_axe(page, name, contrast_only=contrast_only)
        for width in widths:
            page.set_viewport_size({"width": width, "height": HEIGHT})
            self.check_layout(page, f"{name} @{width}", elements=elements)
            if width in SCREENSHOT_WIDTHS:
                shots = artefact_dir()
                shots.mkdir(parents=True, exist_ok=True)
                slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
                page.screenshot(path=str(shots / f"{slug}-{width}.png"), full_page=True)
        page.set_viewport_size({"width": AXE_WIDTH, "height": HEIGHT})
        return page

    def run_axe(self, page, name: str, *, contrast_only: bool = False) -> None:
        options: dict[str, object] = {"resultTypes": ["violations"]}
        if contrast_only:
            options["runOnly"] = {"type": "rule", "values": ["color-contrast"]}
        else:
            options["runOnly"] = {"type": "tag", "values": WCAG_TAGS}
        results = self.axe.run(page, options=options).response
        for violation in results["violations"]:
            if violation.get("impact") not in BLOCKING_IMPACTS or self.accepted(violation["id"], name):
                continue
            targets = tuple(" ".join(map(str, node["target"])) for node in violation["nodes"])
            summary = violation["nodes"][0].get("failureSummary", "").replace("\n", " ") if violation["nodes"] else ""
            self.findings.append(Finding(name, violation["id"], violation["impact"], targets, summary[:300]))

    @staticmethod
    def accepted(rule: str, name: str) -> bool:
        return (rule, name) in ACCEPTED or (name.startswith("admin:") and (rule, "admin:*") in ACCEPTED)

    def check_layout(self, page, name: str, *, elements: bool = True) -> None:
        # Let the layout settle after a resize (media queries, container queries, fonts).
        page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
        found = page.evaluate(LAYOUT_JS, FIT_SELECTOR)
        if found["scrollWidth"] > found["clientWidth"]:
            self.findings.append(
                Finding(
                    name,
                    "page-scrolls-sideways",
                    "layout",
                    ("html",),
                    f"the document is {found['scrollWidth']} px wide in a {found['clientWidth']} px window",
                )  # fmt: skip
            )
        for item in found["overflows"] if elements else []:
            self.findings.append(
                Finding(
                    name,
                    "content-overflows-box",
                    "layout",
                    (item["target"],),
                    f"its content reaches {item['past']} px past its right edge "
                    f"({item['scrollWidth']} px of content in a {item['clientWidth']} px box)",
                )  # fmt: skip
            )
        for item in found["unfit"]:
            self.findings.append(Finding(name, "does-not-fit", "layout", (item["target"],), item["detail"]))

    def report(self) -> str:
        lines = [str(finding) for finding in self.findings]
        return (
            f"{len(self.findings)} accessibility/layout finding(s) over {len(self.audited)} page states:\n"
            + "\n".join(lines)
        )


# The focused element's focus indicator: its outline (or its ::after's, for a link stretched over a
# card), and the contrast of the outline's colour against the background behind it (WCAG 1.4.11
# asks 3:1 for what shows a state). The outline is drawn outside the box, so "behind" is the
# nearest ancestor with an opaque background.
FOCUS_JS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const linear = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const lum = ([r, g, b]) => 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  let style = getComputedStyle(el);
  if (style.outlineStyle === "none") {
    const after = getComputedStyle(el, "::after");
    if (after.outlineStyle !== "none") style = after;
  }
  let behind = [255, 255, 255];
  for (let n = el.parentElement; n; n = n.parentElement) {
    const c = rgb(getComputedStyle(n).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) { behind = c; break; }
  }
  const [a, b] = [lum(rgb(style.outlineColor)), lum(behind)].sort((x, y) => y - x);
  const r = el.getBoundingClientRect();
  return {
    name: el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + [...el.classList].map((c) => "." + c).join("")
      + ` "${(el.textContent || el.value || "").trim().slice(0, 30)}"`,
    style: style.outlineStyle, width: parseFloat(style.outlineWidth) || 0,
    ratio: Math.round(((a + 0.05) / (b + 0.05)) * 100) / 100,
    visible: r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0 && r.left < innerWidth,
    key: `${Math.round(r.left + scrollX)},${Math.round(r.top + scrollY)}`,
  };
}
"""


def focus_problems(page, where: str, stops: int = 30) -> list[str]:
    """Tab through the page's first `stops` focus stops: each must show a clear focus indicator."""
    problems: list[str] = []
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    seen: set[str] = set()
    for _ in range(stops):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_JS)
        if focus is None or focus["name"] + focus["key"] in seen:
            break  # back at the start: every stop seen
        seen.add(focus["name"] + focus["key"])
        if focus["style"] == "none" or focus["width"] < 2 or focus["ratio"] < 3 or not focus["visible"]:
            problems.append(
                f"{where}: {focus['name']} has focus indicator {focus['style']} {focus['width']}px, "
                f"contrast {focus['ratio']}:1 with what is behind it{'' if focus['visible'] else ', off-screen'}"
            )
    return problems
