"""The page checks themselves (e2e/checks.py) catch what they are for, so a green audit means something."""

import pytest

from e2e.checks import assert_fits, assert_page_ok, axe_violations, horizontal_overflow


def test_it_finds_a_page_that_scrolls_sideways_at_390_px(page):
    page.set_content('<html lang="en"><title>t</title><main><div id="wide" style="width:600px">x</div></main></html>')
    with pytest.raises(AssertionError, match="div#wide"):
        assert_fits(page)


def test_it_allows_wide_content_inside_its_own_scroller(page):
    page.set_content(
        '<html lang="en"><title>t</title><main><div style="overflow-x:auto" tabindex="0">'
        '<table><tr><td style="min-width:900px">wide</td></tr></table></div></main></html>'
    )
    page.set_viewport_size({"width": 390, "height": 844})
    assert horizontal_overflow(page) is None


def test_it_reports_serious_axe_violations(page):
    page.set_content('<html><title>t</title><main><p style="color:#ccc;background:#fff">grey</p><img src="x.png"></main></html>')
    found = {v["id"] for v in axe_violations(page)}
    assert {"html-has-lang", "color-contrast", "image-alt"} <= found


def test_a_clean_page_passes(page):
    page.set_content('<html lang="en"><title>t</title><main><h1>Hello</h1><p>Plain text.</p></main></html>')
    assert_page_ok(page)
