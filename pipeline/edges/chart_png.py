"""Charts as PNG pictures (for slides), from the SVG the page already shows: vl-convert's resvg
rasterises it, so the chart is not drawn again and the picture is the page's chart. The same
SVG gives the same bytes."""

from __future__ import annotations

#: the stage of a run's profile that making pictures of charts counts to
PICTURES = "chart pictures"


def png(svg: str, scale: float = 1.5) -> bytes:
    """A chart's SVG (as drawn for the page) as a PNG picture on white, `scale` times its size
    (1.5: sharp on a projected 16:9 slide)."""
    import io

    import vl_convert as vlc
    from PIL import Image

    from pipeline.core.stopwatch import stage
    from pipeline.edges import chart_cache

    k = chart_cache.key("png", svg, str(scale))
    if (kept := chart_cache.get(k)) is not None:
        return kept
    with stage(PICTURES):
        image = Image.open(io.BytesIO(vlc.svg_to_png(svg, scale=scale))).convert("RGBA")
        if image.getextrema()[3][0] < 255:  # not all opaque: on white, as the page shows it
            image = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image)
        out = io.BytesIO()
        image.convert("RGB").save(out, "PNG", compress_level=1)  # the zip compresses it again
    chart_cache.put(k, out.getvalue())
    return out.getvalue()
