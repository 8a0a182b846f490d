"""Minimal browser checks for issue 15's widget and conversation pages: axe-core's serious and critical
violations, and nothing wider than the viewport. (A shared helper replaces these at merge.)"""

from pathlib import Path

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page, include: list[str] | None = None) -> list[str]:
    """Serious and critical axe-core violations on the page (or inside the `include` selectors), as readable lines."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, which the pages' strict CSP does not govern.
        page.evaluate(AXE.read_text() + "\n;undefined")
    found = page.evaluate(
        """async (include) => {
          const context = include ? { include: include.map((s) => [s]) } : document;
          const result = await axe.run(context, { resultTypes: ["violations"] });
          return result.violations.filter((v) => ["serious", "critical"].includes(v.impact))
            .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
        }""",
        include,
    )
    return found


def overflowing(page, selectors: list[str]) -> list[str]:
    """Elements (matching `selectors`) that reach past the viewport's right edge, or past their card's.

    The card bound is what these parts own: a page whose whole layout is wider than a phone (the Widget
    tab before issue 15's mobile work) is the page's fault, not the part's; the shared page-level
    check of the mobile work replaces this at merge.
    """
    return page.evaluate(
        """(selectors) => {
          const width = document.documentElement.clientWidth;
          const out = [];
          for (const s of selectors) for (const el of document.querySelectorAll(s)) {
            const r = el.getBoundingClientRect();
            const card = el.parentElement && el.parentElement.closest(".card");
            const bound = card ? card.getBoundingClientRect().right : width;
            if (r.width && r.right > bound + 1) out.push(`${s}: right edge ${Math.round(r.right)} > ${Math.round(bound)}`);
          }
          return out;
        }""",
        selectors,
    )
